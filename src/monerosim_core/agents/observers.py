r"""Pure script agents that watch the network: ``scripts.monitor`` and ``scripts.sync_check``.

Both sample every node each ``--interval`` simulated seconds.

- The monitor records each node's height, top hash, mempool size and peer count
  and each wallet's balance (a ``NodeStatusRecord`` per sample).
- The sync check compares the nodes: a **fork** is two nodes holding different
  blocks at the same height; a **lag** is a node behind the highest one for two
  samples in a row (one sample behind is just propagation in flight). The start
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
    """``read`` every agent at once: each call mostly waits on a daemon, and one
    after another they take longer than a sampling interval at high speed."""
    if not items:
        return {}
    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        return dict(zip([a.id for a in items], pool.map(read, items), strict=True))


def sample_nodes(rt: AgentRuntime) -> dict[str, NodeReading]:
    """Each node's height, top hash, mempool size and distinct peers, or the error."""
    nodes = [a for a in rt.discovery.registry().agents if a.daemon_rpc_port is not None]
    clients = {a.id: rt.daemon(a) for a in nodes}  # created here, used by the threads

    def read(agent: Agent) -> NodeReading:
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
    """Each wallet's total and unlocked balance after a refresh, or the error."""
    clients = {a.id: rt.wallet(a) for a in wallets}

    def read(agent: Agent) -> WalletReading:
        try:
            balance = clients[agent.id].get_balance(refresh=True)
        except RpcError as exc:
            return WalletReading(error=str(exc))
        return WalletReading(balance=balance.balance, unlocked=balance.unlocked_balance)

    return _parallel(wallets, read)


def _every_interval(rt: AgentRuntime, interval: float) -> Iterator[None]:
    """Yield once per ``interval`` simulated seconds until the run ends; say so
    (once) when one round takes longer than the interval, as it can at high speed."""
    next_time = rt.clock.now()
    warned = False
    while rt.running():
        yield
        next_time += interval
        if not warned and rt.clock.now() > next_time:
            warned = True
            rt.log.warning(
                "sampling took longer than --interval %g s at this speed; samples come late",
                interval,
            )
        if not rt.sleep_until(next_time):
            return


@attrs.define
class Monitor:
    rt: AgentRuntime
    spec: ScriptAgentSpec

    def run(self) -> None:
        for _ in _every_interval(self.rt, self.spec.interval):
            self.rt.run.node_status.append(
                NodeStatusRecord(
                    sim_time=round(self.rt.clock.now(), 3),
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
        for _ in _every_interval(self.rt, self.spec.interval):
            self.check()
        if self.diverged_since is not None:
            self.rt.log.warning("divergence still open at the end: %s", self.open_detail)

    def check(self) -> None:
        readings = {k: v for k, v in sample_nodes(self.rt).items() if v.error is None}
        heights = {k: v.height for k, v in readings.items() if v.height is not None}
        detail = self.divergence(readings)
        now = round(self.rt.clock.now(), 3)
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
