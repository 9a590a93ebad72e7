"""Number formats shared by the markdown and terminal renderings."""

from __future__ import annotations

from collections.abc import Callable

NOT_RECORDED = "not recorded"


def pct(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f}%"


def secs(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} s"


def millis(value: float | None) -> str:
    """Seconds shown in milliseconds (propagation delays are a few ms)."""
    return "" if value is None else f"{1000 * value:.1f} ms"


def short(h: str | None) -> str:
    return "" if h is None else h[:12]


def opt(value: int | None, show: Callable[[int], str] = str) -> str:
    return "" if value is None else show(value)
