"""Journals and documents shared by a run's processes: nothing lost, nothing torn."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from monerosim_core.records.files import (
    JournalLockTimeout,
    append_line,
    locked,
    read_lines,
    remove_stale_temp_files,
    write_json_atomic,
)

WRITERS = 8
PER_WRITER = 500


def _append_many(path: str, writer: int) -> None:
    for i in range(PER_WRITER):
        append_line(Path(path), {"writer": writer, "i": i})


def _records(path: Path) -> list[dict[str, int]]:
    lines, problems = read_lines(path)
    assert problems == []
    return [doc for _, doc in lines]


def test_concurrent_appends_from_processes_keep_every_record(tmp_path: Path) -> None:
    path = tmp_path / "blocks.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(path), w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    records = _records(path)
    assert sorted((r["writer"], r["i"]) for r in records) == [
        (w, i) for w in range(WRITERS) for i in range(PER_WRITER)
    ]
    # Each writer's own records stay in the order it wrote them.
    for w in range(WRITERS):
        assert [r["i"] for r in records if r["writer"] == w] == list(range(PER_WRITER))


def _append_forever(path: str) -> None:
    i = 0
    while True:
        append_line(Path(path), {"i": i, "pad": "x" * 20000})
        i += 1


def _wait_for(predicate: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.01)


def test_writers_killed_while_appending_leave_every_whole_line_readable(tmp_path: Path) -> None:
    path = tmp_path / "transfers.jsonl"
    ctx = multiprocessing.get_context("fork")
    for kills in range(1, 11):
        proc = ctx.Process(target=_append_forever, args=(str(path),))
        proc.start()
        target = (path.stat().st_size if path.exists() else 0) + 100_000
        _wait_for(
            lambda target=target: path.exists() and path.stat().st_size > target, 60, "appends"
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        lines, problems = read_lines(path)
        assert len(problems) <= kills  # at most one torn line per killed writer
        assert all("torn" in p.reason or "not valid JSON" in p.reason for p in problems)
        assert lines, "the records before the kill are there"


def test_a_torn_last_line_is_reported_and_the_next_append_stays_whole(tmp_path: Path) -> None:
    path = tmp_path / "transfers.jsonl"
    append_line(path, {"i": 0})
    with open(path, "ab") as f:
        f.write(b'{"i": 1, "pad": "xx')  # what a writer killed mid-write leaves
    lines, problems = read_lines(path)
    assert [doc for _, doc in lines] == [{"i": 0}]
    assert [(p.line, p.reason) for p in problems] == [(2, "torn last line (a writer was killed)")]
    append_line(path, {"i": 2})
    lines, problems = read_lines(path)
    assert [doc for _, doc in lines] == [{"i": 0}, {"i": 2}]
    assert [p.line for p in problems] == [2]  # the torn line, closed, not the new one


def test_a_writer_holding_the_lock_too_long_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "blocks.jsonl"
    with open(path.with_name(path.name + ".lock"), "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(JournalLockTimeout, match="stuck"), locked(path, timeout=0.3):
            pass
        assert time.monotonic() - started < 5
    with locked(path, timeout=0.3):  # released: taken at once
        pass


def test_bad_lines_are_reported_with_their_numbers_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "blocks.jsonl"
    path.write_bytes(b'{"a":1}\n\xff\xfe\n{"a":NaN}\n' + b"[" * 100_000 + b'\n{"a":2}\n')
    lines, problems = read_lines(path)
    assert [doc for _, doc in lines] == [{"a": 1}, {"a": 2}]
    assert [(p.line, p.reason.split(" (")[0]) for p in problems] == [
        (2, "not UTF-8 text"),
        (3, "not valid JSON"),
        (4, "JSON nested too deeply"),
    ]


def test_atomic_write_replaces_the_whole_document(tmp_path: Path) -> None:
    path = tmp_path / "agent_registry.json"
    write_json_atomic(path, {"agents": [1, 2, 3]})
    write_json_atomic(path, {"agents": []})
    assert json.loads(path.read_text()) == {"agents": []}
    assert list(tmp_path.iterdir()) == [path]


def test_stale_temp_files_of_killed_writers_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".agent_registry.json.abc123.tmp"
    stale.write_text("{")
    keep = tmp_path / "agent_registry.json"
    keep.write_text("{}")
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert list(tmp_path.iterdir()) == [keep]
