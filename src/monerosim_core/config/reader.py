"""The one generic field reader every config section is read through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import attrs

from monerosim_core.config.converters import Conv, Unfit
from monerosim_core.config.errors import ProblemLog, did_you_mean
from monerosim_core.config.model import SourcePos
from monerosim_core.config.yaml_source import Entry, Node, describe, mapping_entries, sequence_items

T = TypeVar("T")


@attrs.define
class MappingReader:
    """Reads one mapping key by key, logging every problem instead of stopping.

    The keys a section asks for are its known keys: :meth:`finish` reports every
    other key as unknown, with a did-you-mean, so a section never lists its keys
    twice. A null value (``key:`` with nothing after it) counts as absent unless
    ``null_is_absent`` is off (an option written without its value).
    """

    key: str  # dotted path of the mapping
    pos: SourcePos  # where it starts; missing keys are reported here
    log: ProblemLog
    entries: Mapping[str, Entry]
    noun: str = "key"  # "option" when the entries come from an argument list
    null_is_absent: bool = True
    _asked: dict[str, None] = attrs.field(factory=dict, init=False)  # an ordered set
    _failed: set[str] = attrs.field(factory=set, init=False)

    @classmethod
    def open(cls, node: Node, log: ProblemLog, expected: str = "a mapping") -> MappingReader | None:
        entries = mapping_entries(node)
        if entries is None:
            log.error(node.pos, node.key, f"expected {expected}, found {describe(node.value)}")
            return None
        return cls(node.key, node.pos, log, {entry.name: entry for entry in entries})

    def key_of(self, name: str) -> str:
        """The dotted key of ``name`` in this mapping."""
        return f"{self.key}.{name}" if self.key else name

    def child(self, name: str, *, required: str | None = None) -> Node | None:
        """The non-null value under ``name``, or ``None``.

        :param required: what the missing value should have been; given, a
            missing or null value is logged as a problem.
        """
        self._asked[name] = None
        entry = self.entries.get(name)
        if entry is not None and (entry.value.value is not None or not self.null_is_absent):
            return entry.value
        if required is not None:
            self._failed.add(name)
            if entry is None:
                self.log.error(
                    self.pos,
                    self.key_of(name),
                    f"required {self.noun} is missing; expected {required}",
                )
            else:
                self.log.error(
                    entry.value.pos, entry.value.key, f"expected {required}, found nothing"
                )
        return None

    def find(self, name: str, conv: Conv[T]) -> T | None:
        """The converted value, or ``None`` when absent or unfit (logged)."""
        return self._convert(name, self.child(name), conv)

    def get(self, name: str, conv: Conv[T], default: T) -> T:
        found = self.find(name, conv)
        return default if found is None else found

    def require(self, name: str, conv: Conv[T]) -> T | None:
        return self._convert(name, self.child(name, required=conv.expected), conv)

    def section(self, name: str, expected: str, *, required: bool = False) -> MappingReader | None:
        node = self.child(name, required=expected if required else None)
        if node is None:
            return None
        reader = MappingReader.open(node, self.log, expected)
        if reader is None:
            self._failed.add(name)
        return reader

    def items(self, name: str, expected: str, *, required: bool = False) -> list[Node] | None:
        node = self.child(name, required=expected if required else None)
        if node is None:
            return None
        items = sequence_items(node)
        if items is None:
            self._unfit(name, node, expected)
        return items

    def ok(self, *names: str) -> bool:
        """Whether none of ``names`` was unfit, missing though required, or had a problem.

        Checks that combine values skip when one of them was wrong, so a single
        mistake is reported once and not again as a phantom follow-up.
        """
        return self._failed.isdisjoint(names)

    def problem(self, name: str, message: str) -> None:
        """Log ``message`` at the value of ``name`` (at the mapping if absent)."""
        self._failed.add(name)
        self.log.error(*self._where(name), message)

    def warning(self, name: str, message: str) -> None:
        self.log.warn(*self._where(name), message)

    def finish(self) -> None:
        """Log every key that no read asked for."""
        for name, entry in self.entries.items():
            if name in self._asked:
                continue
            hint = did_you_mean(name, self._asked) or "known: " + ", ".join(self._asked)
            self.log.error(entry.pos, entry.key, f"unknown {self.noun} '{name}'; {hint}")

    def _convert(self, name: str, node: Node | None, conv: Conv[T]) -> T | None:
        if node is None:
            return None
        try:
            return conv.parse(node)
        except Unfit as unfit:
            self._unfit(name, node, conv.expected, str(unfit))
            return None

    def _unfit(self, name: str, node: Node, expected: str, hint: str = "") -> None:
        self._failed.add(name)
        message = f"expected {expected}, found {describe(node.value)}"
        self.log.error(node.pos, node.key, f"{message}; {hint}" if hint else message)

    def _where(self, name: str) -> tuple[SourcePos, str]:
        entry = self.entries.get(name)
        return (
            (self.pos, self.key_of(name)) if entry is None else (entry.value.pos, entry.value.key)
        )
