"""Writing a scenario as a Shadow 3.x simulation, into a new run directory.

The run directory is the local engine's (``run.json``, the registries with the
hosts' Shadow IPs, the RPC logins, one directory per node) plus ``shadow/``:
``shadow.yaml``, the topology file if any, and the compiled setsockopt shim.
Shadow writes its own output into ``shadow.data/``, which must not exist yet.

Every path in ``shadow.yaml`` is absolute, so Shadow can be started from any
directory; the daemons are named as commands (``monerod``), which Shadow looks up
on its ``PATH``. The agents run on the Python that wrote the simulation, where
monerosim and its plugins are installed.

``shadow.yaml`` follows Shadow's rules: every key is one Shadow knows, host names
are lowercase letters, digits and '-', argument lists are strings, times are
integers with units, and every process is expected to have exited with 0 when the
simulation ends (see :mod:`.timeline`).
"""

from __future__ import annotations

import enum
import itertools
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from monerosim_core.agents.launch import runs_a_process
from monerosim_core.config import load_scenario
from monerosim_core.config.model import BlockControllerSpec, Scenario
from monerosim_core.engine.shadow.placement import ENGINE_HOST, Host, Placement, place
from monerosim_core.engine.shadow.shim import build_shim
from monerosim_core.engine.shadow.timeline import (
    CONTROLLER_START,
    DAEMONS_START,
    SETUP_START,
    WALLETS_START,
    Timeline,
)
from monerosim_core.engine.shadow.topology import graph_section
from monerosim_core.planning.plan import (
    BLOCK_CONTROLLER_ID,
    agent_process_name,
    node_process_name,
    wallet_process_name,
)
from monerosim_core.planning.prepare import checked_plan, create_run_dir, seed_for_run
from monerosim_core.plugins.host import get_plugin_manager
from monerosim_core.processes.shadow_specs import simulated_node_spec, simulated_wallet_spec
from monerosim_core.processes.specs import AgentProcessSpec, NodeSpec, WalletSpec
from monerosim_core.records.layout import RunDir
from monerosim_core.records.registry import write_registry
from monerosim_core.timeouts import timeouts

HEARTBEAT = "1 min"
# Monero's wallets skip blocks timestamped more than a day before they were
# created; under Shadow they are created in the simulation, in its year 2000.
WALLET_LOOKBACK = 86_400
WALLET_LOOKBACK_MARGIN = 3_600


class Variant(enum.Enum):
    """Which Shadow runs the simulation."""

    STOCK = "stock"  # Shadow 3.x as released: monerod needs the setsockopt shim
    SHADOWFORMONERO = "shadowformonero"  # the patched fork: no shim


class SimulationError(Exception):
    """The scenario cannot run under Shadow as configured."""


class Step(enum.Enum):
    """The engine's own steps inside the simulation (``monerosim shadow-step``)."""

    SETUP = "setup"
    FINAL_STATE = "final-state"


@attrs.frozen
class Simulation:
    """A written simulation and where its parts are."""

    run: RunDir
    placement: Placement
    timeline: Timeline
    nodes: Mapping[str, NodeSpec] = attrs.field(factory=dict, hash=False)  # by agent id

    @property
    def directory(self) -> Path:
        return self.run.shadow

    @property
    def config(self) -> Path:
        return self.run.shadow_config

    @property
    def data_directory(self) -> Path:
        return self.run.shadow_data


def write_simulation(
    config: Path, run_dir: Path, *, seed: int | None = None, variant: Variant = Variant.STOCK
) -> Simulation:
    """Validate ``config``, create its run directory at ``run_dir`` and write the
    Shadow simulation into it."""
    scenario = load_scenario(config)
    _check_bootstrap_span(scenario.general.bootstrap_blocks, scenario.block_controller)
    _check_no_withholding(scenario)
    run_seed = seed_for_run(scenario, seed)
    # Placeholder ports: the placement gives every daemon Shadow's fixed ports.
    plan = checked_plan(scenario, get_plugin_manager(), itertools.count(1), seed=None)
    placement = place(plan, run_seed)
    timeline = Timeline.for_run(scenario.general.stop_time, timeouts())
    run = create_run_dir(
        config,
        run_dir,
        placement.plan,
        seed=run_seed,
        engine="shadow",
        chain_epoch=timeline.chain_epoch,
    )
    run.update_info(hand_over_transfers=False, bootstrap_source="mined")
    nodes, wallets = _daemon_specs(run, placement.hosts)
    simulation = Simulation(run, placement, timeline, nodes)
    simulation.directory.mkdir()
    write_registry(run.shared, placement.plan.registry())
    specs: list[NodeSpec | WalletSpec] = [*nodes.values(), *wallets.values()]
    for spec in specs:
        spec.prepare()  # data directories, the wallets' login files
    run.write_credentials({spec.name: spec.login for spec in specs})
    shim = build_shim(simulation.directory) if variant is Variant.STOCK else None
    document = shadow_document(simulation, nodes, wallets, shim, run_seed)
    _dump(document, simulation.config)
    return simulation


def _check_no_withholding(scenario: Scenario) -> None:
    miner = scenario.withholding_miner
    if miner is not None and miner.mining_behaviour is not None:
        raise SimulationError(
            f"{miner.mining_behaviour.pos}: mining behaviour {miner.mining_behaviour.name!r} "
            "withholds blocks on a private node, which only the local engine runs so far: "
            "use --engine local"
        )


