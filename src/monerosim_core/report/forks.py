"""Forks: which recorded blocks the main chain kept, who earned what, what users saw.

Every block the controller mined has a record; the final state says which of them
the main chain holds at the end. A block off the main chain is **orphaned**: either
it was public and lost (a tie lost, an honest block overridden by a longer
withheld branch, or a fault), or it was withheld and never published (a branch
given up, or still withheld when the run ended). A miner's **relative revenue** is
its share of the main chain's blocks, Eyal and Sirer's measure, set beside its
share of the hashrate. The nodes' own logs give the **reorganisations** each node
went through (its users saw confirmed blocks disappear). A transaction in a public
block that was orphaned had been confirmed; it is **re-mined** when a main-chain
block holds it.

The bootstrap blocks are left out: they are mined before simulated time starts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import attrs

from monerosim_core.records.registry import Registry
from monerosim_core.records.schema import BlockRecord, FinalState, PublicationRecord


@attrs.frozen
class MinerForks:
    """One miner's blocks (bootstrap left out) and where they ended."""

    miner: str
    hashrate_share: float | None  # None: not in miners.json
    mined: int
    on_chain: int
    orphaned_published: int  # public once, not on the main chain at the end
    never_published: int  # withheld, never made public
    revenue: float | None  # share of the main chain's blocks; None: no main-chain blocks

    @property
    def orphaned(self) -> int:
        return self.orphaned_published + self.never_published


@attrs.frozen
class NodeReorgs:
    """The reorganisations one node logged: how many, and how many of each depth."""

    node: str
    count: int
    max_depth: int
    depths: tuple[tuple[int, int], ...]  # (depth, reorganisations of that depth)


@attrs.frozen
class ForksSection:
    """``withholder``: the miner that may withhold blocks (None: an honest run).
    ``public_orphans``: public blocks orphaned, which every node should keep on a
    side chain. ``orphaned_txs``: transactions confirmed in a public block that was
    orphaned; ``re_mined`` of them are in a main-chain block, ``lost`` are not
    (hashes). ``refused``: withheld blocks a node would not take when published."""

    withholder: str | None
    main_chain_blocks: int
    miners: tuple[MinerForks, ...]
    publications: int
    published_blocks: int
    refused: int
    public_orphans: int
    reorgs: tuple[NodeReorgs, ...]
    orphaned_txs: int
    re_mined: int
    lost: tuple[str, ...]

    @property
    def no_forks(self) -> bool:
        return not any(m.orphaned for m in self.miners) and not any(r.count for r in self.reorgs)


def main_chain_hashes(final_state: FinalState) -> frozenset[str]:
    """The hashes of the main chain's blocks as the final state read them."""
    return frozenset(block.hash for block in final_state.chain.values())


def analyse_forks(
    registry: Registry,
    blocks: Sequence[BlockRecord],
    publications: Sequence[PublicationRecord],
    final_state: FinalState,
) -> ForksSection | None:
    """The forks section; None when the final state holds no main chain to judge by."""
    chain = main_chain_hashes(final_state)
    if not chain:
        return None
    published = {h for p in publications for h in p.hashes}
    mined = [b for b in blocks if not b.bootstrap]
    kept = [b for b in mined if b.hash in chain]
    lost_public = [
        b for b in mined if b.hash not in chain and (not b.private or b.hash in published)
    ]
    shares = {m.agent_id: m.weight for m in registry.miners}
    winners = [*shares, *sorted({b.winner for b in mined} - set(shares))]
    kept_txs = {tx for b in kept for tx in b.tx_hashes}
    orphaned_txs = {tx for b in lost_public for tx in b.tx_hashes}
    withholders = [a.id for a in registry.agents if a.private_daemon_rpc_port is not None]
    return ForksSection(
        withholder=withholders[0] if withholders else None,
        main_chain_blocks=len(kept),
        miners=tuple(
            _miner(
                miner,
                shares.get(miner),
                [b for b in mined if b.winner == miner],
                chain,
                published,
                len(kept),
            )
            for miner in winners
        ),
        publications=len(publications),
        published_blocks=len(published),
        refused=sum(len(p.refused) for p in publications),
        public_orphans=len(lost_public),
        reorgs=tuple(
            _node_reorgs(node, [r.depth for r in reorgs])
            for node, reorgs in sorted(final_state.reorgs.items())
        ),
        orphaned_txs=len(orphaned_txs),
        re_mined=len(orphaned_txs & kept_txs),
        lost=tuple(sorted(orphaned_txs - kept_txs)),
    )


def _miner(
    miner: str,
    share: float | None,
    won: Sequence[BlockRecord],
    chain: frozenset[str],
    published: set[str],
    main_chain_blocks: int,
) -> MinerForks:
    on_chain = sum(1 for b in won if b.hash in chain)
    off = [b for b in won if b.hash not in chain]
    never = sum(1 for b in off if b.private and b.hash not in published)
    return MinerForks(
        miner=miner,
        hashrate_share=share,
        mined=len(won),
        on_chain=on_chain,
        orphaned_published=len(off) - never,
        never_published=never,
        revenue=on_chain / main_chain_blocks if main_chain_blocks else None,
    )


def _node_reorgs(node: str, depths: Sequence[int]) -> NodeReorgs:
    return NodeReorgs(
        node=node,
        count=len(depths),
        max_depth=max(depths, default=0),
        depths=tuple(sorted(Counter(depths).items())),
    )
