"""How fast exact simulated time runs, and where the wall time goes.

Run: ``.venv/bin/python benchmarks/bench_pace.py [--hours 6] [--no-capped] [--keep DIR]``

Three runs of ``monerosim run`` on real daemons, each reported from its run directory:

1. the quickstart network (9 nodes, transfers, monitors) for ``--hours`` simulated
   hours at full pace;
2. the same network capped at ``--speed 60`` (skipped with ``--no-capped``);
3. a blocks-only network of 7 miners (shares 25/25/10/10/10/5/5) for 24 simulated
   hours at full pace.

For each: wall time from command to report, split into start-up, bootstrap,
simulation and shutdown; the pace; blocks mined against blocks due and the mean
interval; the wall time the block actions spent waiting (tip, settling, mining);
RPC wall time by method; the share of transfers confirmed within 1 and 2 blocks.
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

from monerosim_core.report import Report, build_report

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "configs" / "quickstart.yaml"

BLOCKS_ONLY = """\
general: {stop_time: "24h", seed: 7, bootstrap_blocks: 100}
agents:
  user_agents:
%s
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 120"]
"""
MINER = (
    "    - {daemon: monerod, wallet: monero-wallet-rpc, is_miner: true,"
    ' attributes: {hashrate: "%d"}}'
)


def quickstart_for(hours: float, directory: Path) -> Path:
    text = QUICKSTART.read_text().replace('stop_time: "2h"', f'stop_time: "{hours:g}h"')
    assert f'stop_time: "{hours:g}h"' in text, "the quickstart's stop_time line changed"
    path = directory / f"quickstart-{hours:g}h.yaml"
    path.write_text(text)
    return path


def blocks_only(directory: Path) -> Path:
    path = directory / "seven-miners-24h.yaml"
    miners = "\n".join(MINER % share for share in (25, 25, 10, 10, 10, 5, 5))
    path.write_text(BLOCKS_ONLY % miners)
    return path


def run(config: Path, run_dir: Path, *extra: str) -> tuple[float, Report]:
    cli = [sys.executable, "-m", "monerosim_core.cli", "run", str(config)]
    started = time.monotonic()
    done = subprocess.run(
        [*cli, "--run-dir", str(run_dir), "--progress", "lines", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    total = time.monotonic() - started
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"monerosim run {config.name} exited {done.returncode}")
    return total, build_report(run_dir)


def describe(title: str, total: float, report: Report) -> list[str]:
    t, i = report.timing, report.intervals
    phases = t.phases or {}
    lines = [
        f"== {title}",
        f"  wall, command to report: {total:.1f} s = "
        + " + ".join(f"{name} {secs:.1f}" for name, secs in phases.items())
        + f" (+ {total - sum(phases.values()):.1f} report and process start)",
        f"  pace: {t.pace:.1f} simulated s per wall s"
        + ("" if t.speed_cap is None else f" (cap {t.speed_cap:g}x)"),
        f"  blocks: {i.due - len(i.missing)} mined of {i.due} due; interval mean "
        f"{i.mean:.3f} s (configured {i.configured:g} s); findings: {len(report.findings)}",
        f"  block actions: tip wait {t.tip_wait_wall:.1f} s, settling {t.settle_wall:.1f} s "
        f"(bound hit {t.settle_bound_hits}x), mining {t.mining_wall:.1f} s",
    ]
    if report.transfers is not None and report.transfers.totals.sent:
        within = {w.blocks: w for w in report.transfers.confirmation.within}
        sent = report.transfers.totals.sent
        lines.append(
            f"  transfers: {sent} sent, {report.transfers.totals.failed} failed; confirmed within "
            f"1 block {within[1].count / sent:.1%}, within 2 blocks {within[2].count / sent:.1%} "
            "(of those sent)"
        )
    lines.append("  RPC wall time by method (top 8): " + ", ".join(
        f"{r.method} {r.wall:.1f} s/{r.calls}" for r in t.rpc[:8]
    ))  # fmt: skip
    busiest = ", ".join(f"{a.agent_id} {a.busy_wall:.1f} s" for a in t.agents[:4])
    lines.append(f"  agents' busy wall time: {busiest}")
    for finding in report.findings:
        lines.append(f"  finding: {finding}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=6.0, help="quickstart simulated hours")
    parser.add_argument("--no-capped", action="store_true", help="skip the --speed 60 run")
    parser.add_argument("--keep", type=Path, help="keep the run directories here")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {load:.1f}; "
        f"python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="monerosim-bench-") as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        quickstart = quickstart_for(args.hours, base)
        runs = [(f"quickstart {args.hours:g} h, full pace", quickstart, ())]
        if not args.no_capped:
            runs.append((f"quickstart {args.hours:g} h, --speed 60", quickstart, ("--speed", "60")))
        runs.append(("7 miners, blocks only, 24 h, full pace", blocks_only(base), ()))
        for index, (title, config, extra) in enumerate(runs):
            total, report = run(config, base / f"run-{index}", *extra)
            print("\n".join(describe(title, total, report)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
