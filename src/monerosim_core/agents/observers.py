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
from typing import Any

import attrs

from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.registry import Agent
from monerosim_core.rpc_errors import RpcError
from monerosim_core.scenario import ScriptAgentSpec
from monerosim_core.state_files import append_record, update_records

NODE_STATUS_FILE = "node_status.json"
SYNC_EVENTS_FILE = "sync_events.json"


def sample_nodes(rt: AgentRuntime) -> dict[str, dict[str, Any]]:
    """Each node's height, top hash, mempool size and peers, or the error reaching it."""
    nodes: dict[str, dict[str, Any]] = {}
    for agent in rt.discovery.registry().agents:
        if agent.daemon_rpc_port is None:
            continue
        try:
            info = rt.daemon(agent).get_info()
        except RpcError as exc:
            nodes[agent.id] = {"error": str(exc)}
            continue
        nodes[agent.id] = {
            "height": info.height - 1,
            "top_hash": info.top_block_hash,
            "mempool": info.tx_pool_size,
            "peers": info.outgoing_connections_count + info.incoming_connections_count,
        }
    return nodes


def sample_wallets(rt: AgentRuntime, wallets: list[Agent]) -> dict[str, dict[str, Any]]:
    sample: dict[str, dict[str, Any]] = {}
    for agent in wallets:
        try:
            balance = rt.wallet(agent).get_balance(refresh=True)
        except RpcError as exc:
            sample[agent.id] = {"error": str(exc)}
            continue
        sample[agent.id] = {"balance": balance.balance, "unlocked": balance.unlocked_balance}
    return sample


def _every_interval(rt: AgentRuntime, interval: float) -> Any:
    next_time = rt.clock.now()
    while rt.running():
        yield
        next_time += interval
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
