"""Typed records to JSON and back, checked against the class's own annotations.

Writers and readers share one class per record (:mod:`~monerosim_core.records.schema`),
so a field is named and typed once. :func:`encode` turns a frozen attrs record into
JSON values; :func:`decode` builds the record from JSON, checking every field's type
and naming the place, field, what was expected and what was found when one is wrong.

Supported field types: ``int``, ``float`` (finite; an int is accepted), ``str``,
``bool``, ``Literal[...]`` of strings, ``X | None``, ``tuple[X, ...]``,
``Mapping[str, X]`` and nested attrs classes. A field with a default may be absent.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, Union

import attrs

R = TypeVar("R")


class RecordFormatError(ValueError):
    """A JSON value that does not have the shape of its record; the message says where."""


def encode(record: Any) -> dict[str, Any]:
    """The record as a JSON object (tuples become lists)."""
    return attrs.asdict(record)


def decode(cls: type[R], doc: object, where: str) -> R:
    """Build ``cls`` from the JSON value ``doc``; :class:`RecordFormatError` if it does not fit."""
    return typing.cast(R, _decode_value(cls, doc, where))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode_record(cls: type, doc: object, where: str) -> object:
    if not isinstance(doc, dict):
        raise RecordFormatError(f"{where}: expected an object, found {describe(doc)}")
    hints = _hints(cls)
    values = {}
    for field in attrs.fields(cls):
        if field.name not in doc:
            if field.default is attrs.NOTHING:
                raise RecordFormatError(f"{where}: field {field.name!r} is missing")
            continue
        values[field.name] = _decode_value(
            hints[field.name], doc[field.name], f"{where}: field {field.name!r}"
        )
    return cls(**values)


def _decode_value(kind: Any, value: object, where: str) -> object:
    origin = typing.get_origin(kind)
    if attrs.has(kind):
        return _decode_record(kind, value, where)
    if origin in (Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _decode_value(inner, value, where)
    if origin is typing.Literal:
        allowed = typing.get_args(kind)
        if value not in allowed:
            raise _unfit(where, " or ".join(repr(a) for a in allowed), value)
        return value
    if origin is tuple:
        (item, _ellipsis) = typing.get_args(kind)
        if not isinstance(value, list):
            raise _unfit(where, "a list", value)
        return tuple(_decode_value(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is Mapping or origin is dict:
        _key, item = typing.get_args(kind)
        if not isinstance(value, dict):
            raise _unfit(where, "an object", value)
        return {k: _decode_value(item, v, f"{where}.{k}") for k, v in value.items()}
    return _decode_scalar(kind, value, where)


def _decode_scalar(kind: Any, value: object, where: str) -> object:
    if kind is bool:
        if not isinstance(value, bool):
            raise _unfit(where, "true or false", value)
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _unfit(where, "an integer", value)
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _unfit(where, "a number", value)
        if not math.isfinite(value):
            raise _unfit(where, "a finite number", value)
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise _unfit(where, "a string", value)
        return value
    raise TypeError(f"{where}: records cannot hold a {kind!r}")  # a bug in a record class


def _unfit(where: str, expected: str, value: object) -> RecordFormatError:
    return RecordFormatError(f"{where}: expected {expected}, found {describe(value)}")


def describe(value: object) -> str:
    """How a found JSON value reads in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
