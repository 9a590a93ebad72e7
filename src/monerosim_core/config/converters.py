"""Converters: each turns one YAML value into a typed value, or says what it wanted.

A :class:`Conv` pairs the parsing function with the words for what it accepts,
so every mismatch reads the same way: ``expected <what>, found <value>``.
Numbers may be written as strings ("25"), as the design examples do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Generic, TypeVar

import attrs

from monerosim_core.config.durations import parse_duration
from monerosim_core.config.errors import did_you_mean
from monerosim_core.config.model import StrategyRef
from monerosim_core.config.yaml_source import Node

T = TypeVar("T")


class Unfit(Exception):
    """The value does not fit; the message, if any, is a hint added to the problem."""


@attrs.frozen
class Conv(Generic[T]):
    expected: str  # completes "expected ...", e.g. "a positive number (percent)"
    parse: Callable[[Node], T]  # raises Unfit


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unfit
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int too big for a float
        raise Unfit from None
    if not math.isfinite(number):
        raise Unfit
    return number


def _bounded(expected: str, fits: Callable[[float], bool]) -> Conv[float]:
    def parse(node: Node) -> float:
        number = _number(node.value)
        if not fits(number):
            raise Unfit
        return number

    return Conv(expected, parse)


def positive_number(unit: str | None = None) -> Conv[float]:
    return _bounded(f"a positive number{f' ({unit})' if unit else ''}", lambda n: n > 0)


def number_between(low: float, high: float, unit: str) -> Conv[float]:
    return _bounded(f"a number from {low:g} to {high:g} ({unit})", lambda n: low <= n <= high)


PERCENTAGE = _bounded("a percentage from 0 to 100", lambda n: 0 <= n <= 100)
FRACTION = _bounded("a fraction from 0 to 1 (0.01 is 1 %)", lambda n: 0 <= n <= 1)


def whole_number(minimum: int | None = None, maximum: int | None = None) -> Conv[int]:
    if minimum is not None and maximum is not None:
        expected = f"a whole number from {minimum} to {maximum}"
    elif minimum is not None:
        expected = f"a whole number of at least {minimum}"
    else:
        expected = "a whole number"

    def parse(node: Node) -> int:
        number = _number(node.value)
        if not number.is_integer():
            raise Unfit
        whole = int(number)
        if (minimum is not None and whole < minimum) or (maximum is not None and whole > maximum):
            raise Unfit
        return whole

    return Conv(expected, parse)


def _boolean(node: Node) -> bool:
    value = node.value
    if isinstance(value, bool):
        return value
    # The design examples write is_miner: 'true'; YAML 1.2 keeps that a string.
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Unfit


BOOLEAN = Conv("true or false", _boolean)


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unfit
    try:
        return parse_duration(value)
    except ValueError:
        raise Unfit from None


def _positive_duration(node: Node) -> float:
    seconds = _seconds(node.value)
    if seconds <= 0:
        raise Unfit
    return seconds


DURATION = Conv(
    'a positive duration such as "3h", "90m", "600s" or a number of seconds',
    _positive_duration,
)

NON_NEGATIVE_DURATION = Conv(
    'a duration such as "5s", "500ms" or a number of seconds (0 or more)',
    lambda node: _seconds(node.value),
)


def _latency_ms(node: Node) -> float:
    try:
        milliseconds = _number(node.value)  # a bare number is milliseconds
    except Unfit:
        milliseconds = _seconds(node.value) * 1000.0  # "10ms", "0.5s"
    if milliseconds < 0:
        raise Unfit
    return milliseconds


LATENCY = Conv('a latency such as "10ms" or a number of milliseconds', _latency_ms)

_BANDWIDTH_PATTERN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?(bit|byte|b)\s*", re.IGNORECASE)


_SI_PREFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def bandwidth_bits(text: str) -> int:
    """Bits per second of a bandwidth as :data:`BANDWIDTH` accepts it ("100 Mbit",
    "1 Gbit", "500 KiB"); "B" alone is bytes, "b" bits. Raises ValueError."""
    match = _BANDWIDTH_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"not a bandwidth: {text!r}")
    prefix = (match[2] or "").lower()
    binary = prefix.endswith("i")  # "Ki", "Mi": powers of 1024
    factor = 1024 ** ("kmgt".index(prefix[0]) + 1) if binary else _SI_PREFIX[prefix]
    unit = match[3]
    per_unit = 8 if unit.lower() == "byte" or unit == "B" else 1
    return round(float(match[1]) * factor * per_unit)


def _bandwidth(node: Node) -> str:
    value = node.value
    if not isinstance(value, str):
        raise Unfit
    try:
        bits = bandwidth_bits(value)
    except ValueError:
        raise Unfit from None
    if bits <= 0:
        raise Unfit
    return value.strip()


BANDWIDTH = Conv('a bandwidth such as "1 Gbit" or "100 Mbit"', _bandwidth)


def choice(options: Mapping[str, T]) -> Conv[T]:
    """One of the names in ``options`` (case-insensitive), giving its value."""
    by_lower = {name.lower(): value for name, value in options.items()}

    def parse(node: Node) -> T:
        value = node.value
        if not isinstance(value, str):
            raise Unfit
        name = value.strip().lower()
        if name not in by_lower:
            raise Unfit(did_you_mean(name, options))
        return by_lower[name]

    return Conv("one of " + ", ".join(f'"{name}"' for name in options), parse)


def one_of(*names: str) -> Conv[str]:
    return choice({name: name for name in names})


def _plugin_name(node: Node) -> StrategyRef:
    value = node.value
    if not isinstance(value, str):
        raise Unfit
    # Entry-point names are identifiers; "round-robin" is how people say round_robin.
    name = value.strip().replace("-", "_")
    if not name.isidentifier():
        raise Unfit
    return StrategyRef(name, node.key, node.pos)


def plugin_name(kind: str, example: str) -> Conv[StrategyRef]:
    """The name of an installed plugin (its entry point), checked later against them."""
    return Conv(f"a {kind} name such as \"{example}\" (letters, digits, '_' or '-')", _plugin_name)


STRATEGY = plugin_name("strategy", "weighted")
MINING_BEHAVIOUR = plugin_name("mining behaviour", "selfish")


def existing_file(base_dir: Path, kind: str) -> Conv[str]:
    """A path to an existing file, relative paths taken from ``base_dir``."""

    def parse(node: Node) -> str:
        if not isinstance(node.value, str) or not node.value.strip():
            raise Unfit
        path = base_dir / node.value.strip()
        if not path.is_file():
            raise Unfit(f"no such file: {path}")
        return str(path)

    return Conv(f"the path of a {kind} file", parse)
