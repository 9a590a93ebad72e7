"""Read a run directory into :class:`~monerosim_core.report.records.RunData`.

``run.json`` and the registries are what a report is about: a missing or malformed
one is a :class:`ReportError` naming the file and field. Journals are read line by
line: an unreadable line (a torn write, a wrong field) is skipped and listed in
``RunData.problems``, which the report turns into findings; it never costs the
rest of the run's records. Optional files that are absent read as ``None`` and the
report says "not recorded".
"""

from __future__ import annotations

from pathlib import Path

from monerosim_core.records.files import RecordFileError
from monerosim_core.records.layout import RUN_INFO_FILE, RunDir, RunDirError
from monerosim_core.records.registry import Registry, RegistryFormatError, read_registry
from monerosim_core.records.schema import (
    BlockRecord,
    ConfirmationRecord,
    SyncEventRecord,
    TransferRecord,
)
from monerosim_core.report.errors import ReportError
from monerosim_core.report.records import RunData, SyncEvent, Transfer


def load_run(run_dir: Path) -> RunData:
    """Read everything the report needs from ``run_dir``."""
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a directory")
    run = RunDir(run_dir)
    if not (run.root / RUN_INFO_FILE).exists():
        raise ReportError(
            f"{run.root / RUN_INFO_FILE} does not exist: {run_dir} is not a monerosim run directory"
        )
    try:
        info = run.read_info()
        blocks = run.blocks.read()
        transfers = run.transfers.read()
        confirmations = run.confirmations.read()
        status = run.node_status.read()
        sync = run.sync_events.read()
        rpc_calls = run.rpc_calls.read()
        faults = run.faults.read()
        publications = run.publications.read()
        propagation = run.propagation.read()
        final_state = run.read_final_state()
        timing = run.read_timing()
    except (RunDirError, RecordFileError) as exc:
        raise ReportError(str(exc)) from None
    problems = (
        *blocks.problems,
        *transfers.problems,
        *confirmations.problems,
        *status.problems,
        *sync.problems,
        *rpc_calls.problems,
        *faults.problems,
        *publications.problems,
        *propagation.problems,
    )
    return RunData(
        run_dir=run_dir,
        run=info,
        registry=_registry(run.shared),
        blocks=blocks.records,
        transfers=_join_confirmations(transfers.records, confirmations.records, blocks.records)
        if run.transfers.exists
        else None,
        status=status.records if run.node_status.exists else None,
        sync_events=_pair_sync_events(sync.records) if run.sync_events.exists else None,
        final_state=final_state,
        timing=timing,
        rpc_calls=rpc_calls.records,
        faults=faults.records if run.faults.exists else None,
        publications=publications.records,
        problems=problems,
        propagation=propagation.records if run.propagation.exists else None,
    )


def _registry(shared: Path) -> Registry:
    try:
        return read_registry(shared)
    except (FileNotFoundError, RegistryFormatError) as exc:
        raise ReportError(str(exc)) from None


def _join_confirmations(
    transfers: tuple[TransferRecord, ...],
    confirmations: tuple[ConfirmationRecord, ...],
    blocks: tuple[BlockRecord, ...],
) -> tuple[Transfer, ...]:
    """Each transfer with the height (the first recorded) and time of its confirmation."""
    height_of: dict[str, int] = {}
    for c in confirmations:
        height_of.setdefault(c.tx_hash, c.height)
    block_time = {b.height: b.sim_time for b in blocks}
    joined = []
    for t in transfers:
        height = height_of.get(t.tx_hash) if t.sent and t.tx_hash else None
        joined.append(
            Transfer(
                record=t,
                confirmed_height=height,
                confirmed_sim_time=None if height is None else block_time.get(height),
            )
        )
    return tuple(joined)


def _pair_sync_events(records: tuple[SyncEventRecord, ...]) -> tuple[SyncEvent, ...]:
    """Divergences from their ``diverged`` record to the next ``agreed`` of the same agent."""
    events: list[SyncEvent] = []
    open_events: dict[str, int] = {}  # agent -> index into events
    for r in sorted(records, key=lambda r: r.sim_time):
        if r.change == "diverged" and r.agent not in open_events:
            open_events[r.agent] = len(events)
            events.append(SyncEvent(r.sim_time, None, r.heights, r.detail))
        elif r.change == "agreed" and r.agent in open_events:
            index = open_events.pop(r.agent)
            start = events[index]
            events[index] = SyncEvent(start.start_sim_time, r.sim_time, start.heights, start.detail)
    return tuple(events)
