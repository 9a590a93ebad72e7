"""The reorganisations a node went through, read from its monerod log.

monerod logs every switch to a longer branch (at the default log level) as
``###### REORGANIZE on height: H of T ...``: the branch replaces the main-chain
blocks from height ``H`` to the old tip ``T``. Nothing in the RPC interface keeps
this history, so the log is the only witness of what each node's users saw.
"""

from __future__ import annotations

import re
from pathlib import Path

from monerosim_core.records.schema import Reorg

_REORGANIZE = re.compile(rb"REORGANIZE on height: (\d+) of (\d+)")


def reorgs_in_log(log: Path) -> tuple[Reorg, ...]:
    """Every reorganisation ``log`` records, in order; none for a missing log."""
    try:
        text = log.read_bytes()
    except FileNotFoundError:
        return ()
    return tuple(
        Reorg(height=int(start), depth=int(old_tip) - int(start) + 1)
        for start, old_tip in _REORGANIZE.findall(text)
    )
