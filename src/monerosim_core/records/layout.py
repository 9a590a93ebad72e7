"""The run directory: everything one run writes, and every file name, defined here once.

Layout::

    RUN_DIR/run.json                RunInfo: config, seed, pace, outcome
    RUN_DIR/config.yaml             the scenario as it was when the run started
    RUN_DIR/shared/                 private (0700): what the run's processes share
        agent_registry.json         who is in the network (records.registry)
        miners.json
        credentials.json            RPC logins of every monerod and wallet-rpc (0600)
        blocks.jsonl                journals (records.schema)
        transfers.jsonl
        confirmations.jsonl
        node_status.jsonl
        sync_events.jsonl
        rpc_calls.jsonl
        faults.jsonl
        block_intents.jsonl
        publications.jsonl
        propagation.jsonl           block arrival per node (Shadow engine)
        final_state.json
        timing.json                 where the wall time went (engine)
    RUN_DIR/nodes/ID/               each daemon's and wallet's data and logs
    RUN_DIR/logs/                   one log per process
    RUN_DIR/pids.json               every process the run started (processes.leftovers)
    RUN_DIR/report/                 the report
    RUN_DIR/shadow/shadow.yaml      the Shadow simulation (Shadow engine)
    RUN_DIR/shadow.data/            what Shadow writes (Shadow engine)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from monerosim_core.records.codec import RecordFormatError, decode, encode
from monerosim_core.records.files import (
    LineProblem,
    RecordFileError,
    append_line,
    read_json,
    read_lines,
    read_new_lines,
    write_json_atomic,
)
from monerosim_core.records.schema import (
    BlockIntent,
    BlockRecord,
    ConfirmationRecord,
    FaultRecord,
    FinalState,
    NodeStatusRecord,
    PropagationRecord,
    PublicationRecord,
    RpcCallsRecord,
    SyncEventRecord,
    Timing,
    TransferRecord,
)

RUN_INFO_FILE = "run.json"
CONFIG_COPY = "config.yaml"
SHARED_DIR = "shared"
LOGS_DIR = "logs"
NODES_DIR = "nodes"
REPORT_DIR = "report"
SHADOW_DIR = "shadow"
SHADOW_CONFIG = "shadow.yaml"
SHADOW_DATA_DIR = "shadow.data"
PIDS_FILE = "pids.json"
AGENT_REGISTRY_FILE = "agent_registry.json"
MINER_REGISTRY_FILE = "miners.json"
CREDENTIALS_FILE = "credentials.json"
FINAL_STATE_FILE = "final_state.json"
BLOCKS_FILE = "blocks.jsonl"
TRANSFERS_FILE = "transfers.jsonl"
CONFIRMATIONS_FILE = "confirmations.jsonl"
NODE_STATUS_FILE = "node_status.jsonl"
SYNC_EVENTS_FILE = "sync_events.jsonl"
RPC_CALLS_FILE = "rpc_calls.jsonl"
FAULTS_FILE = "faults.jsonl"
BLOCK_INTENTS_FILE = "block_intents.jsonl"
PUBLICATIONS_FILE = "publications.jsonl"
PROPAGATION_FILE = "propagation.jsonl"
TIMING_FILE = "timing.json"

R = TypeVar("R")


class RunDirError(Exception):
    """A run directory that is missing, or whose ``run.json`` is damaged."""


@attrs.frozen
class RunInfo:
    """The contents of ``run.json`` (see the report for who reads which field).

    ``speed`` is the cap on the pace (simulated seconds per wall second; None: as
    fast as the machine allows). ``chain_epoch`` is the Unix time of simulated t=0
    on the chain: a block at simulated time T is timestamped ``chain_epoch + T``.
    ``conductor`` is the socket of the local engine's conductor. Under Shadow
    (``engine: shadow``) agents read ``chain_epoch`` as the process clock's value
    at t=0. ``hand_over_transfers``: the block controller hands each transfer due
    in a block to the winner when the network has not, and the parent block to a
    winner's node that lacks it (local engine, where real propagation is wall-clock
    time); under Shadow propagation is simulated and the controller only counts
    what is missing.
    """

    config: str
    seed: int
    engine: str
    stop_time: float
    block_interval: float
    block_times: str
    tx_propagation: float
    solo_miner_threshold: float
    started_wall: float
    speed: float | None = None
    chain_epoch: int | None = None
    conductor: str | None = None
    bootstrap_source: str | None = None  # mined | cache
    bootstrap_entry: str | None = None  # the bootstrap cache entry used or stored
    sim_started_wall: float | None = None  # wall time at simulated t=0
    ended_wall: float | None = None
    sim_elapsed: float | None = None
    end_reason: str | None = None  # completed | interrupted | failed
    failure: str | None = None  # what ended a failed run, in one line
    hand_over_transfers: bool = True


@attrs.frozen
class JournalContents(Generic[R]):
    """The records of a journal, and the lines that could not be read (never fatal)."""

    records: tuple[R, ...]
    problems: tuple[LineProblem, ...]


@attrs.frozen
class Journal(Generic[R]):
    """One append-only JSON Lines file of ``record_type`` records."""

    path: Path
    record_type: type[R]

    def append(self, record: R) -> None:
        append_line(self.path, encode(record))

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def touch(self) -> None:
        """Create the journal empty if it is not there: "recorded, nothing happened"
        then reads differently from "not recorded"."""
        self.path.touch(mode=0o644, exist_ok=True)

    def read(self) -> JournalContents[R]:
        """Every readable record, in file order; bad lines are listed, not raised."""
        lines, problems = read_lines(self.path)
        records = []
        for number, doc in lines:
            try:
                records.append(decode(self.record_type, doc, f"line {number}"))
            except RecordFormatError as exc:
                problems.append(LineProblem(self.path, number, str(exc).partition(": ")[2]))
        return JournalContents(tuple(records), tuple(sorted(problems, key=lambda p: p.line)))

    def __iter__(self) -> Iterator[R]:
        return iter(self.read().records)

    def follow(self) -> JournalFollower[R]:
        """An incremental reader, from the first record: each call of its
        ``read_new`` returns what it has not returned yet."""
        return JournalFollower(self)


@attrs.define
class JournalFollower(Generic[R]):
    """Reads a journal incrementally: each :meth:`read_new` costs only the new lines."""

    journal: Journal[R]
    _offset: int = 0
    _next_line: int = 1

    def read_new(self) -> list[R]:
        """The complete records appended since the last call (bad lines skipped)."""
        lines, _problems, self._offset, self._next_line = read_new_lines(
            self.journal.path, self._offset, self._next_line
        )
        records = []
        for number, doc in lines:
            try:
                records.append(decode(self.journal.record_type, doc, f"line {number}"))
            except RecordFormatError:
                continue  # the report lists bad lines; a follower just skips them
        return records


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(path).absolute()


@attrs.frozen
class RunDir:
    # Absolute: every path handed to a daemon is resolved in that daemon's own
    # working directory, so a relative run directory (the default runs/...) breaks.
    root: Path = attrs.field(converter=_absolute)

    @property
    def shared(self) -> Path:
        return self.root / SHARED_DIR

    @property
    def logs(self) -> Path:
        return self.root / LOGS_DIR

    @property
    def report(self) -> Path:
        return self.root / REPORT_DIR

    @property
    def config(self) -> Path:
        return self.root / CONFIG_COPY

    @property
    def shadow(self) -> Path:
        return self.root / SHADOW_DIR

    @property
    def shadow_config(self) -> Path:
        return self.shadow / SHADOW_CONFIG

    @property
    def shadow_data(self) -> Path:
        return self.root / SHADOW_DATA_DIR

    @property
    def final_state_path(self) -> Path:
        return self.shared / FINAL_STATE_FILE

    def node_dir(self, agent_id: str) -> Path:
        return self.root / NODES_DIR / agent_id

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @property
    def blocks(self) -> Journal[BlockRecord]:
        return Journal(self.shared / BLOCKS_FILE, BlockRecord)

    @property
    def transfers(self) -> Journal[TransferRecord]:
        return Journal(self.shared / TRANSFERS_FILE, TransferRecord)

    @property
    def confirmations(self) -> Journal[ConfirmationRecord]:
        return Journal(self.shared / CONFIRMATIONS_FILE, ConfirmationRecord)

    @property
    def node_status(self) -> Journal[NodeStatusRecord]:
        return Journal(self.shared / NODE_STATUS_FILE, NodeStatusRecord)

    @property
    def sync_events(self) -> Journal[SyncEventRecord]:
        return Journal(self.shared / SYNC_EVENTS_FILE, SyncEventRecord)

    @property
    def rpc_calls(self) -> Journal[RpcCallsRecord]:
        return Journal(self.shared / RPC_CALLS_FILE, RpcCallsRecord)

    @property
    def faults(self) -> Journal[FaultRecord]:
        return Journal(self.shared / FAULTS_FILE, FaultRecord)

    @property
    def block_intents(self) -> Journal[BlockIntent]:
        return Journal(self.shared / BLOCK_INTENTS_FILE, BlockIntent)

    @property
    def publications(self) -> Journal[PublicationRecord]:
        return Journal(self.shared / PUBLICATIONS_FILE, PublicationRecord)

    @property
    def propagation(self) -> Journal[PropagationRecord]:
        return Journal(self.shared / PROPAGATION_FILE, PropagationRecord)

    @classmethod
    def create(cls, root: Path, config_source: Path, *, force: bool = False) -> RunDir:
        """Make a new run directory, private to its owner (0700).

        A directory that exists and is not empty is refused (its files would mix
        with the new run's); with ``force`` it is first moved aside to
        ``ROOT.old-TIME``.

        :raises RunDirError: when the directory cannot be used.
        """
        run = cls(root)
        config = Path(config_source).absolute()
        text = config.read_bytes()  # before anything moves: the config may live there
        if run.root.exists() and (not run.root.is_dir() or any(run.root.iterdir())):
            if not force:
                raise RunDirError(
                    f"{run.root} exists and is not empty; choose another --run-dir, or "
                    "add --force to move it aside"
                )
            if config.is_relative_to(run.root) or Path.cwd().is_relative_to(run.root):
                raise RunDirError(
                    f"{run.root} holds the config or the current directory; it cannot be "
                    "moved aside: choose another --run-dir"
                )
            aside = run.root.with_name(f"{run.root.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
            os.rename(run.root, aside)
        run.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(run.root, 0o700)  # mkdir's mode is filtered by the umask
        run.shared.mkdir(mode=0o700, exist_ok=True)
        os.chmod(run.shared, 0o700)
        run.logs.mkdir(exist_ok=True)
        run.config.write_bytes(text)
        return run

    def read_info(self) -> RunInfo:
        """``run.json``; :class:`RunDirError` when it is missing or damaged."""
        path = self.root / RUN_INFO_FILE
        try:
            return decode(RunInfo, read_json(path), str(path))
        except FileNotFoundError:
            raise RunDirError(
                f"{self.root} is not a monerosim run directory (no {path.name})"
            ) from None
        except (RecordFileError, RecordFormatError) as exc:
            raise RunDirError(f"not a valid run description: {exc}") from None

    def write_info(self, info: RunInfo) -> None:
        write_json_atomic(self.root / RUN_INFO_FILE, encode(info))

    def update_info(self, **changes: Any) -> RunInfo:
        info = attrs.evolve(self.read_info(), **changes)
        self.write_info(info)
        return info

    def write_final_state(self, state: FinalState) -> None:
        write_json_atomic(self.final_state_path, encode(state))

    def read_final_state(self) -> FinalState | None:
        """``final_state.json``, None when it was not written.

        :raises RecordFileError: when it is unreadable or malformed.
        """
        return self._read_document(self.final_state_path, FinalState)

    def write_timing(self, timing: Timing) -> None:
        write_json_atomic(self.shared / TIMING_FILE, encode(timing))

    def read_timing(self) -> Timing | None:
        """``timing.json``, None when it was not written (raises like read_final_state)."""
        return self._read_document(self.shared / TIMING_FILE, Timing)

    def _read_document(self, path: Path, record_type: type[R]) -> R | None:
        try:
            doc = read_json(path)
        except FileNotFoundError:
            return None
        try:
            return decode(record_type, doc, str(path))
        except RecordFormatError as exc:
            raise RecordFileError(str(exc)) from None

    def write_credentials(self, credentials: dict[str, tuple[str, str]]) -> None:
        """RPC logins per process name, readable by the run's owner only."""
        path = self.shared / CREDENTIALS_FILE
        write_json_atomic(path, {k: list(v) for k, v in credentials.items()}, mode=0o600)

    def read_credentials(self) -> dict[str, tuple[str, str]]:
        path = self.shared / CREDENTIALS_FILE
        try:
            doc = read_json(path)
        except FileNotFoundError:
            return {}
        try:
            return {str(k): (str(v[0]), str(v[1])) for k, v in doc.items()}
        except (AttributeError, TypeError, IndexError, KeyError):
            raise RecordFileError(f"{path}: expected an object of [user, password]") from None
