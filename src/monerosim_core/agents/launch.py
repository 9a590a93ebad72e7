"""``monerosim agent ID --run-dir DIR``: pick the behaviour for an agent and run it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from monerosim_core.agents.block_controller import BlockController
from monerosim_core.agents.distributor import MinerDistributor
from monerosim_core.agents.observers import Monitor, SyncCheck
from monerosim_core.agents.regular_user import RegularUser
from monerosim_core.agents.runtime import AgentRuntime, configure_logging, record_rpc_calls
from monerosim_core.config.model import (
    BlockControllerSpec,
    Role,
    ScriptAgentSpec,
    ScriptKind,
    UserAgentSpec,
)
from monerosim_core.exit_codes import ExitCode
from monerosim_core.planning.plan import AgentSpec
from monerosim_core.simtime.clocks import ConductorLost


class Behaviour(Protocol):
    def run(self) -> None: ...


def runs_a_process(spec: AgentSpec, is_solo_miner: bool) -> bool:
    """Whether an agent does anything of its own: every agent but a non-solo miner,
    whose node mines only when the block controller picks it."""
    return not (isinstance(spec, UserAgentSpec) and spec.role is Role.MINER and not is_solo_miner)


def behaviour_for(rt: AgentRuntime) -> Behaviour | None:
    """The behaviour of ``rt``'s agent; None for a miner that only mines when chosen."""
    spec = rt.spec
    if not runs_a_process(spec, is_solo_miner(rt)):
        return None
    if isinstance(spec, BlockControllerSpec):
        return BlockController.create(rt, spec)
    if isinstance(spec, ScriptAgentSpec):
        return Monitor(rt, spec) if spec.kind is ScriptKind.MONITOR else SyncCheck(rt, spec)
    if spec.role is Role.MINER_DISTRIBUTOR:
        return MinerDistributor.create(rt, spec)
    return RegularUser.create(rt, spec)  # a regular user, or a solo miner's user side


def is_solo_miner(rt: AgentRuntime) -> bool:
    return any(m.agent_id == rt.agent_id for m in rt.discovery.get_solo_miners())


def run_agent(agent_id: str, run_dir: Path, incarnation: int = 0) -> int:
    """Run ``agent_id``'s behaviour; ``incarnation`` > 0 when the engine restarted it."""
    rt = AgentRuntime.open(agent_id, run_dir, incarnation=incarnation)
    configure_logging(rt.scenario.general.log_level, rt.clock)
    rt.install_signal_handlers()
    try:
        behaviour = behaviour_for(rt)
        if behaviour is None:
            rt.log.info("mines only when the block controller picks it; nothing else to do")
            return ExitCode.OK
        rt.log.info("started (%s)", type(behaviour).__name__)
        try:
            behaviour.run()
        except ConductorLost as exc:
            rt.log.error("simulated time is gone, stopping: %s", exc)
            return ExitCode.FAILED
        rt.log.info("finished")
        return ExitCode.OK
    finally:
        rt.close()
        record_rpc_calls(rt.run, agent_id)
        logging.shutdown()
