"""What an append to a record journal costs as the journal grows, and with writers in
parallel (round 1's JSON-array files cost O(n) per append: 4 ms at 100 records,
126 ms at 5,000, 1.3 s at 50,000).

Run: ``.venv/bin/python benchmarks/bench_records.py [--sizes 100 5000 50000]``

For each size: a journal is filled to that many block-sized records, then 200 more
appends are timed (median and 99th percentile). Then 8 processes append 500
records each to one journal: wall time, appends per second, records read back.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import statistics
import tempfile
import time
from pathlib import Path

from monerosim_core.records.files import append_line, read_lines

RECORD = {
    "height": 0,
    "hash": "ab" * 32,
    "winner": "miner-01",
    "wallet_address": "4" * 95,
    "sim_time": 120.0,
    "wall_time": 1.7e9,
    "bootstrap": False,
    "node": "127.0.0.1:28000",
}
TIMED = 200
WRITERS, PER_WRITER = 8, 500


def append_cost(size: int, directory: Path) -> tuple[float, float]:
    """Median and 99th percentile milliseconds per append at ``size`` records."""
    path = directory / f"blocks-{size}.jsonl"
    for height in range(size):
        append_line(path, {**RECORD, "height": height})
    costs = []
    for height in range(size, size + TIMED):
        started = time.perf_counter()
        append_line(path, {**RECORD, "height": height})
        costs.append((time.perf_counter() - started) * 1000)
    costs.sort()
    return statistics.median(costs), costs[int(0.99 * len(costs)) - 1]


def _writer(path: str, writer: int) -> None:
    for i in range(PER_WRITER):
        append_line(Path(path), {**RECORD, "height": i, "winner": f"w{writer}"})


def parallel(directory: Path) -> tuple[float, int]:
    path = directory / "parallel.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), w)) for w in range(WRITERS)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    wall = time.perf_counter() - started
    lines, problems = read_lines(path)
    assert not problems
    return wall, len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 5000, 50000])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {multiprocessing.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            median, p99 = append_cost(size, Path(tmp))
            print(f"append at {size:>6} records: median {median:.3f} ms, p99 {p99:.3f} ms")
        wall, read = parallel(Path(tmp))
        total = WRITERS * PER_WRITER
        print(
            f"{WRITERS} processes x {PER_WRITER} appends: {wall:.2f} s, "
            f"{total / wall:.0f} appends/s, {read} of {total} records read back"
        )


if __name__ == "__main__":
    main()
