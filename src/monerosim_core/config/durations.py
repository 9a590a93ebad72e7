"""Durations as researchers write them: "3h", "90m", "600s", "250ms" or bare seconds."""

from __future__ import annotations

import math
import re

_SECONDS_PER_UNIT = {
    **dict.fromkeys(("ms", "msec", "millisecond", "milliseconds"), 0.001),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
}

# Beyond this an int no longer converts to float (OverflowError); no run is that long.
_FAR_FUTURE = 1e300

_DURATION = re.compile(r"\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-zA-Z]*)\s*")


def parse_duration(value: str | float) -> float:
    """The number of seconds ``value`` stands for.

    A number, or a string holding one, is seconds; a string may end in a unit
    (ms, s, m, h, d, or the words sec, min, hour, day and their plurals). Units
    are case-insensitive: "3H" is three hours.

    :raises ValueError: for anything else, including negative, infinite and
        boolean values.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) if abs(value) < _FAR_FUTURE else math.inf
    else:
        match = _DURATION.fullmatch(value)
        unit = match["unit"].lower() if match else ""
        if match is None or (unit and unit not in _SECONDS_PER_UNIT):
            raise ValueError(f"not a duration: {value!r}")
        seconds = float(match["number"]) * _SECONDS_PER_UNIT.get(unit, 1.0)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"not a duration: {value!r}")
    return seconds
