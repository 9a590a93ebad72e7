"""Rebuilding the record of a block whose record was lost.

The block controller writes a :class:`~monerosim_core.records.schema.BlockIntent`
just before it submits a block and the block's record just after. If it is killed
between the two, the block is on the chain with no record. Reconciling finds every
main-chain block above genesis that has no record, matches it to its intent (same
height, parent and timestamp) and appends the record, marked ``reconciled``. A
block that matches no intent was not mined by the controller; it stays unrecorded
and the report lists it.
"""

from __future__ import annotations

import time

from monerosim_core.records.layout import RunDir
from monerosim_core.records.schema import BlockRecord
from monerosim_core.rpc import DaemonClient


def reconcile_blocks(run: RunDir, node: DaemonClient) -> list[BlockRecord]:
    """Append the records missing for ``node``'s main chain; the records appended.

    Blocks are matched by hash: a height may hold a recorded block that was
    orphaned and, on the main chain, another. Raises ``RpcError`` when the node
    cannot answer.
    """
    recorded = {b.hash for b in run.blocks}
    top = node.get_tip().height
    missing = [h for h in node.main_chain_headers(1, top) if h.hash not in recorded]
    if not missing:
        return []
    intents = {(i.height, i.prev_hash, i.timestamp): i for i in run.block_intents}
    rebuilt = []
    for header in missing:
        intent = intents.get((header.height, header.prev_hash, header.timestamp))
        if intent is None:
            continue
        record = BlockRecord(
            height=header.height,
            hash=header.hash,
            winner=intent.winner,
            wallet_address=intent.wallet_address,
            sim_time=intent.sim_time,
            wall_time=time.time(),
            bootstrap=intent.bootstrap,
            node=intent.node,
            timestamp=intent.timestamp,
            reward=header.reward,
            reselected_from=intent.reselected_from,
            excluded=intent.excluded,
            reconciled=True,
            parent_hash=header.prev_hash,
        )
        run.blocks.append(record)
        rebuilt.append(record)
    return rebuilt
