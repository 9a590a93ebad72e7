"""Writing a scenario as a Shadow simulation: golden files, Shadow's rules, placement.

The golden files in ``tests/golden/shadow/`` pin the whole ``shadow.yaml`` for the
two design examples and a GML scenario, with the run directory shown as ``{run}``
and the Python that wrote it as ``{python}``. After an intended change, rewrite
them with ``MONEROSIM_UPDATE_GOLDEN=1 pytest tests/test_shadow_simulation.py`` and
review the diff.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from ruamel.yaml import YAML

from monerosim_core.config import load_scenario
from monerosim_core.config.errors import ProblemLog
from monerosim_core.config.gml import read_gml
from monerosim_core.config.model import Network, Peering
from monerosim_core.engine.shadow import simulation as simulation_module
from monerosim_core.engine.shadow.placement import ENGINE_HOST, host_ips, place
from monerosim_core.engine.shadow.shim import SHIM_LIBRARY
from monerosim_core.engine.shadow.simulation import (
    Simulation,
    SimulationError,
    Variant,
    write_simulation,
)
from monerosim_core.engine.shadow.timeline import (
    CONTROLLER_START,
    DAEMONS_START,
    SETUP_START,
    SHADOW_EPOCH,
    WALLETS_START,
    Timeline,
)
from monerosim_core.engine.shadow.topology import (
    generated_gml,
    shadow_bandwidth,
    shadow_latency,
)
from monerosim_core.planning.plan import Plan
from monerosim_core.planning.prepare import checked_plan
from monerosim_core.plugins.host import get_plugin_manager
from monerosim_core.records.registry import read_registry
from monerosim_core.timeouts import Timeouts

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "shadow"
DATA = Path(__file__).resolve().parent / "data" / "shadow"
SCENARIOS = {
    "mining_architecture": ROOT / "configs" / "mining_architecture.yaml",
    "miner_distributor": ROOT / "configs" / "miner_distributor.yaml",
    "three_regions": DATA / "three_regions.yaml",
}
# Shadow's rules hold for every config meant for Shadow, golden file or not.
FOR_SHADOW = {**SCENARIOS, "shadow_large": ROOT / "configs" / "shadow_large.yaml"}
UPDATE_GOLDEN = bool(os.environ.get("MONEROSIM_UPDATE_GOLDEN"))  # read before fixtures clear it
HOST_NAME = re.compile(r"[a-z0-9.-]+")
TIME = re.compile(r"\d+ (ns|us|ms|s|min|h)")
SHADOW_KEYS = {  # what monerosim writes; Shadow rejects any key it does not know
    "general": {
        "stop_time", "seed", "data_directory", "heartbeat_interval", "progress",
        "model_unblocked_syscall_latency",
    },
    "experimental": {"unblocked_vdso_latency"},
    "network": {"graph"},
    "host": {"network_node_id", "ip_addr", "processes"},
    "process": {
        "path", "args", "environment", "start_time", "shutdown_time", "expected_final_state",
    },
}  # fmt: skip

Write = Callable[..., Simulation]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """``write(config, **options)``: the simulation written into a fresh run
    directory, as on any machine: no monerosim settings in the environment, and
    the shim's compilation skipped (it has tests of its own)."""
    for name in list(os.environ):
        if name.startswith("MONEROSIM_") or name == "PYTHONPATH":
            monkeypatch.delenv(name)
    monkeypatch.setattr(simulation_module, "build_shim", lambda d: d / SHIM_LIBRARY)

    def write_one(config: Path, **options: Any) -> Simulation:
        options.setdefault("seed", 1)
        return write_simulation(config, tmp_path / "run", **options)

    return write_one


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


def normalised(simulation: Simulation) -> str:
    text = simulation.config.read_text()
    return text.replace(str(simulation.run.root), "{run}").replace(sys.executable, "{python}")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_generated_simulation_matches_its_golden_file(write: Write, name: str) -> None:
    simulation = write(SCENARIOS[name])
    golden = GOLDEN / f"{name}.yaml"
    text = normalised(simulation)
    if UPDATE_GOLDEN:
        golden.write_text(text)
    assert text == golden.read_text(), f"{golden} differs (see the module docstring)"


