"""``pids.json``: every process a run started, so none can outlive it unnoticed.

The supervisor rewrites the file whenever it starts or reaps a process. Each entry
carries the process's start time in clock ticks, which tells a PID's owner apart
from a later process that reuses the number, so :func:`kill_leftovers` never
signals a stranger.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

import attrs

from monerosim_core.records.files import RecordFileError, read_json, write_json_atomic
from monerosim_core.records.layout import PIDS_FILE


@attrs.frozen
class Leftover:
    """A process recorded in ``pids.json`` that is still running."""

    name: str
    kind: str
    pid: int


def write_pids(state_dir: Path, processes: Iterable[tuple[str, str, int, str, int | None]]) -> None:
    """Record ``(name, kind, pid, rpc address, exit code)`` of every process."""
    state_dir.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "name": name,
            "kind": kind,
            "pid": pid,
            "start_ticks": start_ticks(pid),
            "rpc": rpc,
            "exited": exited,
        }
        for name, kind, pid, rpc, exited in processes
    ]
    write_json_atomic(state_dir / PIDS_FILE, {"parent_pid": os.getpid(), "processes": records})


def start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks (/proc); None if the process is gone
    or a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def find_leftovers(state_dir: Path) -> list[Leftover]:
    """Processes of an earlier supervisor (say, one whose parent was killed) that
    still run: recorded in ``state_dir/pids.json`` with the same PID and start time."""
    try:
        doc = read_json(state_dir / PIDS_FILE)
        entries = list(doc.get("processes", []))
    except (FileNotFoundError, RecordFileError, AttributeError, TypeError):
        return []
    found = []
    for r in entries:
        with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
            if r.get("start_ticks") is not None and start_ticks(int(r["pid"])) == r["start_ticks"]:
                found.append(Leftover(str(r["name"]), str(r["kind"]), int(r["pid"])))
    return found


def kill_leftovers(state_dir: Path, *, grace: float = 5.0) -> list[Leftover]:
    """SIGTERM the :func:`find_leftovers` processes, SIGKILL any still there after
    ``grace`` seconds; returns what was found. Each PID is re-checked against its
    recorded start time before every signal."""
    found = find_leftovers(state_dir)
    for sig, seconds in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for leftover in find_leftovers(state_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover.pid, sig)
        deadline = time.monotonic() + seconds
        while find_leftovers(state_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
    return found
