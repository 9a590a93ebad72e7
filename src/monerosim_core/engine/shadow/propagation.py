"""Block propagation under Shadow, read from the nodes' logs after the simulation.

Every monerod logs the blocks it adds at INFO in the ``blockchain`` category
(:mod:`monerosim_core.processes.shadow_specs` turns it on), stamped with its clock,
which Shadow simulates, to the millisecond::

    2000-01-01 00:03:00.016  [RPC0]  INFO  blockchain  ...  id:  <hash>
    2000-01-01 00:03:00.016  [RPC0]  INFO  blockchain  ...  HEIGHT 101, difficulty:  1

For every block the controller mined after the bootstrap, the winner's node adds
it first (it was submitted there); each other node's delay is the simulated time
between the two. One :class:`~monerosim_core.records.schema.PropagationRecord` a
block goes to ``propagation.jsonl``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from monerosim_core.processes.specs import NodeSpec
from monerosim_core.records.layout import RunDir
from monerosim_core.records.schema import BlockRecord, PropagationRecord

_STAMP = r"(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\t[^\t]*\t[A-Z]+\tblockchain\t[^\t]*\t"
_ID = re.compile(_STAMP + r"id:\t<(?P<hash>[0-9a-f]{64})>")
_HEIGHT = re.compile(_STAMP + r"HEIGHT (?P<height>\d+), difficulty")

Arrivals = dict[tuple[int, str], float]  # (height, hash) -> Unix time it was added


def read_arrivals(log: Path) -> Arrivals:
    """When the node that wrote ``log`` added each block (first time only)."""
    arrivals: Arrivals = {}
    last_hash = None
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return arrivals
    for line in text.splitlines():
        if "\tblockchain\t" not in line:
            continue
        found = _ID.match(line)
        if found is not None:
            last_hash = found["hash"]
            continue
        found = _HEIGHT.match(line)
        if found is not None and last_hash is not None:
            key = (int(found["height"]), last_hash)
            arrivals.setdefault(key, _unix(found["stamp"]))
            last_hash = None
    return arrivals


def _unix(stamp: str) -> float:
    when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return when.timestamp()


def propagation_records(
    blocks: Iterable[BlockRecord], arrivals: Mapping[str, Arrivals], chain_epoch: int
) -> list[PropagationRecord]:
    """One record per mined (non-bootstrap) block the winner's node logged, from
    every node's ``arrivals`` (keyed by agent id)."""
    records = []
    for block in blocks:
        if block.bootstrap:
            continue
        key = (block.height, block.hash)
        origin = arrivals.get(block.winner, {}).get(key)
        if origin is None:
            continue
        delays = {}
        missing = []
        for node, seen in arrivals.items():
            if node == block.winner:
                continue
            added = seen.get(key)
            if added is None:
                missing.append(node)
            else:
                delays[node] = round(added - origin, 6)
        records.append(
            PropagationRecord(
                height=block.height,
                hash=block.hash,
                winner=block.winner,
                added=round(origin - chain_epoch, 6),
                delays=delays,
                missing=tuple(missing),
            )
        )
    return records


def record_propagation(run: RunDir, nodes: Mapping[str, NodeSpec]) -> int:
    """Write ``propagation.jsonl`` from the logs of ``nodes`` (by agent id); how
    many blocks it covers."""
    info = run.read_info()
    if info.chain_epoch is None:
        return 0
    arrivals = {agent_id: read_arrivals(spec.log_file) for agent_id, spec in nodes.items()}
    records = propagation_records(run.blocks, arrivals, info.chain_epoch)
    for record in records:
        run.propagation.append(record)
    return len(records)
