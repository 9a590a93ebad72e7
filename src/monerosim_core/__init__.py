"""monerosim: simulate a Monero proof-of-work network with real regtest daemons."""

from __future__ import annotations

from monerosim_core.hookspecs import SelectionError, hookimpl

__all__ = ["SelectionError", "hookimpl"]
