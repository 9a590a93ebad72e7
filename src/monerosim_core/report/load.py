"""Read a run directory into :class:`RunData`, checking the shape of every file.

``run.json``, the registries and ``blocks_found.json`` are what a report is about;
a malformed one is a :class:`ReportError` naming the file, entry and field. The
other files are optional (a run may not have a monitor, or may have died before
writing its final state): an absent one reads as ``None`` and the report says "not
recorded". A present but malformed optional file is still an error, because the
writers replace files atomically, so a broken one means a bug worth seeing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from monerosim_core.registry import Registry, RegistryFormatError, read_registry
from monerosim_core.report.errors import ReportError
from monerosim_core.report.records import (
    Block,
    FinalState,
    NodeReading,
    RunData,
    StatusSample,
    SyncEvent,
    Transfer,
    WalletReading,
)
from monerosim_core.rundir import RunInfo
from monerosim_core.state_files import BLOCKS_FILE, TRANSACTIONS_FILE

RUN_FILE = "run.json"
SHARED_DIR = "shared"
NODE_STATUS_FILE = "node_status.json"
SYNC_EVENTS_FILE = "sync_events.json"
FINAL_STATE_FILE = "final_state.json"

_T = TypeVar("_T")


def load_run(run_dir: Path) -> RunData:
    """Read everything the report needs from ``run_dir``."""
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a directory")
    run_path = run_dir / RUN_FILE
    run_doc = _read_json(run_path)
    if run_doc is _ABSENT:
        raise ReportError(f"{run_path} does not exist: {run_dir} is not a monerosim run directory")
    shared = run_dir / SHARED_DIR
    blocks = _read_list(shared / BLOCKS_FILE, _block)
    return RunData(
        run_dir=run_dir,
        run=_run_info(_Fields(run_doc, str(run_path))),
        registry=_registry(shared),
        blocks=blocks if blocks is not None else (),
        transfers=_read_list(shared / TRANSACTIONS_FILE, _transfer),
        status=_read_list(shared / NODE_STATUS_FILE, _status_sample),
        sync_events=_read_list(shared / SYNC_EVENTS_FILE, _sync_event),
        final_state=_final_state(shared / FINAL_STATE_FILE),
    )


class _Absent:
    pass


_ABSENT = _Absent()


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _ABSENT
    except OSError as exc:
        raise ReportError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        doc: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from None
    return doc


def _read_list(path: Path, build: Callable[[_Fields], _T]) -> tuple[_T, ...] | None:
    doc = _read_json(path)
    if doc is _ABSENT:
        return None
    if not isinstance(doc, list):
        raise ReportError(f"{path}: expected a JSON list of records, found {_kind(doc)}")
    return tuple(build(_Fields(entry, f"{path}: entry {i}")) for i, entry in enumerate(doc))


def _registry(shared: Path) -> Registry:
    try:
        registry = read_registry(shared)
    except (FileNotFoundError, RegistryFormatError) as exc:
        raise ReportError(str(exc)) from None
    # read_registry checks the shape, not the types, and the shares are arithmetic.
    for miner in registry.miners:
        for name, value in (("weight", miner.weight), ("hashrate", miner.hashrate)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ReportError(
                    f"{shared / 'miners.json'}: miner {miner.agent_id!r}: "
                    f"{name} must be a number, found {value!r}"
                )
    return registry


def _run_info(f: _Fields) -> RunInfo:
    return RunInfo(
        config=f.text("config"),
        seed=f.integer("seed"),
        speed=f.number("speed"),
        engine=f.text("engine"),
        started_wall=f.number("started_wall"),
        ended_wall=f.opt_number("ended_wall"),
        stop_time=f.number("stop_time"),
        sim_elapsed=f.opt_number("sim_elapsed"),
        end_reason=f.opt_text("end_reason"),
        block_interval=f.number("block_interval"),
        solo_miner_threshold=f.number("solo_miner_threshold"),
        clock_epoch_wall=f.opt_number("clock_epoch_wall"),
    )


def _block(f: _Fields) -> Block:
    return Block(
        height=f.integer("height"),
        hash=f.opt_text("hash"),
        winner=f.text("winner"),
        wallet_address=f.opt_text("wallet_address"),
        reward=f.integer("reward"),
        sim_time=f.number("sim_time"),
        bootstrap=f.flag("bootstrap"),
        reselected_from=f.texts("reselected_from"),
        node=f.opt_text("node"),
    )


def _transfer(f: _Fields) -> Transfer:
    return Transfer(
        agent=f.text("agent"),
        kind=f.text("kind"),
        tx_hash=f.opt_text("tx_hash"),
        sender=f.text("sender"),
        recipient=f.text("recipient"),
        amount=f.integer("amount"),
        fee=f.opt_integer("fee"),
        attempts=_default(f.opt_integer("attempts"), 1),
        outcome=f.choice("outcome", ("sent", "failed")),
        cause=f.opt_text("cause"),
        error=f.opt_text("error"),
        sim_time=f.number("sim_time"),
        sent_height=f.opt_integer("sent_height"),
        confirmed_height=f.opt_integer("confirmed_height"),
        confirmed_sim_time=f.opt_number("confirmed_sim_time"),
    )


def _status_sample(f: _Fields) -> StatusSample:
    return StatusSample(
        sim_time=f.number("sim_time"),
        nodes={agent: _node(nf) for agent, nf in f.objects("nodes").items()},
    )


def _sync_event(f: _Fields) -> SyncEvent:
    return SyncEvent(
        start_sim_time=f.number("start_sim_time"),
        end_sim_time=f.opt_number("end_sim_time"),
        heights=f.heights("heights"),
        detail=f.opt_text("detail") or "",
    )


def _final_state(path: Path) -> FinalState | None:
    doc = _read_json(path)
    if doc is _ABSENT:
        return None
    f = _Fields(doc, str(path))
    return FinalState(
        nodes={agent: _node(nf) for agent, nf in f.objects("nodes").items()},
        wallets={agent: _wallet(wf) for agent, wf in f.objects("wallets").items()},
    )


def _node(f: _Fields) -> NodeReading:
    error = f.opt_text("error")
    if error is not None:
        return NodeReading(height=None, top_hash=None, error=error)
    return NodeReading(height=f.integer("height"), top_hash=f.opt_text("top_hash"), error=None)


def _wallet(f: _Fields) -> WalletReading:
    error = f.opt_text("error")
    if error is not None:
        return WalletReading(balance=None, unlocked=None, error=error)
    return WalletReading(
        balance=f.integer("balance"), unlocked=f.opt_integer("unlocked"), error=None
    )


def _default(value: int | None, default: int) -> int:
    return default if value is None else value


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"the number {value!r}"
    return names.get(type(value), type(value).__name__)


class _Fields:
    """Typed access to one JSON object; every error says which file, entry and field.

    Nullable fields read a missing key as null, so a writer that leaves out a field
    it has no value for is not an error; required fields must be present.
    """

    def __init__(self, doc: object, where: str) -> None:
        if not isinstance(doc, dict):
            raise ReportError(f"{where}: expected an object, found {_kind(doc)}")
        self._doc: dict[str, object] = doc
        self._where = where

    def _fail(self, key: str, expected: str, value: object) -> ReportError:
        found = "nothing (missing)" if key not in self._doc else _kind(value)
        return ReportError(f"{self._where}: field {key!r}: expected {expected}, found {found}")

    def text(self, key: str) -> str:
        value = self._doc.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self._doc.get(key)
        if value not in allowed:
            raise self._fail(key, " or ".join(repr(a) for a in allowed), value)
        return self.text(key)

    def opt_text(self, key: str) -> str | None:
        return None if self._doc.get(key) is None else self.text(key)

    def integer(self, key: str) -> int:
        value = self._doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer", value)
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self._doc.get(key) is None else self.integer(key)

    def number(self, key: str) -> float:
        value = self._doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number", value)
        return float(value)

    def opt_number(self, key: str) -> float | None:
        return None if self._doc.get(key) is None else self.number(key)

    def flag(self, key: str) -> bool:
        value = self._doc.get(key, False)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._doc.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings", value)
        return tuple(value)

    def heights(self, key: str) -> dict[str, int]:
        value = self._doc.get(key) or {}
        if not isinstance(value, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value.values()
        ):
            raise self._fail(key, "an object of agent id -> integer height", value)
        return dict(value)

    def objects(self, key: str) -> dict[str, _Fields]:
        value = self._doc.get(key) or {}
        if not isinstance(value, dict):
            raise self._fail(key, "an object keyed by agent id", value)
        return {k: _Fields(v, f"{self._where}: {key}.{k}") for k, v in value.items()}
