"""Start-up: from the command to the first simulated block, cold and warm cache.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--sizes 3 10]``

For each network size N (N miners, each a monerod and a monero-wallet-rpc, the block
controller, 100 bootstrap blocks, blocks every 60 simulated seconds), two runs of
``monerosim run`` sharing a fresh bootstrap cache: cold (mines the bootstrap and
stores it) and warm (starts on the cached chain). Each run stops right after its
first simulated block. Printed per run:

- wall seconds from the command to the first simulated block (its record's wall time);
- the engine's phases (processes up, peering, bootstrap, wallets, agents joining);
- the peak RSS of each kind of process (monerod, wallet-rpc, agent), sampled from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from monerosim_core.records.layout import RunDir

CONFIG = """\
general: {{stop_time: "61s", seed: 1, bootstrap_blocks: 100}}
agents:
  user_agents:
{miners}
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 60"]
"""
MINER = (
    "    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true,"
    ' attributes: {{hashrate: "{h}"}}}}'
)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler(threading.Thread):
    """Peak RSS per kind of process of a run, from its pids.json, every 0.2 s."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(daemon=True)
        self.run_dir, self.peaks = run_dir, defaultdict(float)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            try:
                doc = json.loads((self.run_dir / "pids.json").read_text())
            except (OSError, ValueError):
                continue
            for p in doc["processes"]:
                self.peaks[p["kind"]] = max(self.peaks[p["kind"]], rss_mb(int(p["pid"])))


def one_run(config: Path, run_dir: Path, cache: Path) -> dict[str, object]:
    sampler = RssSampler(run_dir)
    sampler.start()
    started = time.time()
    cli = [sys.executable, "-m", "monerosim_core.cli", "run", str(config)]
    done = subprocess.run(
        [*cli, "--run-dir", str(run_dir), "--cache-dir", str(cache), "--progress", "lines"],
        capture_output=True,
        text=True,
        check=False,
    )
    sampler.done.set()
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    run = RunDir(run_dir)
    first = next(b for b in run.blocks if not b.bootstrap)
    timing = run.read_timing()
    assert timing is not None
    return {
        "to_first_block": first.wall_time - started,
        "source": run.read_info().bootstrap_source,
        "phases": dict(timing.phases),
        "rss": dict(sampler.peaks),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 10])
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
        f"python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="monerosim-bench-") as tmp:
        base = Path(tmp)
        for size in args.sizes:
            config = base / f"startup-{size}.yaml"
            miners = "\n".join(MINER.format(h=size - i) for i in range(size))
            config.write_text(CONFIG.format(miners=miners))
            cache = base / f"cache-{size}"
            for label in ("cold", "warm"):
                r = one_run(config, base / f"run-{size}-{label}", cache)
                phases = ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())  # type: ignore[union-attr]
                rss = ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(r["rss"].items()))  # type: ignore[union-attr]
                print(
                    f"{size:>3} agents {label} ({r['source']}): command -> first simulated "
                    f"block {r['to_first_block']:.1f} s\n      phases (s): {phases}\n"
                    f"      peak RSS: {rss}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
