"""Record files shared by agent processes: concurrent appends lose nothing."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

from monerosim_core.state_files import append_record, read_records, write_json_atomic

WRITERS = 4
PER_WRITER = 50


def _append_many(path: str, writer: int) -> None:
    for i in range(PER_WRITER):
        append_record(Path(path), {"writer": writer, "i": i})


def test_concurrent_appends_from_processes_keep_every_record(tmp_path: Path) -> None:
    path = tmp_path / "blocks_found.json"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(path), w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    records = read_records(path)
    assert sorted((r["writer"], r["i"]) for r in records) == [
        (w, i) for w in range(WRITERS) for i in range(PER_WRITER)
    ]


def _append_forever(path: str) -> None:
    i = 0
    while True:
        append_record(Path(path), {"i": i, "pad": "x" * 2000})
        i += 1


def test_a_writer_killed_mid_write_leaves_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "transactions.json"
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_append_forever, args=(str(path),))
    proc.start()
    while len(read_records(path)) < 20:
        pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    records = read_records(path)  # parses: the file was never half-written
    assert [r["i"] for r in records] == list(range(len(records)))


def test_atomic_write_replaces_the_whole_document(tmp_path: Path) -> None:
    path = tmp_path / "agent_registry.json"
    write_json_atomic(path, {"agents": [1, 2, 3]})
    write_json_atomic(path, {"agents": []})
    assert json.loads(path.read_text()) == {"agents": []}