def _check_bootstrap_span(blocks: int, controller: BlockControllerSpec | None) -> None:
    interval = controller.interval if controller is not None else 0.0
    span = max(0, blocks - 1) * interval
    if span > WALLET_LOOKBACK - WALLET_LOOKBACK_MARGIN:
        raise SimulationError(
            f"the bootstrap spans {span / 3600:.1f} simulated hours ({blocks} blocks, "
            f"{interval:g} s apart); under Shadow the wallets are created inside the "
            "simulation, and Monero's wallets skip blocks timestamped more than a day "
            "before they were created: lower general.bootstrap_blocks or the interval "
            f"to stay under {(WALLET_LOOKBACK - WALLET_LOOKBACK_MARGIN) / 3600:g} hours"
        )


def _daemon_specs(
    run: RunDir, hosts: Iterable[Host]
) -> tuple[dict[str, NodeSpec], dict[str, WalletSpec]]:
    nodes: dict[str, NodeSpec] = {}
    wallets: dict[str, WalletSpec] = {}
    for host in hosts:
        if not host.has_daemon:
            continue
        agent_id = host.name
        nodes[agent_id] = simulated_node_spec(
            node_process_name(agent_id), run.node_dir(agent_id) / "monerod", host.ip, host.peers
        )
        if host.agent.agent.wallet_rpc_port is not None:
            wallets[agent_id] = simulated_wallet_spec(
                wallet_process_name(agent_id),
                run.node_dir(agent_id) / "wallet",
                nodes[agent_id].login,
            )
    return nodes, wallets


def shadow_document(
    simulation: Simulation,
    nodes: Mapping[str, NodeSpec],
    wallets: Mapping[str, WalletSpec],
    shim: Path | None,
    seed: int,
) -> dict[str, Any]:
    """The contents of ``shadow.yaml``."""
    timeline = simulation.timeline
    run = simulation.run
    daemon_env = {} if shim is None else {"LD_PRELOAD": str(shim)}
    python_env = python_environment()
    solo = {m.agent_id for m in simulation.placement.plan.registry().miners if m.is_solo_miner}
    hosts: dict[str, Any] = {}
    for host in simulation.placement.hosts:
        agent_id = host.name
        processes = []
        if agent_id in nodes:
            argv = nodes[agent_id].argv()
            processes.append(_process(argv, daemon_env, DAEMONS_START, timeline.daemons_stop))
        if agent_id in wallets:
            argv = wallets[agent_id].argv()
            processes.append(_process(argv, daemon_env, WALLETS_START, timeline.wallets_stop))
        if runs_a_process(host.agent.spec, agent_id in solo):
            argv = AgentProcessSpec(agent_process_name(agent_id), agent_id, run.root).argv()
            start = CONTROLLER_START if agent_id == BLOCK_CONTROLLER_ID else timeline.t0
            processes.append(_process(argv, python_env, start, timeline.agents_stop))
        hosts[agent_id] = {
            "network_node_id": host.node_id,
            "ip_addr": host.ip,
            "processes": processes,
        }
    hosts[ENGINE_HOST] = {
        "network_node_id": simulation.placement.engine_node_id,
        "ip_addr": simulation.placement.engine_ip,
        "processes": [
            _process(step_argv(Step.SETUP, run.root), python_env, SETUP_START, None),
            _process(step_argv(Step.FINAL_STATE, run.root), python_env, timeline.final_state, None),
        ],
    }
    return {
        "general": {
            "stop_time": f"{timeline.end} s",
            "seed": seed % 2**32,  # Shadow's seed is 32 bits
            "data_directory": str(simulation.data_directory),
            "heartbeat_interval": HEARTBEAT,
            "progress": False,
            # monerod busy-waits on the clock at start-up: without both of these
            # its simulated time hardly advances.
            "model_unblocked_syscall_latency": True,
        },
        "experimental": {"unblocked_vdso_latency": "1 us"},
        "network": {
            "graph": graph_section(simulation.placement.plan.scenario.network, simulation.directory)
        },
        "hosts": hosts,
    }


def step_argv(step: Step, run_dir: Path) -> list[str]:
    """The command line of one of the engine's steps inside the simulation."""
    return [sys.executable, "-m", "monerosim_core.cli", "shadow-step", step.value,
            "--run-dir", str(run_dir)]  # fmt: skip


def python_environment() -> dict[str, str]:
    """What Shadow passes to the Python processes (Shadow passes nothing else):
    unbuffered output, so a killed process loses no line, and monerosim's own
    settings (the timeout factor, plugin switches) as the engine has them."""
    env = {"PYTHONUNBUFFERED": "1"}
    for name in sorted(os.environ):
        if name.startswith("MONEROSIM_") or name == "PYTHONPATH":
            env[name] = os.environ[name]
    return env


def _process(
    argv: list[str], environment: Mapping[str, str], start: int, stop: int | None
) -> dict[str, Any]:
    process: dict[str, Any] = {"path": argv[0], "args": [str(a) for a in argv[1:]]}
    if environment:
        process["environment"] = dict(environment)
    process["start_time"] = f"{start} s"
    if stop is not None:
        process["shutdown_time"] = f"{stop} s"  # SIGTERM: every process exits cleanly on it
    process["expected_final_state"] = {"exited": 0}
    return process


def _dump(document: Mapping[str, Any], path: Path) -> None:
    # JSON is YAML 1.2, which Shadow reads; a YAML emitter takes minutes on a
    # thousand hosts, this takes milliseconds, and it quotes every string.
    with path.open("w", encoding="utf-8") as out:
        out.write(f"# Written by monerosim (YAML in JSON form); run with: shadow {path}\n")
        json.dump(document, out, indent=2)
        out.write("\n")
