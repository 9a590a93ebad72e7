"""Where a run's wall time went: phases, pace, waits, and RPC time by method.

Simulated time does not depend on any of this (it is exact); these figures say how
fast the machine ran the simulation and what it waited for, which is what to look
at when a run is slow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import attrs

from monerosim_core.records.schema import BlockRecord, RpcCallsRecord, Timing


@attrs.frozen
class AgentBusy:
    agent_id: str
    actions: int
    busy_wall: float
    longest_action: float


@attrs.frozen
class RpcMethod:
    """Every call of one RPC method across the run's processes."""

    method: str
    calls: int
    errors: int
    wall: float

    @property
    def mean_ms(self) -> float:
        return 1000.0 * self.wall / self.calls if self.calls else 0.0


@attrs.frozen
class TimingSection:
    """``phases`` and ``pace`` come from ``timing.json`` (None when it was not
    written); the waits from the block records; RPC from ``rpc_calls.jsonl``."""

    phases: Mapping[str, float] | None = attrs.field(hash=False)
    pace: float | None
    speed_cap: float | None
    advances: int
    agents: tuple[AgentBusy, ...]
    tip_wait_wall: float
    settle_wall: float
    settle_bound_hits: int  # blocks whose settling hit its bound
    settle_missing: int  # transfers due but missing from the winner's pool at the bound
    mining_wall: float
    rpc: tuple[RpcMethod, ...]  # most wall time first


def analyse_timing(
    timing: Timing | None, blocks: Sequence[BlockRecord], calls: Sequence[RpcCallsRecord]
) -> TimingSection:
    mined = [b for b in blocks if not b.bootstrap]
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for c in calls:
        t = totals[c.method]
        t[0] += c.calls
        t[1] += c.errors
        t[2] += c.wall
    rpc = sorted(
        (RpcMethod(m, int(t[0]), int(t[1]), t[2]) for m, t in totals.items()),
        key=lambda r: -r.wall,
    )
    return TimingSection(
        phases=None if timing is None else dict(timing.phases),
        pace=None if timing is None else timing.pace,
        speed_cap=None if timing is None else timing.speed_cap,
        advances=0 if timing is None else timing.advances,
        agents=()
        if timing is None
        else tuple(
            AgentBusy(a, t.actions, t.busy_wall, t.longest_action)
            for a, t in sorted(timing.agents.items(), key=lambda kv: -kv[1].busy_wall)
        ),
        tip_wait_wall=sum(b.wall_tip_wait for b in mined),
        settle_wall=sum(b.wall_settle for b in mined),
        settle_bound_hits=sum(1 for b in mined if b.settle_missing),
        settle_missing=sum(b.settle_missing for b in mined),
        mining_wall=sum(b.wall_mine for b in mined),
        rpc=tuple(rpc),
    )
