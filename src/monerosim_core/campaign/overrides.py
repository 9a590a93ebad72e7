"""Overrides: a dotted path into the scenario's YAML document and the value to put there.

A path names keys and list items the way config errors do:
``agents.user_agents[8].attributes.miner_selection_strategy``. Overrides are
applied to the round-trip YAML document, not to the typed scenario, so the result
is an ordinary scenario file that the normal loader validates (with its positions).

Script agents take their settings as command-line options (``arguments:
["--interval 120"]``); for them a path may name the option as a key:
``agents.block_controller.interval`` sets ``--interval`` (``_`` reads as ``-``),
replacing the option wherever the list had it. This applies to a mapping that has
a ``script`` key and no key of that name.
"""

from __future__ import annotations

import re
import shlex

import attrs
from ruamel.yaml.comments import CommentedMap, CommentedSeq

Scalar = str | int | float | bool
Value = Scalar | tuple[Scalar, ...]

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")
_SCRIPT_KEY = "script"
_ARGUMENTS = "arguments"


class OverrideError(Exception):
    """An override that cannot be applied; the message says where the path fails."""


@attrs.frozen
class OverridePath:
    """A parsed dotted path: mapping keys (str) and list indexes (int)."""

    text: str
    steps: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> OverridePath:
        """:raises OverrideError: when ``text`` is not a dotted path."""
        steps: list[str | int] = []
        for part in text.split("."):
            match = _SEGMENT.fullmatch(part)
            if match is None:
                raise OverrideError(
                    f"{text!r} is not a dotted path such as "
                    "agents.user_agents[0].attributes.hashrate"
                )
            steps.append(match[1])
            steps += [int(i) for i in _INDEX.findall(match[2])]
        return cls(text, tuple(steps))

    def __str__(self) -> str:
        return self.text


def apply_override(document: object, path: OverridePath, value: Value) -> None:
    """Set ``path`` in ``document`` (a round-trip YAML mapping) to ``value``, in place.

    Missing mapping keys on the way are created (the loader then judges them);
    a list index must exist.
    """
    node = document
    for depth, step in enumerate(path.steps[:-1]):
        node = _child(node, step, path, depth, create=not isinstance(path.steps[depth + 1], int))
    last = path.steps[-1]
    plain = list(value) if isinstance(value, tuple) else value
    if isinstance(last, int):
        _check_index(node, last, path, len(path.steps) - 1)
        assert isinstance(node, CommentedSeq)
        node[last] = plain
    elif not isinstance(node, CommentedMap):
        raise OverrideError(f"{_prefix(path, len(path.steps) - 1)} is not a mapping")
    elif last not in node and _SCRIPT_KEY in node:
        _set_option(node, last, value, path)
    else:
        node[last] = plain


def _prefix(path: OverridePath, depth: int) -> str:
    """The path up to (not including) step ``depth``, as text."""
    text = ""
    for step in path.steps[:depth]:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "the scenario"


def _child(
    node: object, step: str | int, path: OverridePath, depth: int, *, create: bool
) -> object:
    if isinstance(step, int):
        _check_index(node, step, path, depth)
        assert isinstance(node, CommentedSeq)
        return node[step]
    if not isinstance(node, CommentedMap):
        raise OverrideError(f"{_prefix(path, depth)} is not a mapping, so it has no key {step!r}")
    if step not in node:
        if not create:
            raise OverrideError(f"{_prefix(path, depth)} has no key {step!r} (a list is expected)")
        node[step] = CommentedMap()
    return node[step]


def _check_index(node: object, index: int, path: OverridePath, depth: int) -> None:
    where = _prefix(path, depth)
    if not isinstance(node, CommentedSeq):
        raise OverrideError(f"{where} is not a list, so it has no item [{index}]")
    if index >= len(node):
        raise OverrideError(
            f"{where} has {len(node)} item{'s' if len(node) != 1 else ''}; "
            f"[{index}] is out of range"
        )


def _set_option(script: CommentedMap, name: str, value: Value, path: OverridePath) -> None:
    option = "--" + name.replace("_", "-")
    if isinstance(value, tuple):
        raise OverrideError(f"{path}: the option {option} takes one value, not a list")
    items = script.get(_ARGUMENTS)
    if items is None:
        items = script[_ARGUMENTS] = CommentedSeq()
    if not isinstance(items, CommentedSeq):
        raise OverrideError(f"{_prefix(path, len(path.steps) - 1)}.{_ARGUMENTS} is not a list")
    kept = _without_option(items, option, path)
    items.clear()
    items.extend(kept)
    items.append(shlex.join([option, _option_text(value)]))


def _option_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _without_option(items: CommentedSeq, option: str, path: OverridePath) -> list[object]:
    """The argument items with ``option`` and its value taken out (as the config
    reader pairs them: ``--opt=v``, ``--opt v`` in one item, or the value in the
    next item)."""
    kept: list[object] = []
    drop_value = False
    for item in items:
        try:
            tokens = shlex.split(str(item))
        except ValueError as exc:
            raise OverrideError(f"{path}: cannot split the argument {item!r}: {exc}") from None
        left = []
        for token in tokens:
            if drop_value:
                drop_value = False
                if not token.startswith("--"):
                    continue
            if token == option:
                drop_value = True
            elif not token.startswith(option + "="):
                left.append(token)
        if left == tokens:
            kept.append(item)  # untouched items keep their exact text
        elif left:
            kept.append(shlex.join(left))
    return kept
