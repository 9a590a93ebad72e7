"""From a config file to a checked plan and a new run directory.

:func:`checked_plan` is what ``validate`` and ``registry`` do; :func:`prepare_run`
is the first step of every engine (and what tests and benchmarks use to drive a
network's agents in-process).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

from monerosim_core.config import load_scenario
from monerosim_core.config.model import BlockTimes, Scenario, UserAgentSpec
from monerosim_core.planning.plan import Plan, make_plan, ports_needed
from monerosim_core.planning.schedule import chain_epoch as schedule_epoch
from monerosim_core.planning.seeding import new_run_seed
from monerosim_core.planning.strategies import check_strategies
from monerosim_core.plugins.host import Plugins, get_plugin_manager
from monerosim_core.processes.ports import free_tcp_ports
from monerosim_core.records.layout import RunDir, RunInfo

# ``monerosim registry`` has no engine to ask for ports: it numbers them from here.
REGISTRY_BASE_PORT = 38080
# network.tx_propagation when the config leaves it out, by engine. Local: 0, every
# transfer sent before a block is handed to its winner, so a block's content does not
# depend on the machine. Shadow: nothing is handed over; the window only decides which
# transfers missing from a block the report calls late. 10 s is above the
# Dandelion++ stem delays measured here (0.25-7 s), below its 39 s embargo.
DEFAULT_TX_PROPAGATION = {"local": 0.0, "shadow": 10.0}


def checked_plan(
    scenario: Scenario, plugins: Plugins, ports: Iterator[int], *, seed: int | None
) -> Plan:
    """Plan ``scenario`` on ``ports`` for a run with ``seed`` and check every strategy
    it names is usable.

    :raises ConfigError: listing every strategy no installed plugin provides.
    """
    plan = make_plan(scenario, ports, seed=seed)
    check_strategies(scenario, _solo_indexes(plan), plugins)
    return plan


def validated_plan(config: Path, plugins: Plugins) -> Plan:
    """Load a config, plan it on fixed ports, and check every strategy it names."""
    scenario = load_scenario(config)
    ports = itertools.count(REGISTRY_BASE_PORT)
    return checked_plan(scenario, plugins, ports, seed=scenario.general.seed)


def _solo_indexes(plan: Plan) -> set[int]:
    solo = {m.agent_id for m in plan.registry().miners if m.is_solo_miner}
    return {
        p.spec.index
        for p in plan.agents
        if p.agent.id in solo and isinstance(p.spec, UserAgentSpec)
    }


def prepare_run(
    config: Path,
    run_dir: Path,
    *,
    speed: float | None = None,
    seed: int | None = None,
    force: bool = False,
) -> tuple[Plan, RunDir]:
    """Validate ``config``, plan it on free loopback ports, and create its run
    directory with ``run.json`` (simulated time not started)."""
    scenario = load_scenario(config)
    run_seed = seed_for_run(scenario, seed)
    ports = iter(free_tcp_ports(ports_needed(scenario)))
    plan = checked_plan(scenario, get_plugin_manager(), ports, seed=run_seed)
    run = create_run_dir(
        config, run_dir, plan, seed=run_seed, engine="local", speed=speed, force=force
    )
    return plan, run


def seed_for_run(scenario: Scenario, override: int | None) -> int:
    """The run's seed: ``override`` (``--seed``), else ``general.seed``, else a new one."""
    if override is not None:
        return override
    return scenario.general.seed if scenario.general.seed is not None else new_run_seed()


def create_run_dir(
    config: Path,
    run_dir: Path,
    plan: Plan,
    *,
    seed: int,
    engine: str,
    speed: float | None = None,
    chain_epoch: int | None = None,
    force: bool = False,
) -> RunDir:
    """Create the run directory of ``plan`` and its ``run.json``.

    ``chain_epoch``: the Unix time of simulated t=0 (default: far enough before now
    that the whole run is timestamped in the past, see :func:`.schedule.chain_epoch`).
    ``force``: move a non-empty ``run_dir`` aside instead of refusing it.
    """
    scenario = plan.scenario
    run = RunDir.create(run_dir, config, force=force)
    controller = scenario.block_controller
    started = time.time()
    run.write_info(
        RunInfo(
            config=str(config),
            seed=seed,
            speed=speed if speed is not None else scenario.general.speed,
            engine=engine,
            stop_time=scenario.general.stop_time,
            block_interval=controller.interval if controller else 0.0,
            block_times=(controller.block_times if controller else BlockTimes.FIXED).value,
            tx_propagation=(
                scenario.network.tx_propagation
                if scenario.network.tx_propagation is not None
                else DEFAULT_TX_PROPAGATION[engine]
            ),
            solo_miner_threshold=plan.solo_miner_threshold,
            started_wall=started,
            chain_epoch=(
                chain_epoch
                if chain_epoch is not None
                else schedule_epoch(started, scenario.general.stop_time)
            ),
        )
    )
    return run


def run_scenario(run: RunDir, info: RunInfo) -> Scenario:
    """The run's copy of the config, with relative paths as the original had them."""
    return load_scenario(run.config, relative_to=Path(info.config).parent)
