"""The Shadow engine at scale: writing big simulations, and running networks under Shadow.

Run: ``.venv/bin/python benchmarks/bench_shadow.py [--agents 1000] [--sizes 10]
[--sim-hours 1] [--keep DIR]``; ``--sizes 10 20 40`` runs the larger networks too
(tens of minutes each on 2 cores). ``--sizes`` with nothing skips the Shadow runs.

1. Generation, for ``--agents`` agents (50 miners, the rest users, a distributor,
   the controller and a monitor; random peering, out-degree 8): the wall time to
   write the simulation from the loaded scenario (placement, daemon command
   lines, registry, ``shadow.yaml``), the parts of it (directories and login files,
   compiling the shim), and loading the YAML config itself; wall and CPU time. It
   then checks that every host has its own IP, every (IP, port) endpoint is
   unique, and the registry's addresses and ports are those of the hosts' processes.
2. For each size N: a network of N nodes (N-2 miners, a user, a distributor, the
   controller, a monitor; random peering, out-degree 8) run under Shadow for
   ``--sim-hours`` simulated hours after the 100-block bootstrap. Reported: the
   whole run's wall time, the start-up (until simulated t=0: daemons, wallets,
   the bootstrap verified by every node), the wall time per simulated hour after
   t=0 (from Shadow's heartbeats), and peak memory: the sum of PSS (and RSS) over
   every process of the run, sampled every 2 s, and per node (divided by N; the
   controller's and monitor's hosts count too). If the machine's available memory
   falls under 1.5 GB the run is stopped, to protect whatever else runs here.
3. The largest network this machine runs for a simulated hour, estimated from the
   largest measured run's memory per node against the machine's total memory (an
   estimate: a full run at that size takes hours), beside the local engine's
   ceiling from monerod's measured footprint on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from monerosim_core.config import load_scenario
from monerosim_core.engine.shadow import simulation as simulation_module
from monerosim_core.engine.shadow.simulation import write_simulation
from monerosim_core.records.layout import RunDir
from monerosim_core.records.registry import read_registry

MINER = '    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "{h}"}}}}'  # noqa: E501
USER = (
    "    - {daemon: monerod, wallet: monero-wallet-rpc, user_script: agents.regular_user,"
    ' attributes: {transaction_interval: "600"}}'
)
DISTRIBUTOR = (
    "    - {daemon: monerod, wallet: monero-wallet-rpc, user_script: agents.miner_distributor}"
)
TAIL = """\
  block_controller: {script: agents.block_controller}
  pure_script_agents:
    - {script: scripts.monitor, arguments: ["--interval 300"]}
