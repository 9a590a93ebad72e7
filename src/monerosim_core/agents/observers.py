r"""Pure script agents that watch the network: ``scripts.monitor`` and ``scripts.sync_check``.

Both sample every node each ``--interval`` simulated seconds.

- The monitor records each node's height, top hash, mempool size and peer count
  and each wallet's balance (a ``NodeStatusRecord`` per sample).
- The sync check compares the nodes: a **fork** is two nodes holding different
  blocks at the same height; a **lag** is a node behind the highest one for two
  samples in a row (one sample behind is just propagation in flight); a node that
  does not answer is a divergence too. The start
  and the end of each divergence are ``SyncEventRecord``\ s (``diverged``, then
  ``agreed``), with the heights seen and what differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import attrs

from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.config.model import ScriptAgentSpec
from monerosim_core.records.registry import Agent
from monerosim_core.records.schema import (
    NodeReading,
    NodeStatusRecord,
    SyncChange,
    SyncEventRecord,
    WalletReading,
)
from monerosim_core.rpc import RpcError

Reading = TypeVar("Reading", NodeReading, WalletReading)


def _parallel(items: list[Agent], read: Callable[[Agent], Reading]) -> dict[str, Reading]:
    """``read`` every agent at once: each call mostly waits on a daemon, and a
    sample is an action simulated time waits for."""
    if not items:
        return {}
    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        return dict(zip([a.id for a in items], pool.map(read, items), strict=True))


def sample_nodes(rt: AgentRuntime, *, detail: bool = True) -> dict[str, NodeReading]:
    """Each node's height and top hash, or the error; with ``detail`` also its mempool
    size and distinct peers (two more, slower calls: get_info is heavy on a node)."""
    nodes = [a for a in rt.discovery.registry().agents if a.daemon_rpc_port is not None]
    clients = {a.id: rt.daemon(a) for a in nodes}  # created here, used by the threads

    def read(agent: Agent) -> NodeReading:
        if not detail:
            try:
                tip = clients[agent.id].get_tip()
            except RpcError as exc:
                return NodeReading(error=str(exc))
            return NodeReading(height=tip.height, top_hash=tip.hash)
        try:
            info = clients[agent.id].get_info()
            # Two loopback nodes hold a connection each way: count peers, not connections.
            peers = {c.peer_id for c in clients[agent.id].get_connections()}
        except RpcError as exc:
            return NodeReading(error=str(exc))
        return NodeReading(
            height=info.tip.height,
            top_hash=info.tip.hash,
            mempool=info.tx_pool_size,
            peers=len(peers),
        )

    return _parallel(nodes, read)


def sample_wallets(rt: AgentRuntime, wallets: list[Agent]) -> dict[str, WalletReading]:
    """Each wallet's total and unlocked balance (as of the last block), or the error."""
    for agent in wallets:  # clients created here, used by the threads
        rt.wallet(agent)
        rt.daemon(agent)

    def read(agent: Agent) -> WalletReading:
        try:
            balance = rt.balance(agent)
        except RpcError as exc:
            return WalletReading(error=str(exc))
        return WalletReading(balance=balance.balance, unlocked=balance.unlocked_balance)

    return _parallel(wallets, read)


def _every_interval(rt: AgentRuntime, interval: float) -> Iterator[None]:
    """Yield once per ``interval`` simulated seconds from now until the run ends."""
    next_time = rt.now()
    while True:
        yield
        next_time += interval
        if not rt.sleep_until(next_time):
            return


@attrs.define
class Monitor:
    rt: AgentRuntime
    spec: ScriptAgentSpec

    def run(self) -> None:
        self.rt.run.node_status.touch()
        for _ in _every_interval(self.rt, self.spec.interval):
            self.rt.run.node_status.append(
                NodeStatusRecord(
                    sim_time=self.rt.now(),
                    wall_time=time.time(),
                    nodes=sample_nodes(self.rt),
                    wallets=sample_wallets(self.rt, self.rt.discovery.get_wallet_agents()),
                )
            )


@attrs.define
class SyncCheck:
    rt: AgentRuntime
    spec: ScriptAgentSpec
    diverged_since: float | None = None  # sim time the open divergence was first seen
    open_detail: str = ""
    behind_once: set[str] = attrs.field(factory=set)

    def run(self) -> None:
        self.rt.run.sync_events.touch()
        for _ in _every_interval(self.rt, self.spec.interval):
            self.check()
        if self.diverged_since is not None:
            self.rt.log.warning("divergence still open at the end: %s", self.open_detail)

    def check(self) -> None:
        readings = {k: v for k, v in sample_nodes(self.rt, detail=False).items() if v.error is None}
        heights = {k: v.height for k, v in readings.items() if v.height is not None}
        detail = self.divergence(readings)
        now = self.rt.now()
        if detail and self.diverged_since is None:
            self.diverged_since, self.open_detail = now, detail
            self._record("diverged", now, heights, detail)
            self.rt.log.warning("nodes diverge: %s", detail)
        elif not detail and self.diverged_since is not None:
            self._record("agreed", now, heights, "")
            self.rt.log.info("nodes agree again after %.1f simulated s", now - self.diverged_since)
            self.diverged_since = None

    def _record(
        self, change: SyncChange, now: float, heights: Mapping[str, int], detail: str
    ) -> None:
        self.rt.run.sync_events.append(
            SyncEventRecord(
                agent=self.rt.agent_id, change=change, sim_time=now, heights=heights, detail=detail
            )
        )

    def divergence(self, nodes: Mapping[str, NodeReading]) -> str:
        """'' when the nodes agree, else what differs."""
        heights = {k: v.height for k, v in nodes.items() if v.height is not None}
        if not heights:
            return ""
        top = max(heights.values())
        at_top = {v.top_hash for v in nodes.values() if v.height == top}
        if len(at_top) > 1:
            return f"fork at height {top}: {len(at_top)} different top blocks"
        behind = {k for k, h in heights.items() if h < top}
        lagging = behind & self.behind_once
        self.behind_once = behind
        if lagging:
            return f"{', '.join(sorted(lagging))} behind height {top} for two samples"
        return ""