@pytest.mark.parametrize("name", sorted(FOR_SHADOW))
def test_generated_simulation_follows_shadows_rules(write: Write, name: str) -> None:
    simulation = write(FOR_SHADOW[name])
    doc = load_yaml(simulation.config)
    assert set(doc) == {"general", "experimental", "network", "hosts"}
    for section in ("general", "experimental", "network"):
        assert set(doc[section]) <= SHADOW_KEYS[section]
    assert TIME.fullmatch(doc["general"]["stop_time"])
    assert 0 <= doc["general"]["seed"] < 2**32
    ips = []
    for name_, host in doc["hosts"].items():
        assert HOST_NAME.fullmatch(name_), name_
        assert set(host) <= SHADOW_KEYS["host"]
        address = ipaddress.ip_address(host["ip_addr"])
        assert not address.is_loopback and not address.is_unspecified
        ips.append(address)
        for process in host["processes"]:
            assert set(process) <= SHADOW_KEYS["process"]
            assert all(isinstance(a, str) for a in process["args"])
            assert all(isinstance(v, str) for v in process.get("environment", {}).values())
            assert TIME.fullmatch(process["start_time"])
            assert TIME.fullmatch(process.get("shutdown_time", "0 s"))
            # Shadow ends with an error unless every process has exited as expected.
            assert process["expected_final_state"] == {"exited": 0}
    assert len(ips) == len(set(ips))


def test_registry_carries_the_hosts_shadow_addresses(write: Write) -> None:
    simulation = write(SCENARIOS["mining_architecture"])
    hosts = load_yaml(simulation.config)["hosts"]
    registry = read_registry(simulation.run.shared)
    assert {a.id for a in registry.agents} | {ENGINE_HOST} == set(hosts)
    for agent in registry.agents:
        assert agent.ip_addr == hosts[agent.id]["ip_addr"]
        commands = [p["path"] for p in hosts[agent.id]["processes"]]
        if agent.daemon_rpc_port is not None:
            monerod = hosts[agent.id]["processes"][commands.index("monerod")]["args"]
            assert monerod[monerod.index("--rpc-bind-port") + 1] == str(agent.daemon_rpc_port)
        if agent.wallet_rpc_port is not None:
            wallet = hosts[agent.id]["processes"][commands.index("monero-wallet-rpc")]["args"]
            assert wallet[wallet.index("--rpc-bind-port") + 1] == str(agent.wallet_rpc_port)
        # addresses are filled in by the setup step inside the simulation
        assert agent.wallet_address is None
    miners = {m.agent_id: m.ip_addr for m in registry.miners}
    assert miners == {a.id: a.ip_addr for a in registry.agents if a.is_miner}


def test_starts_are_staggered_and_every_process_stops_before_shadow(write: Write) -> None:
    simulation = write(SCENARIOS["miner_distributor"])
    doc = load_yaml(simulation.config)
    shadow_stop = int(doc["general"]["stop_time"].split()[0])
    timeline = simulation.timeline
    by_role: dict[str, set[int]] = {}
    for host in doc["hosts"].values():
        for process in host["processes"]:
            role = process["path"] if process["path"].startswith("monero") else process["args"][2]
            by_role.setdefault(role, set()).add(int(process["start_time"].split()[0]))
            if "shutdown_time" in process:
                assert int(process["shutdown_time"].split()[0]) < shadow_stop
    assert by_role["monerod"] == {DAEMONS_START}
    assert by_role["monero-wallet-rpc"] == {WALLETS_START}
    assert by_role["shadow-step"] == {SETUP_START, timeline.final_state}
    assert by_role["agent"] == {CONTROLLER_START, timeline.t0}
    order = [
        DAEMONS_START, WALLETS_START, SETUP_START, CONTROLLER_START, timeline.t0,
        timeline.agents_stop, timeline.final_state, timeline.wallets_stop,
        timeline.daemons_stop, timeline.end,
    ]  # fmt: skip
    assert order == sorted(order) and len(set(order)) == len(order)
    assert simulation.run.read_info().chain_epoch == SHADOW_EPOCH + timeline.t0


def test_run_json_says_shadow_and_no_hand_over(write: Write) -> None:
    info = write(SCENARIOS["three_regions"], seed=99).run.read_info()
    assert (info.engine, info.seed, info.hand_over_transfers) == ("shadow", 99, False)


def test_gml_scenario_spreads_hosts_over_the_nodes_and_keeps_the_topology(write: Write) -> None:
    simulation = write(SCENARIOS["three_regions"])
    doc = load_yaml(simulation.config)
    nodes = [host["network_node_id"] for host in doc["hosts"].values()]
    assert nodes == [0, 1, 2, 0, 1, 2, 0]
    copied = Path(doc["network"]["graph"]["file"]["path"])
    assert copied.parent == simulation.directory
    assert copied.read_text() == (DATA / "three_regions.gml").read_text()


