"""Transfers sustained by the miner distributor and the users on the quickstart network.

Run: ``.venv/bin/python benchmarks/bench_transfers.py [--speed 60] [--run-dir DIR]``
(or ``--from-run RUN_DIR`` to analyse an existing run without running one).

Runs ``monerosim run configs/quickstart.yaml`` and prints, per kind of sender:
transfers sent and failed, per simulated minute and per wall minute of the
simulation proper (after the bootstrap), and the share confirmed within 1 and 2
blocks. Confirmation delay is in blocks because, at high speed, Dandelion++'s
real-time stem delay (0.25-3.6 s wall) spans minutes of simulated time.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from monerosim_core.records.layout import RunDir

ROOT = Path(__file__).resolve().parent.parent


def run_quickstart(run_dir: Path, speed: float) -> float:
    started = time.monotonic()
    config = ROOT / "configs" / "quickstart.yaml"
    cli = [sys.executable, "-m", "monerosim_core.cli", "run", str(config)]
    options = ["--run-dir", str(run_dir), "--speed", str(speed), "--progress", "lines"]
    subprocess.run([*cli, *options], check=True)
    return time.monotonic() - started


def analyse(run_dir: Path) -> None:
    run = RunDir(run_dir)
    info = run.read_info()
    assert info.sim_elapsed and info.ended_wall and info.clock_epoch_wall
    txs = list(run.transfers)
    confirmed_at = {c.tx_hash: c.height for c in run.confirmations}
    sim_minutes = info.sim_elapsed / 60
    wall_minutes = (info.ended_wall - info.clock_epoch_wall) / 60
    print(
        f"\nrun: {run_dir}  speed {info.speed:g}x  simulated {sim_minutes:.0f} min  "
        f"wall {wall_minutes:.2f} min (after bootstrap)"
    )
    header = (
        f"{'sender':<14} {'sent':>5} {'failed':>6} {'/sim min':>9} {'/wall min':>10}"
        f" {'<=1 block':>10} {'<=2 blocks':>11} {'unconfirmed':>12}"
    )
    print(header)
    print("-" * len(header))
    for kind in ("distribution", "user", "all"):
        rows = [t for t in txs if kind in ("all", t.kind)]
        sent = [t for t in rows if t.sent]
        delays = [
            confirmed_at[t.tx_hash] - t.sent_height
            for t in sent
            if t.tx_hash in confirmed_at and t.sent_height is not None
        ]
        within = [sum(d <= k for d in delays) / len(sent) if sent else 0.0 for k in (1, 2)]
        print(
            f"{kind:<14} {len(sent):>5} {len(rows) - len(sent):>6}"
            f" {len(sent) / sim_minutes:>9.2f} {len(sent) / wall_minutes:>10.1f}"
            f" {within[0]:>10.1%} {within[1]:>11.1%} {len(sent) - len(delays):>12}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--from-run", type=Path, help="analyse this run instead of running")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    if args.from_run:
        analyse(args.from_run)
        return 0
    with tempfile.TemporaryDirectory(prefix="monerosim-bench-") as tmp:
        run_dir = args.run_dir or Path(tmp) / "run"
        total = run_quickstart(run_dir, args.speed)
        print(f"\nwhole run (start-up, bootstrap, simulation, shutdown, report): {total:.0f} s")
        analyse(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
