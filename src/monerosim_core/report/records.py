"""What the report reads from a run directory, joined into the views it analyses.

The records themselves are :mod:`monerosim_core.records.schema` classes, read once,
in :mod:`monerosim_core.report.load`. Two views join several records:
:class:`Transfer` (a transfer with its confirmation) and :class:`SyncEvent` (a
divergence from its start to its end).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from monerosim_core.records.files import LineProblem
from monerosim_core.records.layout import RunInfo
from monerosim_core.records.registry import Registry
from monerosim_core.records.schema import (
    BlockRecord,
    FaultRecord,
    FinalState,
    NodeStatusRecord,
    PropagationRecord,
    PublicationRecord,
    RpcCallsRecord,
    Timing,
    TransferRecord,
)


@attrs.frozen
class Transfer:
    """A transfer attempt with where it was confirmed (``None``: not seen in a block).

    ``confirmed_sim_time`` is the simulated time of the confirming block, when
    that block is in the records.
    """

    record: TransferRecord
    confirmed_height: int | None
    confirmed_sim_time: float | None

    @property
    def sent(self) -> bool:
        return self.record.sent

    @property
    def confirmed(self) -> bool:
        return self.sent and self.confirmed_height is not None


@attrs.frozen
class SyncEvent:
    """A period during which the nodes disagreed."""

    start_sim_time: float
    end_sim_time: float | None  # None: still diverged when the run ended
    heights: Mapping[str, int] = attrs.field(hash=False)
    detail: str = ""


@attrs.frozen
class RunData:
    """Everything a run directory holds. ``None`` marks a file that is absent;
    ``problems`` lists the journal lines that could not be read."""

    run_dir: Path
    run: RunInfo
    registry: Registry
    blocks: tuple[BlockRecord, ...]
    transfers: tuple[Transfer, ...] | None
    status: tuple[NodeStatusRecord, ...] | None
    sync_events: tuple[SyncEvent, ...] | None
    final_state: FinalState | None
    timing: Timing | None = None
    rpc_calls: tuple[RpcCallsRecord, ...] = ()
    faults: tuple[FaultRecord, ...] | None = None
    publications: tuple[PublicationRecord, ...] = ()
    problems: tuple[LineProblem, ...] = ()
    propagation: tuple[PropagationRecord, ...] | None = None
