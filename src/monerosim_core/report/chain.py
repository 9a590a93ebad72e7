"""Did the nodes end on one chain, and how often did they disagree along the way?"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import attrs

from monerosim_core.records.layout import FINAL_STATE_FILE
from monerosim_core.records.registry import Registry
from monerosim_core.records.schema import BlockRecord, FinalState, NodeStatusRecord
from monerosim_core.report.records import SyncEvent


@attrs.frozen
class NodeState:
    """A node at the end; ``in_sync`` is None when it could not be read."""

    agent_id: str
    height: int | None
    top_hash: str | None
    error: str | None
    in_sync: bool | None


@attrs.frozen
class ChainSection:
    """Final heights. The reference tip is the one most reachable nodes share."""

    nodes: tuple[NodeState, ...]
    majority_height: int | None
    majority_hash: str | None
    in_sync: int
    reachable: int

    @property
    def out_of_sync(self) -> tuple[str, ...]:
        return tuple(n.agent_id for n in self.nodes if n.in_sync is False)

    @property
    def unreachable(self) -> tuple[str, ...]:
        return tuple(n.agent_id for n in self.nodes if n.in_sync is None)


@attrs.frozen
class NodeHeight:
    agent_id: str
    height: int


@attrs.frozen
class Divergence:
    start_sim_time: float
    end_sim_time: float | None
    duration: float | None  # None: still diverged when the run ended
    heights: tuple[NodeHeight, ...]
    detail: str


@attrs.frozen
class SyncSection:
    events: tuple[Divergence, ...]
    unresolved: int
    diverged_seconds: float  # total simulated time of the resolved events


@attrs.frozen
class MonitorSection:
    """What the monitor's samples show about how far apart the nodes drifted."""

    samples: int
    first_sim_time: float | None
    last_sim_time: float | None
    max_spread: int | None  # largest height difference between nodes in one sample
    max_spread_sim_time: float | None
    unreachable_readings: int  # node readings that were errors


def analyse_chain(registry: Registry, final_state: FinalState) -> ChainSection:
    ids = [a.id for a in registry.agents if a.daemon_rpc_port is not None]
    ids += sorted(set(final_state.nodes) - set(ids))
    readings = {agent: final_state.nodes.get(agent) for agent in ids}
    tips = Counter(
        (r.height, r.top_hash) for r in readings.values() if r is not None and r.error is None
    )
    # Most nodes on one tip wins; a tie goes to the higher chain, the one the
    # others would reorganise onto.
    majority = max(tips, key=lambda tip: (tips[tip], tip[0] or 0, tip[1] or "")) if tips else None
    nodes = []
    for agent, r in readings.items():
        if r is None or r.error is not None:
            error = f"not in {FINAL_STATE_FILE}" if r is None else r.error
            nodes.append(NodeState(agent, None, None, error, None))
        else:
            nodes.append(
                NodeState(agent, r.height, r.top_hash, None, (r.height, r.top_hash) == majority)
            )
    return ChainSection(
        nodes=tuple(nodes),
        majority_height=majority[0] if majority else None,
        majority_hash=majority[1] if majority else None,
        in_sync=sum(1 for n in nodes if n.in_sync),
        reachable=sum(tips.values()),
    )


def analyse_sync(events: Sequence[SyncEvent]) -> SyncSection:
    rows = tuple(
        Divergence(
            start_sim_time=e.start_sim_time,
            end_sim_time=e.end_sim_time,
            duration=None if e.end_sim_time is None else e.end_sim_time - e.start_sim_time,
            heights=tuple(NodeHeight(a, h) for a, h in sorted(e.heights.items())),
            detail=e.detail,
        )
        for e in sorted(events, key=lambda e: e.start_sim_time)
    )
    return SyncSection(
        events=rows,
        unresolved=sum(1 for r in rows if r.duration is None),
        diverged_seconds=sum(r.duration for r in rows if r.duration is not None),
    )


def analyse_monitor(samples: Sequence[NodeStatusRecord]) -> MonitorSection:
    spread: tuple[int, float] | None = None
    for sample in samples:
        heights = [r.height for r in sample.nodes.values() if r.height is not None]
        if heights and (spread is None or max(heights) - min(heights) > spread[0]):
            spread = (max(heights) - min(heights), sample.sim_time)
    times = [s.sim_time for s in samples]
    return MonitorSection(
        samples=len(samples),
        first_sim_time=min(times) if times else None,
        last_sim_time=max(times) if times else None,
        max_spread=spread[0] if spread else None,
        max_spread_sim_time=spread[1] if spread else None,
        unreachable_readings=sum(
            1 for s in samples for r in s.nodes.values() if r.error is not None
        ),
    )


@attrs.frozen
class RecordsOnChain:
    """The block records against the main chain one node reported at the end.

    ``off_chain``: heights with records of which none is the main chain's block (the
    chain holds a block nobody recorded there). ``orphaned``: records of blocks that
    lost at a height where the main chain's block is recorded too: a fork, which
    the forks section accounts for. ``timestamp_mismatches``: heights whose on-chain
    timestamp is not the recorded one. ``unrecorded``: main-chain heights with no
    record at all (a block mined from outside, or a record lost).
    """

    source: str | None
    checked: int
    off_chain: tuple[int, ...]
    orphaned: int
    timestamp_mismatches: tuple[int, ...]
    unrecorded: tuple[int, ...]
    chain_tip: int | None
    highest_record: int | None


def analyse_records_on_chain(
    blocks: Sequence[BlockRecord], final_state: FinalState
) -> RecordsOnChain | None:
    chain = {int(h): b for h, b in final_state.chain.items()}
    if not chain:
        return None
    recorded: dict[int, list[BlockRecord]] = defaultdict(list)
    for b in blocks:
        recorded[b.height].append(b)
    checked = [b for b in blocks if b.height in chain]
    kept = {b.height for b in checked if chain[b.height].hash == b.hash}
    return RecordsOnChain(
        source=final_state.chain_source,
        checked=len(checked),
        off_chain=tuple(sorted({b.height for b in checked} - kept)),
        orphaned=sum(1 for b in checked if b.height in kept and chain[b.height].hash != b.hash),
        timestamp_mismatches=tuple(
            sorted(
                b.height
                for b in checked
                if chain[b.height].hash == b.hash
                and b.timestamp is not None
                and chain[b.height].timestamp != b.timestamp
            )
        ),
        unrecorded=tuple(sorted(h for h in chain if h not in recorded)),
        chain_tip=max(chain),
        highest_record=max(recorded) if recorded else None,
    )
