"""Block controller throughput, start-up time and memory, on real daemons.

Run: ``.venv/bin/python benchmarks/bench_controller.py [--blocks 60] [--sizes 3 10]``

For each network size N (N miner agents, each a monerod + wallet-rpc on 127.0.0.1):

- start-up: wall time from starting the processes to the first block mined by the
  controller (processes answering, wallets created, nodes peered, first block);
- the controller's blocks per second (discovery, weighted selection, waiting for
  the winner to hold the tip, generateblocks, header, record) against a bare
  ``generateblocks`` loop on one node of the same network, back to back in one run;
  and the controller's rate without the time it waited for a new winner's node to
  receive and verify the previous block (propagation: the cost of not forking,
  which a loop on one node never pays);
- RSS per monerod and per wallet-rpc at the end (from /proc).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from monerosim_core.agents.block_controller import BlockController
from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.engine.network import start_network
from monerosim_core.planning.plan import BLOCK_CONTROLLER_ID
from monerosim_core.planning.prepare import prepare_run
from monerosim_core.processes.supervisor import ProcessSupervisor
from monerosim_core.simtime.clocks import FixedClock

CONFIG = """\
general: {{stop_time: "10h", seed: 1, bootstrap_blocks: 0}}
agents:
  user_agents:
{miners}
  block_controller:
    script: agents.block_controller
"""
MINER = (
    "    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true,"
    ' attributes: {{hashrate: "{h}"}}}}'
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(size: int, blocks: int, workdir: Path) -> dict[str, float]:
    config = workdir / f"bench-{size}.yaml"
    hashrates = [size - i for i in range(size)]  # unequal shares
    config.write_text(CONFIG.format(miners="\n".join(MINER.format(h=h) for h in hashrates)))
    plan, run = prepare_run(config, workdir / f"run-{size}")
    scenario = plan.scenario
    assert scenario.block_controller is not None
    with ProcessSupervisor(run.root) as supervisor:
        started = time.monotonic()
        network = start_network(plan, run, supervisor)
        network.wait_for_wallets()
        rt = AgentRuntime.open(BLOCK_CONTROLLER_ID, run.root, clock=FixedClock())
        controller = BlockController.create(rt, scenario.block_controller)
        sim_time = 0.0
        controller.mine_block(sim_time, bootstrap=True)
        startup = time.monotonic() - started

        # Warm every node's RandomX cache first, so neither loop pays for it.
        for _ in range(3 * size):
            sim_time += 1.0
            controller.mine_block(sim_time, bootstrap=True)

        t0 = time.perf_counter()
        records = []
        for _ in range(blocks):
            sim_time += 1.0
            record = controller.mine_block(sim_time, bootstrap=False)
            assert record is not None
            records.append(record)
        elapsed = time.perf_counter() - t0
        controller_rate = blocks / elapsed
        own_rate = blocks / (elapsed - sum(r.wall_tip_wait for r in records))

        node_id = plan.nodes[0].agent.id
        node = network.daemons[node_id]
        address = plan.registry().agent(node_id).wallet_address
        assert address is not None
        t0 = time.perf_counter()
        for _ in range(blocks):
            node.generateblocks(1, address)
        bare_rate = blocks / (time.perf_counter() - t0)
        rt.close()

        procs = supervisor.processes.values()
        monerod = [rss_mb(p.pid) for p in procs if p.kind == "monerod"]
        wallets = [rss_mb(p.pid) for p in procs if p.kind == "wallet-rpc"]
        network.close_clients()
    return {
        "startup": startup,
        "controller": controller_rate,
        "bare": bare_rate,
        "own": own_rate,
        "monerod_rss": statistics.mean(monerod),
        "monerod_rss_max": max(monerod),
        "wallet_rss": statistics.mean(wallets),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=60)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 10])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    print(f"blocks per loop: {args.blocks}\n")
    header = (
        f"{'agents':>6} {'start->1st block':>17} {'controller blk/s':>17} {'bare blk/s':>11}"
        f" {'ratio':>6} {'w/o propag.':>12} {'monerod RSS':>12} {'(max)':>7} {'wallet RSS':>11}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="monerosim-bench-") as tmp:
        for size in args.sizes:
            r = measure(size, args.blocks, Path(tmp))
            print(
                f"{size:>6} {r['startup']:>15.1f} s {r['controller']:>17.2f} {r['bare']:>11.2f}"
                f" {r['controller'] / r['bare']:>6.2f} {r['own'] / r['bare']:>12.2f}"
                f" {r['monerod_rss']:>9.0f} MB"
                f" {r['monerod_rss_max']:>7.0f} {r['wallet_rss']:>8.0f} MB",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