"""
# The local engine's footprint per node, measured by benchmarks/bench_controller.py
# on this machine (README): monerod 470-660 MB, wallet-rpc ~32 MB.
LOCAL_MB_PER_NODE = 660 + 32
MIN_AVAILABLE_KB = 1_500_000
SHADOW_EPOCH = 946_684_800  # 2000-01-01 00:00:00 UTC, Shadow's simulated time 0
SIMTIME = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) .*at simtime (\d+)", re.MULTILINE)


def scenario(miners: int, users: int, stop: str) -> str:
    lines = [
        f'general: {{stop_time: "{stop}", seed: 1}}',
        "network: {peering: random, out_degree: 8}",
        "agents:",
        "  user_agents:",
        *(MINER.format(h=1 + i % 5) for i in range(miners)),
        *([USER] * users),
        DISTRIBUTOR,
    ]
    return "\n".join(lines) + "\n" + TAIL


# ------------------------------------------------------------------ generation


def bench_generation(agents: int, workdir: Path) -> dict[str, Any]:
    config = workdir / f"generate-{agents}.yaml"
    miners = min(50, agents - 3)
    config.write_text(scenario(miners, agents - 3 - miners, "1h"))
    started, cpu = time.perf_counter(), time.process_time()
    loaded = load_scenario(config)
    load_wall, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    parts: Counter[str] = Counter()

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                parts[name] += time.perf_counter() - began

        return wrapper

    # The scenario is loaded once, above: generation starts from it.
    original = simulation_module.load_scenario
    simulation_module.load_scenario = lambda _path: loaded
    shim = simulation_module.build_shim
    simulation_module.build_shim = timed("shim", shim)
    prepares = [(c, c.prepare) for c in (simulation_module.NodeSpec, simulation_module.WalletSpec)]
    for cls, prepare in prepares:
        cls.prepare = timed("directories and login files", prepare)  # type: ignore[method-assign]
    try:
        started, cpu = time.perf_counter(), time.process_time()
        simulation = write_simulation(config, workdir / f"generated-{agents}")
        total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        simulation_module.load_scenario = original
        simulation_module.build_shim = shim
        for cls, prepare in prepares:
            cls.prepare = prepare  # type: ignore[method-assign]
    checks = check_generated(simulation.run, simulation.config)
    return {
        "agents": agents,
        "hosts": checks["hosts"],
        "total_s": round(total, 3),
        # On a shared machine wall time says more about the neighbours than about
        # this code: this process's CPU time (the compiler of the shim excluded)
        # is the steadier figure.
        "total_cpu_s": round(total_cpu, 3),
        "without_files_and_shim_s": round(total - sum(parts.values()), 3),
        "parts_s": {k: round(v, 3) for k, v in parts.items()},
        "config_load_s": round(load_wall, 3),
        "config_load_cpu_s": round(load_cpu, 3),
        "load_average": round(os.getloadavg()[0], 1),
        "shadow_yaml_mb": round(simulation.config.stat().st_size / 1e6, 1),
        "checks": checks,
    }


def check_generated(run: RunDir, config: Path) -> dict[str, Any]:
    doc = json.loads(config.read_text().split("\n", 1)[1])
    hosts = doc["hosts"]
    ips = [h["ip_addr"] for h in hosts.values()]
    endpoints = []
    for host in hosts.values():
        for process in host["processes"]:
            args = process["args"]
            for flag in ("--rpc-bind-port", "--p2p-bind-port"):
                if flag in args:
                    endpoints.append((host["ip_addr"], args[args.index(flag) + 1]))
    registry = read_registry(run.shared)
    mismatched = []
    for agent in registry.agents:
        host = hosts[agent.id]
        ports = {
            p["path"]: p["args"][p["args"].index("--rpc-bind-port") + 1]
            for p in host["processes"]
            if "--rpc-bind-port" in p["args"]
        }
        expected = {
            "monerod": None if agent.daemon_rpc_port is None else str(agent.daemon_rpc_port),
            "monero-wallet-rpc": None
            if agent.wallet_rpc_port is None
            else str(agent.wallet_rpc_port),
        }
        if host["ip_addr"] != agent.ip_addr or any(ports.get(k) != v for k, v in expected.items()):
            mismatched.append(agent.id)
    miner_ips = {m.agent_id: m.ip_addr for m in registry.miners}
    mismatched += [a for a, ip in miner_ips.items() if hosts[a]["ip_addr"] != ip]
    result = {
        "hosts": len(hosts),
        "unique_ips": len(set(ips)) == len(ips),
        "unique_endpoints": len(set(endpoints)) == len(endpoints),
        "registry_agrees": not mismatched,
    }
    assert all(result[k] for k in ("unique_ips", "unique_endpoints", "registry_agrees")), (
        result,
        mismatched[:5],
    )
    return result


# ------------------------------------------------------------------ runs under Shadow


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def memory_kb(pids: list[int]) -> tuple[int, int, int]:
    """Summed RSS and PSS, and the largest single RSS, of ``pids`` (kB)."""
    rss = pss = largest = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        values = {line.split(":")[0]: int(line.split()[1]) for line in lines[1:] if ":" in line}
        rss += values.get("Rss", 0)
        pss += values.get("Pss", 0)
        largest = max(largest, values.get("Rss", 0))
    return rss, pss, largest


def available_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def bench_size(nodes: int, sim_hours: float, workdir: Path) -> dict[str, Any]:
    config = workdir / f"shadow-{nodes}.yaml"
    config.write_text(scenario(nodes - 2, 1, f"{round(sim_hours * 3600)}s"))
    run_dir = workdir / f"run-{nodes}"
    # The run's output goes to a file: a pipe read only at the end would fill up
    # (progress lines for the whole run, then the report) and stall the run.
    output = workdir / f"run-{nodes}.out"
    load_before = os.getloadavg()
    started = time.monotonic()
    with output.open("w") as out_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monerosim_core.cli", "run", "--engine", "shadow", str(config),
             "--run-dir", str(run_dir), "--progress", "lines"],
            stdout=out_file, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    peak = {"rss_kb": 0, "pss_kb": 0, "largest_rss_kb": 0, "processes": 0}
    aborted = False
    while proc.poll() is None:
        pids = tree(proc.pid)
        rss, pss, largest = memory_kb(pids)
        peak = {
            "rss_kb": max(peak["rss_kb"], rss),
            "pss_kb": max(peak["pss_kb"], pss),
            "largest_rss_kb": max(peak["largest_rss_kb"], largest),
            "processes": max(peak["processes"], len(pids)),
        }
        if available_kb() < MIN_AVAILABLE_KB and not aborted:
            aborted = True
            os.kill(proc.pid, signal.SIGTERM)  # the engine stops Shadow and its processes
        time.sleep(2)
    proc.wait()
    out = output.read_text(errors="replace")
    wall = time.monotonic() - started
    phases = shadow_phases(RunDir(run_dir))
    summary_path = run_dir / "report" / "summary.json"
    report = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return {
        "nodes": nodes,
        "sim_hours": sim_hours,
        "exit_code": proc.returncode,
        "aborted_low_memory": aborted,
        "wall_s": round(wall, 1),
        **phases,
        "peak_pss_mb": round(peak["pss_kb"] / 1024),
        "peak_rss_mb": round(peak["rss_kb"] / 1024),
        "largest_process_rss_mb": round(peak["largest_rss_kb"] / 1024),
        "pss_per_node_mb": round(peak["pss_kb"] / 1024 / nodes),
        "rss_per_node_mb": round(peak["rss_kb"] / 1024 / nodes),
        "processes": peak["processes"],
        "load_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "findings": report.get("findings"),
        "blocks_after_bootstrap": report.get("blocks", {}).get("counted"),
        "tail": out.splitlines()[-12:] if proc.returncode else [],
    }


def shadow_phases(run: RunDir) -> dict[str, Any]:
    """Wall seconds until simulated t=0 and per simulated hour after it, from the
    heartbeats in Shadow's log (each: wall time since Shadow started, Shadow time).

    The start-up is read at the first heartbeat at or after t=0, so it includes up to
    one heartbeat interval (a simulated minute) of the run proper: a few wall seconds,
    against minutes of start-up. t=0 often falls just before a heartbeat, so there
    may be no heartbeat before it at all."""
    info = run.read_info()
    try:
        text = (run.logs / "shadow.log").read_text(errors="replace")
    except OSError:
        return {}
    beats = sorted(
        {
            (int(h) * 3600 + int(m) * 60 + float(s), int(ns) / 1e9)
            for h, m, s, ns in SIMTIME.findall(text)
        }
    )
    t0 = (info.chain_epoch or 0) - SHADOW_EPOCH
    after = [(wall, sim) for wall, sim in beats if sim >= t0]
    if len(after) < 2:
        return {}
    (w0, s0), (w1, s1) = after[0], after[-1]
    return {
        "startup_wall_s": round(w0, 1),
        "wall_per_sim_hour_s": round((w1 - w0) / (s1 - s0) * 3600, 1),
    }


def estimate_largest(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    measured = [r for r in runs if r.get("exit_code") == 0 and r.get("pss_per_node_mb")]
    if not measured:
        return None
    biggest = max(measured, key=lambda r: r["nodes"])
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    usable_mb = total_mb - 2048  # the system and the engine itself
    per_node = biggest["pss_per_node_mb"]
    nodes = int(usable_mb // per_node)
    estimate: dict[str, Any] = {
        "basis": f"{biggest['nodes']}-node run: {per_node} MB PSS per node",
        "machine_memory_mb": round(total_mb),
        "shadow_nodes_estimate": nodes,
        "local_engine_nodes_estimate": int(usable_mb // LOCAL_MB_PER_NODE),
    }
    if biggest.get("wall_per_sim_hour_s") and biggest.get("startup_wall_s"):
        scale = nodes / biggest["nodes"]
        estimate["shadow_wall_h_estimate"] = round(
            scale * (biggest["startup_wall_s"] + biggest["wall_per_sim_hour_s"]) / 3600, 1
        )
    return estimate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000, help="agents to generate")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10], help="nodes per run")
    parser.add_argument("--sim-hours", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="keep the run directories here")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-shadow-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"generation": bench_generation(args.agents, workdir)}
    print(json.dumps({"generation": results["generation"]}, indent=1), flush=True)
    runs = []
    for size in args.sizes:
        print(f"running {size} nodes for {args.sim_hours:g} simulated hour(s) under Shadow...",
              flush=True)  # fmt: skip
        runs.append(bench_size(size, args.sim_hours, workdir))
        print(json.dumps(runs[-1], indent=1), flush=True)
    results["runs"] = runs
    results["largest"] = estimate_largest(runs)
    print(json.dumps({"largest (an estimate)": results["largest"]}, indent=1))
    print(f"run directories: {workdir}")
    return 0 if all(r["exit_code"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
