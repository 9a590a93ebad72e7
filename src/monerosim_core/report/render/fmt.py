"""Number formats shared by the markdown and terminal renderings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

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


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A markdown table, as lines."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def md_cell(value: str) -> str:
    """``value`` made safe for a table cell."""
    # A pipe or newline inside an error message would break the markdown table.
    return value.replace("|", "\\|").replace("\n", " ")


def count(n: int, noun: str) -> str:
    """``1 test``, ``3 tests``: a count with its noun, plural when it is not one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
