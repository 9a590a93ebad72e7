"""Crash-safe files shared by the processes of one run.

Two kinds:

* **Documents** (registries, ``run.json``, ``final_state.json``) are replaced whole
  (temp file + rename), so a reader never sees half a document and a process dying
  mid-write loses nothing that was there. They are fsynced: written once or rarely,
  read by everything.
* **Journals** (``*.jsonl``: blocks, transfers, confirmations, ...) are append-only
  JSON Lines, one record a line: an append is O(1), whatever the file's size. Each
  append takes an exclusive ``flock`` on a sidecar lock file, with a deadline, so
  appends from several processes never interleave and a writer stuck holding the
  lock is detected (:class:`JournalLockTimeout`), not waited for forever. A writer
  killed mid-line leaves a torn last line: the next append first ends it, and
  readers skip it and report it (:class:`LineProblem`), never fail on it.

Appends are not fsynced: ``write()`` has handed the line to the kernel when it
returns, which survives the death of the process (SIGKILL included); only a crash
of the machine could lose it, and an fsync per record cost the block controller
10+ ms of a ~100 ms block.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

LOCK_POLL = 0.005  # seconds between attempts to take a journal lock
LOCK_TIMEOUT = 10.0  # an append holds the lock for microseconds; 10 s means a stuck writer
TEMP_SUFFIX = ".tmp"


class RecordFileError(Exception):
    """A shared file that cannot be read as what it should be; the message names it."""


class JournalLockTimeout(RecordFileError):
    """Another process has held a journal's lock for longer than any append takes."""


def write_json_atomic(
    path: Path, document: Any, mode: int = 0o644, *, durable: bool = True
) -> None:
    """Replace ``path`` with ``document`` as JSON, atomically, with permissions ``mode``.

    ``durable`` also flushes the data to disk before the rename (survives a
    machine crash, not only a process crash).
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, mode)  # mkstemp creates 0600; the final mode is set before it appears
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            json.dump(document, tmp, indent=1, allow_nan=False)
            tmp.write("\n")
            tmp.flush()
            if durable:
                os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete the temp files of atomic writes that a killed process left in ``directory``."""
    removed = []
    for path in directory.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def read_json(path: Path) -> Any:
    """The JSON document in ``path``.

    :raises FileNotFoundError: when it does not exist.
    :raises RecordFileError: when it is unreadable, not UTF-8, not JSON or absurdly deep.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise RecordFileError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return parse_json(data)
    except ValueError as exc:
        raise RecordFileError(f"{path}: {exc}") from None


def parse_json(data: bytes) -> Any:
    """Decode one JSON value; ValueError with a short reason for anything that is not."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"not valid JSON ({name} is not a number JSON allows)")


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (on ``path.lock``) across processes.

    :raises JournalLockTimeout: when another process holds it for ``timeout`` seconds.
    """
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a") as lock_file:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
            if time.monotonic() > deadline:
                raise JournalLockTimeout(
                    f"{path}: its lock has been held for over {timeout:g} s; a writer is "
                    "stuck (stopped or hung while appending)"
                )
            time.sleep(LOCK_POLL)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def append_line(path: Path, document: Any) -> None:
    """Append ``document`` as one JSON line, safely against concurrent writers."""
    line = json.dumps(document, separators=(",", ":"), allow_nan=False).encode() + b"\n"
    with locked(path):
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if _ends_torn(fd):
                line = b"\n" + line  # a writer died mid-line: close its line, keep ours whole
            os.write(fd, line)
        finally:
            os.close(fd)


def _ends_torn(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


@attrs.frozen
class LineProblem:
    """A journal line that could not be read: where, and why."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path.name} line {self.line}: {self.reason}"


def read_lines(path: Path) -> tuple[list[tuple[int, Any]], list[LineProblem]]:
    """The decoded lines of a journal (with line numbers) and the lines that failed.

    A missing file has no lines. A last line without its newline is a torn write.
    """
    data = _read_from(path, 0)
    lines = data.split(b"\n")
    decoded, problems = _decode_lines(path, lines[:-1], first_number=1)
    if lines[-1].strip():
        problems.append(LineProblem(path, len(lines), "torn last line (a writer was killed)"))
    return decoded, problems


def read_new_lines(
    path: Path, offset: int, first_number: int
) -> tuple[list[tuple[int, Any]], list[LineProblem], int, int]:
    """The complete lines added since byte ``offset`` (line ``first_number`` there),
    the lines that failed, and the byte offset and line number to continue from. A
    line still being written is left for the next call."""
    data = _read_from(path, offset)
    end = data.rfind(b"\n") + 1
    lines = data[:end].split(b"\n")[:-1]
    decoded, problems = _decode_lines(path, lines, first_number)
    return decoded, problems, offset + end, first_number + len(lines)


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise RecordFileError(f"{path}: cannot be read ({exc.strerror})") from None


def _decode_lines(
    path: Path, lines: list[bytes], first_number: int
) -> tuple[list[tuple[int, Any]], list[LineProblem]]:
    decoded: list[tuple[int, Any]] = []
    problems: list[LineProblem] = []
    for number, raw in enumerate(lines, start=first_number):
        if not raw.strip():
            continue
        try:
            decoded.append((number, parse_json(raw)))
        except ValueError as exc:
            problems.append(LineProblem(path, number, str(exc)))
    return decoded, problems
