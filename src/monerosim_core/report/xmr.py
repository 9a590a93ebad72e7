"""Atomic units shown as XMR, exactly."""

from __future__ import annotations

ATOMIC_PER_XMR = 10**12


def format_xmr(atomic: int, *, signed: bool = False) -> str:
    """``atomic`` as XMR with all 12 decimals, by integer arithmetic so nothing rounds."""
    sign = "-" if atomic < 0 else ("+" if signed and atomic > 0 else "")
    whole, frac = divmod(abs(atomic), ATOMIC_PER_XMR)
    return f"{sign}{whole}.{frac:012d}"
