"""The local engine: a scenario on real daemons on this machine, start to finish.

Sequence: validate and plan; create the run directory; start every monerod and
wallet-rpc and peer them (:mod:`.network`); mine the bootstrap blocks (the block
controller's own code, in this process); start simulated time and one process per
agent; show progress until ``stop_time``; stop the agents; record the final state
(:mod:`.final_state`); stop every daemon; write the report.

Whatever happens (a failing agent, an exception, Ctrl-C, SIGTERM) the ``finally``
path stops every process this run started, by PID.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path
from types import FrameType

import attrs

from monerosim_core.agents.block_controller import BlockController, ControllerError
from monerosim_core.agents.launch import runs_a_process
from monerosim_core.agents.runtime import AgentRuntime, configure_logging
from monerosim_core.config.model import BlockControllerSpec
from monerosim_core.engine.convergence import ConvergenceTimeout, wait_synced
from monerosim_core.engine.final_state import record_final_state
from monerosim_core.engine.network import Network, start_network
from monerosim_core.engine.progress import Progress
from monerosim_core.exit_codes import ExitCode
from monerosim_core.planning.plan import BLOCK_CONTROLLER_ID, Plan, agent_process_name
from monerosim_core.planning.prepare import prepare_run
from monerosim_core.plugins.discovery import AgentDiscoveryError
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.processes.specs import AgentProcessSpec
from monerosim_core.processes.supervisor import (
    ManagedProcess,
    ProcessSupervisor,
    SupervisorError,
)
from monerosim_core.records.files import RecordFileError
from monerosim_core.records.layout import RunDir
from monerosim_core.report import ReportError, render_terminal, write_report
from monerosim_core.rpc import RpcError
from monerosim_core.timeouts import timeouts

log = logging.getLogger("monerosim.engine")


class EngineError(Exception):
    """The run cannot go on (a process failed to start, the controller died...)."""


# What ends a run as "failed" with one clear message (anything else is a bug).
EXPECTED_RUN_ERRORS: tuple[type[Exception], ...] = (
    EngineError,
    ControllerError,
    SupervisorError,
    RpcError,
    ConvergenceTimeout,
    AgentDiscoveryError,
    SelectionError,
    RecordFileError,
    OSError,
)


def run_local(
    config: Path,
    *,
    run_dir: Path | None = None,
    speed: float | None = None,
    seed: int | None = None,
    progress: str = "auto",
) -> int:
    """Run ``config`` on the local engine; the process exit code."""
    plan, run = prepare_run(config, run_dir or _default_run_dir(config), speed=speed, seed=seed)
    scenario = plan.scenario
    for warning in scenario.warnings:
        print(f"monerosim: warning: {warning}", file=sys.stderr)
    configure_logging(scenario.general.log_level, None)
    print(f"monerosim: run directory {run.root}", file=sys.stderr)
    return LocalRun(plan, run, Progress.choose(progress)).execute()


def _default_run_dir(config: Path) -> Path:
    return Path("runs") / f"{config.stem}-{datetime.now():%Y%m%d-%H%M%S}"


@attrs.define
class LocalRun:
    plan: Plan
    run: RunDir
    progress: Progress
    supervisor: ProcessSupervisor = attrs.field(init=False)
    network: Network | None = None
    failed_agents: list[str] = attrs.field(factory=list)
    interrupts: int = 0
    shutting_down: bool = False

    def __attrs_post_init__(self) -> None:
        self.supervisor = ProcessSupervisor(self.run.root)

    def execute(self) -> int:
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, self._on_signal)
        reason, code = "failed", ExitCode.FAILED
        try:
            try:
                self.start()
                self.simulate()
                reason = "completed"
                code = ExitCode.OK if not self.failed_agents else ExitCode.FAILED
            except KeyboardInterrupt:
                reason, code = "interrupted", ExitCode.INTERRUPTED
                print("\nmonerosim: interrupted; stopping every process...", file=sys.stderr)
            except EXPECTED_RUN_ERRORS as exc:
                print(f"\nmonerosim: error: {exc}", file=sys.stderr)
            except Exception:
                # A bug: one line for the user, the traceback kept in the run's logs.
                trace = self.run.logs / "engine-error.log"
                trace.write_text(traceback.format_exc())
                print(f"\nmonerosim: internal error, traceback in {trace}", file=sys.stderr)
            self.shutting_down = True
            self.shut_down(with_final_state=reason != "interrupted")
            self.finish(reason)
        finally:
            # Reached however the above ended, even by an exception in shutdown itself.
            self.supervisor.kill_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return int(code)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.interrupts += 1
        if not self.shutting_down and self.interrupts == 1:
            raise KeyboardInterrupt
        if self.interrupts == 1:
            print("\nmonerosim: stopping; interrupt again to kill now", file=sys.stderr)
            return
        # Asked again while stopping: no more waiting, kill what is left.
        self.supervisor.kill_all()

    def start(self) -> None:
        self.network, self.plan = start_network(self.plan, self.run, self.supervisor)
        # Bootstrap before simulated time starts: the controller's code, in-process.
        self.run.update_info(clock_epoch_wall=time.time())
        if isinstance(self.plan.scenario.block_controller, BlockControllerSpec):
            started = time.monotonic()
            rt = AgentRuntime.open(BLOCK_CONTROLLER_ID, self.run.root)
            controller = BlockController.create(rt, self.plan.scenario.block_controller)
            try:
                controller.bootstrap()
            finally:
                controller.close()
                rt.close()
            wait_synced(
                self.network.daemons,
                min_height=self.plan.scenario.general.bootstrap_blocks,
                timeout=timeouts().sync,
            )
            log.info("bootstrap mined and synced in %.1f s", time.monotonic() - started)
        self.run.update_info(clock_epoch_wall=time.time())
        self.start_agents()

    def start_agents(self) -> None:
        solo = {m.agent_id for m in self.plan.registry().miners if m.is_solo_miner}
        started = []
        for p in self.plan.agents:
            if not runs_a_process(p.spec, p.agent.id in solo):
                continue
            spec = AgentProcessSpec(agent_process_name(p.agent.id), p.agent.id, self.run.root)
            self.supervisor.start(spec, self.run.log_path(p.agent.id))
            started.append(p.agent.id)
        log.info("started %d agent processes: %s", len(started), ", ".join(started))

    def simulate(self) -> None:
        info = self.run.read_info()
        assert info.clock_epoch_wall is not None
        self.progress.begin(self.run, self.plan, info)
        while True:
            sim_now = (time.time() - info.clock_epoch_wall) * info.speed
            self.progress.update(sim_now)
            crashed = self.poll_agents()
            if BLOCK_CONTROLLER_ID in crashed:
                raise EngineError(
                    "the block controller failed; see "
                    f"{self.run.log_path(BLOCK_CONTROLLER_ID)}:\n"
                    + self._agent(BLOCK_CONTROLLER_ID).log_tail(15)
                )
            if sim_now >= info.stop_time:
                break
            time.sleep(self.progress.period)
        self.progress.end()
        self._wait_for_agents(timeouts().agent_stop)

    def poll_agents(self) -> list[str]:
        """Agents that exited with an error since the last poll (also kept in
        ``failed_agents``)."""
        crashed = []
        for proc in self.supervisor.of_kind("agent"):
            assert isinstance(proc.spec, AgentProcessSpec)
            agent_id = proc.spec.agent_id
            if proc.exit_code not in (None, 0) and agent_id not in self.failed_agents:
                self.failed_agents.append(agent_id)
                crashed.append(agent_id)
                log.error(
                    "agent %s exited with code %s; last lines of its log:\n%s",
                    agent_id,
                    proc.exit_code,
                    proc.log_tail(15),
                )
        return crashed

    def _agent(self, agent_id: str) -> ManagedProcess:
        return self.supervisor.processes[agent_process_name(agent_id)]

    def _wait_for_agents(self, seconds: float) -> None:
        """Give agents ``seconds`` to reach the end of their loops by themselves."""
        deadline = time.monotonic() + seconds
        agents = self.supervisor.of_kind("agent")
        while any(p.alive for p in agents) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.poll_agents()

    def shut_down(self, *, with_final_state: bool) -> None:
        self.supervisor.stop(["agent"])
        self.poll_agents()
        if self.network is not None and with_final_state:
            try:
                record_final_state(self.run, self.network.daemons, self.network.wallets)
            except (RpcError, OSError, RecordFileError) as exc:
                print(f"monerosim: could not record the final state: {exc}", file=sys.stderr)
        if self.network is not None:
            self.network.close_clients()
        self.supervisor.stop_all()

    def finish(self, reason: str) -> None:
        info = self.run.read_info()
        ended = time.time()
        epoch = info.clock_epoch_wall
        self.run.update_info(
            ended_wall=ended,
            end_reason=reason,
            sim_elapsed=min(info.stop_time, (ended - epoch) * info.speed) if epoch else None,
        )
        try:
            report = write_report(self.run.root)
        except ReportError as exc:
            print(f"monerosim: could not write the report: {exc}", file=sys.stderr)
            return
        print(render_terminal(report))
        print(f"report: {self.run.report / 'summary.md'}")
        if self.failed_agents:
            print(
                "agents that failed: "
                + ", ".join(f"{a} (see {self.run.log_path(a)})" for a in self.failed_agents),
                file=sys.stderr,
            )
