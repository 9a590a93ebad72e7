"""What went wrong during a run, in order, and what it cost.

Faults come from the faults journal (a miner's node failing, miners sitting out,
wallets that could not be read, turns skipped, lost and restarted agents, block
records rebuilt) and from the final state (blocks left on side chains: orphans).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import attrs

from monerosim_core.records.schema import FaultRecord, FinalState

SHOWN = 50  # timeline rows shown in the markdown report (summary.json has them all)


@attrs.frozen
class KindCount:
    kind: str
    count: int
    subjects: tuple[str, ...]


@attrs.frozen
class Orphans:
    """Side-chain blocks one node keeps at the end."""

    agent_id: str
    heights: tuple[int, ...]  # the top of each side chain
    blocks: int


@attrs.frozen
class FaultSection:
    recorded: bool  # False when the run wrote no faults journal at all
    timeline: tuple[FaultRecord, ...]
    by_kind: tuple[KindCount, ...]
    restarted: tuple[str, ...]  # agents the engine started again
    orphans: tuple[Orphans, ...]


def analyse_faults(
    faults: Sequence[FaultRecord] | None, final_state: FinalState | None
) -> FaultSection:
    records = tuple(sorted(faults or (), key=lambda f: (f.sim_time, f.wall_time)))
    kinds = Counter(f.kind for f in records)
    orphans: tuple[Orphans, ...] = ()
    if final_state is not None:
        orphans = tuple(
            Orphans(agent, tuple(sorted(c.height for c in chains)), sum(c.length for c in chains))
            for agent, chains in sorted(final_state.side_chains.items())
            if chains
        )
    return FaultSection(
        recorded=faults is not None,
        timeline=records,
        by_kind=tuple(
            KindCount(kind, n, tuple(sorted({f.subject for f in records if f.kind == kind})))
            for kind, n in kinds.most_common()
        ),
        restarted=tuple(sorted({f.subject for f in records if f.kind == "agent_restarted"})),
        orphans=orphans,
    )
