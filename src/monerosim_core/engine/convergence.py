"""Waiting for a network to form and to agree: peering and a common tip."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping

from monerosim_core.rpc import ChainTip, DaemonClient, RpcError


class ConvergenceTimeout(Exception):
    """Nodes did not peer, or did not agree on a tip, within the time allowed."""


def wait_peered(
    daemons: Mapping[str, DaemonClient], expected: int | Mapping[str, int], *, timeout: float
) -> dict[str, int]:
    """Wait until each node has completed a handshake with at least ``expected``
    distinct peers (a number for all, or per node name); returns the counts.
    In a full mesh of n nodes pass ``n - 1``."""
    need = expected if isinstance(expected, Mapping) else dict.fromkeys(daemons, expected)

    def peers(client: DaemonClient) -> int:
        conns = client.get_connections()
        return len({c.peer_id for c in conns if c.state != "before_handshake"})

    counts: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while True:
        for name, client in daemons.items():
            with contextlib.suppress(RpcError):
                counts[name] = peers(client)
        if all(counts.get(n, 0) >= need.get(n, 0) for n in daemons):
            return counts
        if time.monotonic() > deadline:
            shown = ", ".join(f"{n}: {counts.get(n, '?')}/{need.get(n, 0)}" for n in daemons)
            raise ConvergenceTimeout(
                f"nodes not peered after {timeout:g} s (peers/needed: {shown})"
            )
        time.sleep(0.2)


def wait_synced(
    daemons: Mapping[str, DaemonClient], *, min_height: int = 0, timeout: float
) -> ChainTip:
    """Wait until every node reports the same top block, at a height (genesis = 0)
    of at least ``min_height``; returns that tip."""
    tips: dict[str, ChainTip | str] = {}
    deadline = time.monotonic() + timeout
    while True:
        for name, client in daemons.items():
            try:
                tips[name] = client.get_tip()
            except RpcError as exc:
                tips[name] = str(exc)
        distinct = set(tips.values())
        if len(distinct) == 1:
            (tip,) = distinct
            if isinstance(tip, ChainTip) and tip.height >= min_height:
                return tip
        if time.monotonic() > deadline:
            shown = "; ".join(
                f"{n}: h={t.height} {t.hash[:12]}" if isinstance(t, ChainTip) else f"{n}: {t}"
                for n, t in tips.items()
            )
            raise ConvergenceTimeout(
                f"nodes not in sync at height >= {min_height} after {timeout:g} s ({shown})"
            )
        time.sleep(0.1)
