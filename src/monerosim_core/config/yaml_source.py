"""The config file as YAML nodes that remember their dotted key and position.

ruamel.yaml's round-trip loader keeps 0-based line/column data on every mapping
and sequence; this module turns it into 1-based :class:`SourcePos` values and
plain Python scalars, so nothing past it touches ruamel types.
"""

from __future__ import annotations

import json

import attrs
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from monerosim_core.config.errors import ProblemLog
from monerosim_core.config.model import SourcePos


@attrs.frozen
class Node:
    """A value from the file: a plain scalar (str, int, float, bool, None) or a
    ruamel mapping / sequence, with its dotted key path and where it is written."""

    value: object
    key: str
    pos: SourcePos

    def child_key(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name


@attrs.frozen
class Entry:
    """One key of a mapping (or one option of an argument list)."""

    name: str
    key: str  # the dotted path problems about the entry itself name
    pos: SourcePos  # where the key is written
    value: Node


def load_yaml(path: str, log: ProblemLog) -> Node | None:
    """The document in ``path`` as the root node, or ``None`` after logging why not."""
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        log.error(None, "", f"cannot read config file {json.dumps(path)}: {reason}")
        return None
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = None if mark is None else _pos(path, mark.line, mark.column)
        log.error(pos, "", f"invalid YAML: {_marked_reason(exc)}")
        return None
    except ReaderError as exc:
        offset = int(exc.position)
        line, col = text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)
        log.error(_pos(path, line, col), "", f"invalid YAML: {str(exc).splitlines()[0]}")
        return None
    except (ValueError, TypeError) as exc:
        # What YAML accepts but Python cannot build fails without a position:
        # month 13 in a date, an int of 5000 digits, a mapping used as a key.
        log.error(None, "", f"invalid YAML in {json.dumps(path)}: {exc}")
        return None
    return Node(_plain(document), "", SourcePos(path, 1, 1))


def _marked_reason(exc: MarkedYAMLError) -> str:
    reason = exc.problem or "syntax error"
    context = exc.context_mark
    if exc.context and context is not None and context is not exc.problem_mark:
        # Where the unclosed bracket or the first of two duplicate keys is.
        return f"{reason} ({exc.context} at line {context.line + 1}, column {context.column + 1})"
    return f"{exc.context}: {reason}" if exc.context else reason


def mapping_entries(node: Node) -> list[Entry] | None:
    """The entries of a mapping node in file order; ``None`` if it is no mapping."""
    mapping = node.value
    if not isinstance(mapping, CommentedMap):
        return None
    entries = []
    for name, value in mapping.items():
        # Keys pulled in by a YAML merge (`<<: *base`) have no position of
        # their own; the mapping that merged them is the closest honest place.
        line_cols = mapping.lc.data.get(name)
        if line_cols is None:
            key_pos = value_pos = node.pos
        else:
            key_pos = _pos(node.pos.file, line_cols[0], line_cols[1])
            # ruamel places a null value at the next token, often the next key.
            value_pos = key_pos if value is None else _pos(node.pos.file, *line_cols[2:4])
        key = node.child_key(str(name))
        entries.append(Entry(str(name), key, key_pos, Node(_plain(value), key, value_pos)))
    return entries


def sequence_items(node: Node) -> list[Node] | None:
    """The items of a sequence node; ``None`` if it is no sequence."""
    sequence = node.value
    if not isinstance(sequence, CommentedSeq):
        return None
    items = []
    for index, value in enumerate(sequence):
        line_col = sequence.lc.data.get(index)
        pos = node.pos if line_col is None else _pos(node.pos.file, *line_col)
        items.append(Node(_plain(value), f"{node.key}[{index}]", pos))
    return items


def describe(value: object) -> str:
    """How a found value reads in a message: strings quoted, containers named."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
        # A pasted blob or a 300-digit number would drown the message.
        return shown if len(shown) <= _LONGEST_SHOWN else shown[: _LONGEST_SHOWN - 3] + "..."
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list"
    return f"a {type(value).__name__}"


_LONGEST_SHOWN = 60


def _pos(file: str, line: int, col: int) -> SourcePos:
    return SourcePos(file, line + 1, col + 1)


def _plain(value: object) -> object:
    # ruamel wraps anchored or formatted scalars in subclasses (ScalarBoolean is an
    # int, not a bool); converters and frozen values want the plain types.
    if isinstance(value, ScalarBoolean | bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value