def test_variant_shadowformonero_needs_no_shim(write: Write) -> None:
    simulation = write(SCENARIOS["mining_architecture"], variant=Variant.SHADOWFORMONERO)
    for host in load_yaml(simulation.config)["hosts"].values():
        for process in host["processes"]:
            assert "LD_PRELOAD" not in process.get("environment", {})
    assert not (simulation.directory / SHIM_LIBRARY).exists()


def test_a_bootstrap_longer_than_a_day_is_refused(write: Write, tmp_path: Path) -> None:
    config = tmp_path / "long.yaml"
    config.write_text(
        SCENARIOS["mining_architecture"].read_text().replace("seed: 42", "bootstrap_blocks: 800")
    )
    with pytest.raises(SimulationError, match=r"bootstrap spans 26\.6 simulated hours"):
        write(config)


# ------------------------------------------------------------------ placement


def _plan(config: Path) -> Plan:
    scenario = load_scenario(config)
    return checked_plan(scenario, get_plugin_manager(), itertools.count(1), seed=None)


def test_host_addresses_skip_network_and_broadcast() -> None:
    ips = host_ips(600)
    assert len(set(ips)) == 600
    assert not any(ip.endswith((".0", ".255")) for ip in ips)
    assert ips[:2] == ["11.0.0.1", "11.0.0.2"] and "11.0.1.1" in ips


def _random_network(degree: int) -> Network:
    return Network(peering=Peering.RANDOM, out_degree=degree)


def test_random_peering_is_connected_seeded_and_of_the_given_degree() -> None:
    plan = _plan(SCENARIOS["mining_architecture"])  # 8 nodes
    plan = attrs.evolve(plan, scenario=attrs.evolve(plan.scenario, network=_random_network(3)))
    first = place(plan, seed=5)
    assert first == place(plan, seed=5)
    assert first != place(plan, seed=6)
    daemons = {h.ip: h for h in first.hosts if h.has_daemon}
    edges = set()
    for host in daemons.values():
        peers = [p.split(":")[0] for p in host.peers]
        assert len(peers) == len(set(peers)) == 3 and host.ip not in peers
        edges |= {frozenset((host.ip, p)) for p in peers}
    seen, todo = set(), [next(iter(daemons))]
    while todo:
        ip = todo.pop()
        seen.add(ip)
        todo += [other for edge in edges if ip in edge for other in edge if other not in seen]
    assert seen == set(daemons)


def test_full_mesh_peers_every_other_node() -> None:
    placement = place(_plan(SCENARIOS["miner_distributor"]), seed=1)
    daemons = [h for h in placement.hosts if h.has_daemon]
    for host in daemons:
        assert sorted(p.split(":")[0] for p in host.peers) == sorted(
            h.ip for h in daemons if h is not host
        )


# ------------------------------------------------------------------ topology and times


def test_quantities_are_written_as_shadow_reads_them() -> None:
    assert shadow_latency(1.0) == "1 ms"
    assert shadow_latency(0.25) == "250 us"
    assert shadow_latency(1e-7) == "1 ns"
    assert shadow_bandwidth(10**9) == "1 Gbit"
    assert shadow_bandwidth(20_000_000) == "20 Mbit"
    assert shadow_bandwidth(4_096_000) == "4096 Kbit"
    assert shadow_bandwidth(1001) == "1008 bit"  # whole bytes


def test_generated_topology_follows_the_gml_rules(tmp_path: Path) -> None:
    network = Network(latency_ms=25.0, bandwidth="10 MB", packet_loss=0.02)
    path = tmp_path / "t.gml"
    path.write_text(generated_gml(network))
    log = ProblemLog()
    topology = read_gml(str(path), "network", log)
    assert log.problems == []
    assert topology is not None and topology.nodes == (0,) and topology.self_loops == {0}
    text = path.read_text()
    assert 'latency "25 ms"' in text and 'host_bandwidth_up "80 Mbit"' in text
    assert "packet_loss 0.02" in text


def test_final_state_budget_scales_with_the_timeout_factor() -> None:
    plain = Timeline.for_run(3600, Timeouts(1.0))
    slow = Timeline.for_run(3600, Timeouts(3.0))
    assert slow.final_state_budget > plain.final_state_budget
    assert slow.end - plain.end == slow.final_state_budget - plain.final_state_budget


# ------------------------------------------------------------------ with Shadow itself


@pytest.mark.shadow
@pytest.mark.parametrize("name", sorted(FOR_SHADOW))
def test_shadow_accepts_the_generated_simulation(
    write: Write, shadow_binary: Path, name: str
) -> None:
    simulation = write(FOR_SHADOW[name])
    done = subprocess.run(
        [str(shadow_binary), "--show-config", str(simulation.config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
