"""Pure script agents that watch the network: ``scripts.monitor`` and ``scripts.sync_check``.

Both sample every node each ``--interval`` simulated seconds.

- The monitor records each node's height, top hash, mempool size and peer count
  and each wallet's balance into ``shared/node_status.json``.
- The sync check compares the nodes: a **fork** is two nodes holding different
  blocks at the same height; a **lag** is a node behind the highest one for two
  samples in a row (one sample behind is just propagation in flight). Each
  divergence is recorded in ``shared/sync_events.json`` with when it started,
  when it ended (null while it lasts) and the heights seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.registry import Agent
from monerosim_core.rpc_errors import RpcError
from monerosim_core.scenario import ScriptAgentSpec
from monerosim_core.state_files import append_record, update_records

NODE_STATUS_FILE = "node_status.json"
SYNC_EVENTS_FILE = "sync_events.json"


def _parallel(
    items: list[Agent], read: Callable[[Agent], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``read`` every agent at once: each call mostly waits on a daemon, and one
    after another they take longer than a sampling interval at high speed."""
    if not items:
        return {}
    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        return dict(zip([a.id for a in items], pool.map(read, items), strict=True))


def sample_nodes(rt: AgentRuntime) -> dict[str, dict[str, Any]]:
    """Each node's height, top hash, mempool size and distinct peers, or the error."""
    nodes = [a for a in rt.discovery.registry().agents if a.daemon_rpc_port is not None]
    clients = {a.id: rt.daemon(a) for a in nodes}  # created here, used by the threads

    def read(agent: Agent) -> dict[str, Any]:
        try:
            info = clients[agent.id].get_info()
            # Two loopback nodes hold a connection each way: count peers, not connections.
            peers = {c.peer_id for c in clients[agent.id].get_connections()}
        except RpcError as exc:
            return {"error": str(exc)}
        return {
            "height": info.height - 1,
            "top_hash": info.top_block_hash,
            "mempool": info.tx_pool_size,
            "peers": len(peers),
        }

    return _parallel(nodes, read)


def sample_wallets(rt: AgentRuntime, wallets: list[Agent]) -> dict[str, dict[str, Any]]:
    """Each wallet's total and unlocked balance after a refresh, or the error."""
    clients = {a.id: rt.wallet(a) for a in wallets}

    def read(agent: Agent) -> dict[str, Any]:
        try:
            balance = clients[agent.id].get_balance(refresh=True)
        except RpcError as exc:
            return {"error": str(exc)}
        return {"balance": balance.balance, "unlocked": balance.unlocked_balance}

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
            append_record(
                self.rt.run.shared / NODE_STATUS_FILE,
                {
                    "sim_time": round(self.rt.clock.now(), 3),
                    "wall_time": time.time(),
                    "nodes": sample_nodes(self.rt),
                    "wallets": sample_wallets(self.rt, self.rt.discovery.get_wallet_agents()),
                },
            )


@attrs.define
class SyncCheck:
    rt: AgentRuntime
    spec: ScriptAgentSpec
    open_event: dict[str, Any] | None = None
    behind_once: set[str] = attrs.field(factory=set)

    def run(self) -> None:
        for _ in _every_interval(self.rt, self.spec.interval):
            self.check()
        if self.open_event is not None:
            self.rt.log.warning("divergence still open at the end: %s", self.open_event["detail"])

    def check(self) -> None:
        nodes = {k: v for k, v in sample_nodes(self.rt).items() if "error" not in v}
        detail = self.divergence(nodes)
        now = round(self.rt.clock.now(), 3)
        path = self.rt.run.shared / SYNC_EVENTS_FILE
        if detail and self.open_event is None:
            self.open_event = {
                "start_sim_time": now,
                "end_sim_time": None,
                "heights": {k: v["height"] for k, v in nodes.items()},
                "detail": detail,
            }
            append_record(path, dict(self.open_event))
            self.rt.log.warning("nodes diverge: %s", detail)
        elif not detail and self.open_event is not None:
            start = self.open_event["start_sim_time"]

            def close(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
                for r in records:
                    if r["start_sim_time"] == start and r["end_sim_time"] is None:
                        r["end_sim_time"] = now
                return records

            update_records(path, close)
            self.rt.log.info("nodes agree again after %.1f simulated s", now - start)
            self.open_event = None

    def divergence(self, nodes: dict[str, dict[str, Any]]) -> str:
        """'' when the nodes agree, else what differs."""
        if not nodes:
            return ""
        top = max(v["height"] for v in nodes.values())
        at_top = {v["top_hash"] for v in nodes.values() if v["height"] == top}
        if len(at_top) > 1:
            return f"fork at height {top}: {len(at_top)} different top blocks"
        behind = {k for k, v in nodes.items() if v["height"] < top}
        lagging = behind & self.behind_once
        self.behind_once = behind
        if lagging:
            return f"{', '.join(sorted(lagging))} behind height {top} for two samples"
        return ""
