"""Crash-safe JSON files shared by the processes of one run.

Every write replaces the file whole (temp file + rename), so a reader never
sees half a document and a process dying mid-write loses nothing that was
already there. Registries are also fsynced (written once, read by everything);
record appends are not: a rename is already atomic against a process dying, and
an fsync per block cost the block controller 10+ ms of a ~100 ms block
(benchmarks/bench_controller.py) for protection only against a machine crash.

Record lists (``blocks_found.json``, ``transactions.json``) are
read-modify-written under an exclusive ``flock`` on a sidecar lock file, so
appends from several agents never overwrite each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BLOCKS_FILE = "blocks_found.json"
TRANSACTIONS_FILE = "transactions.json"


def write_json_atomic(
    path: Path, document: Any, mode: int = 0o644, *, durable: bool = True
) -> None:
    """Replace ``path`` with ``document`` as JSON, atomically, with permissions ``mode``.

    ``durable`` also flushes the data to disk before the rename (survives a
    machine crash, not only a process crash).
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # mkstemp creates 0600; the file's final mode is set before it appears
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            json.dump(document, tmp, indent=1, sort_keys=False)
            tmp.write("\n")
            tmp.flush()
            if durable:
                os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (on ``path.lock``) across processes."""
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a record file; an absent file has none."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return []
    if not isinstance(doc, list):
        raise ValueError(f"{path}: expected a JSON list of records")
    return doc


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record to a record file, safely against concurrent writers."""
    update_records(path, lambda records: [*records, record])


def update_records(
    path: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> None:
    """Apply ``change`` to a record file's records under the file's lock."""
    with locked(path):
        write_json_atomic(path, change(read_records(path)), durable=False)
