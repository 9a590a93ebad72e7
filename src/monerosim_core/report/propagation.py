"""Block propagation: how long after the winner's node each other node had a block.

From ``propagation.jsonl`` (the Shadow engine reads it from the nodes' logs; the
local engine has no simulated network to measure). Two views: every (block, node)
delay, and per block the time until the last node had it ("reached all").
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

import attrs

from monerosim_core.records.schema import PropagationRecord


@attrs.frozen
class Spread:
    """Simulated seconds: count, mean, median, 90th percentile, max."""

    count: int
    mean: float
    median: float
    p90: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        if not values:
            return None
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        return cls(
            count=len(ordered),
            mean=statistics.fmean(ordered),
            median=statistics.median(ordered),
            p90=p90,
            max=ordered[-1],
        )


@attrs.frozen
class NodeDelay:
    node: str
    blocks: int  # blocks this node received from another winner
    mean: float
    max: float


@attrs.frozen
class PropagationSection:
    """``delays``: every node's delay for every block; ``reached_all``: per block,
    the slowest node's delay. ``incomplete`` lists the heights some node never added."""

    blocks: int
    delays: Spread | None
    reached_all: Spread | None
    incomplete: tuple[int, ...]
    nodes: tuple[NodeDelay, ...]


def analyse_propagation(records: Sequence[PropagationRecord]) -> PropagationSection:
    per_node: dict[str, list[float]] = defaultdict(list)
    slowest = []
    for record in records:
        for node, delay in record.delays.items():
            per_node[node].append(delay)
        if record.delays and not record.missing:
            slowest.append(max(record.delays.values()))
    return PropagationSection(
        blocks=len(records),
        delays=Spread.of([d for r in records for d in r.delays.values()]),
        reached_all=Spread.of(slowest),
        incomplete=tuple(sorted(r.height for r in records if r.missing)),
        nodes=tuple(
            NodeDelay(node, len(values), statistics.fmean(values), max(values))
            for node, values in sorted(per_node.items())
        ),
    )
