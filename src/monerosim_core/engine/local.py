"""The local engine: a scenario on real daemons on this machine, start to finish.

Sequence: validate and plan; create the run directory; start every monerod and
wallet-rpc and peer them (:mod:`.network`); mine the bootstrap blocks (the block
controller's own code, in this process); open the conductor
(:mod:`monerosim_core.simtime.conductor`) and start one process per agent; drive
simulated time until ``stop_time``, showing progress; stop the agents; record the
final state (:mod:`.final_state`) and where the wall time went (``timing.json``);
stop every daemon; write the report.

Whatever happens (a failing or hung agent, an exception, Ctrl-C, SIGTERM) the
``finally`` path stops every process this run started, by PID, and the run's
``run.json`` says why it failed.
"""

from __future__ import annotations

import io
import logging
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

import attrs

from monerosim_core.agents.block_controller import ControllerError
from monerosim_core.agents.launch import runs_a_process
from monerosim_core.agents.runtime import configure_logging, record_rpc_calls
from monerosim_core.config.model import BlockControllerSpec
from monerosim_core.engine.bootstrap import Bootstrap
from monerosim_core.engine.bootstrap_cache import BootstrapCache, CacheError
from monerosim_core.engine.convergence import ConvergenceTimeout
from monerosim_core.engine.final_state import record_final_state
from monerosim_core.engine.network import Network, WalletMismatch, WalletNotReady, start_network
from monerosim_core.engine.progress import Progress
from monerosim_core.exit_codes import ExitCode
from monerosim_core.planning.plan import BLOCK_CONTROLLER_ID, Plan, agent_process_name
from monerosim_core.planning.prepare import prepare_run
from monerosim_core.plugins.discovery import AgentDiscoveryError
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.processes.specs import AgentProcessSpec
from monerosim_core.processes.supervisor import (
    ProcessSupervisor,
    SupervisorError,
)
from monerosim_core.records.files import RecordFileError, remove_stale_temp_files
from monerosim_core.records.layout import RunDir
from monerosim_core.records.schema import AgentTimingRecord, FaultKind, FaultRecord, Timing
from monerosim_core.report import ReportError, render_terminal, write_report
from monerosim_core.rpc import RpcError
from monerosim_core.simtime.conductor import AgentLost, Conductor, ConductorError
from monerosim_core.timeouts import timeouts

log = logging.getLogger("monerosim.engine")


ENGINE_PROCESS = "engine"  # how the engine's own RPC calls are recorded


class EngineError(Exception):
    """The run cannot go on (a process failed to start, the controller died...)."""


# What ends a run as "failed" with one clear message (anything else is a bug).
EXPECTED_RUN_ERRORS: tuple[type[Exception], ...] = (
    EngineError,
    CacheError,
    WalletMismatch,
    WalletNotReady,
    ConductorError,
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
    cache: BootstrapCache | None = None,
    force: bool = False,
) -> int:
    """Run ``config`` on the local engine; the process exit code. ``cache``: where to
    find and keep bootstrap chains (None: mine the bootstrap, keep nothing);
    ``force``: move a non-empty run directory aside instead of refusing it."""
    plan, run = prepare_run(
        config, run_dir or default_run_dir(config), speed=speed, seed=seed, force=force
    )
    keep_stderr(run.log_path(ENGINE_PROCESS))
    scenario = plan.scenario
    for warning in scenario.warnings:
        print(f"monerosim: warning: {warning}", file=sys.stderr)
    configure_logging(scenario.general.log_level, None)
    print(f"monerosim: run directory {run.root}", file=sys.stderr)
    return LocalRun(plan, run, Progress.choose(progress), cache).execute()


class _Tee(io.TextIOBase):
    """A text stream writing to the terminal and to a log file."""

    def __init__(self, terminal: TextIO, log_file: TextIO) -> None:
        self.terminal, self.log_file = terminal, log_file

    def write(self, text: str) -> int:
        self.log_file.write(text)
        self.log_file.flush()
        return self.terminal.write(text)

    def flush(self) -> None:
        self.terminal.flush()

    def isatty(self) -> bool:
        return self.terminal.isatty()


def keep_stderr(path: Path) -> None:
    """From now on, everything this process writes to stderr also goes to ``path``."""
    sys.stderr = _Tee(sys.stderr, open(path, "a", encoding="utf-8"))  # noqa: SIM115


def default_run_dir(config: Path) -> Path:
    """``runs/<config name>-<date>-<time>``, for a run given no ``--run-dir``."""
    return Path("runs") / f"{config.stem}-{datetime.now():%Y%m%d-%H%M%S}"


@attrs.define
class LocalRun:
    plan: Plan
    run: RunDir
    progress: Progress
    cache: BootstrapCache | None = None
    supervisor: ProcessSupervisor = attrs.field(init=False)
    network: Network | None = None
    conductor: Conductor | None = None
    failed_agents: list[str] = attrs.field(factory=list)
    restarted: list[str] = attrs.field(factory=list)
    phases: dict[str, float] = attrs.field(factory=dict)  # wall seconds per phase
    _agents_started: float = 0.0  # monotonic clock when the agent processes were started
    interrupts: int = 0
    shutting_down: bool = False

    def __attrs_post_init__(self) -> None:
        self.supervisor = ProcessSupervisor(self.run.root)

    def execute(self) -> int:
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, self._on_signal)
        reason, code, failure = "failed", ExitCode.FAILED, None
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
                failure = self._explain(exc)
                print(f"\nmonerosim: error: {failure}", file=sys.stderr)
            except Exception:
                # A bug: one line for the user, the traceback kept in the run's logs.
                trace = self.run.logs / "engine-error.log"
                trace.write_text(traceback.format_exc())
                failure = f"internal error, traceback in {trace}"
                print(f"\nmonerosim: {failure}", file=sys.stderr)
            self.shutting_down = True
            shutdown_started = time.monotonic()
            self.shut_down(with_final_state=reason != "interrupted")
            self.phases["shutdown"] = time.monotonic() - shutdown_started
            self.finish(reason, failure)
        finally:
            # Reached however the above ended, even by an exception in shutdown itself.
            self.supervisor.kill_all()
            self._close_conductor()
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

    def _explain(self, exc: Exception) -> str:
        """One line for ``run.json`` and the terminal, with the failed agent's exit
        code and the end of its log when an agent is to blame."""
        if not isinstance(exc, ConductorError):
            return str(exc)
        proc = self.supervisor.processes.get(agent_process_name(exc.agent_id))
        if proc is None:
            return str(exc)
        deadline = time.monotonic() + timeouts().signal_stop
        while proc.alive and isinstance(exc, ConductorError) and time.monotonic() < deadline:
            time.sleep(0.05)  # a lost agent is exiting: wait for its code
        code = "still running" if proc.alive else f"exit code {proc.exit_code}"
        log.error(
            "agent %s (%s); last lines of its log:\n%s", exc.agent_id, code, proc.log_tail(15)
        )
        return f"{exc} ({code}; log: {self.run.log_path(exc.agent_id)})"

    def start(self) -> None:
        """Processes, peering, bootstrap, wallets, agents: each phase timed (wall s)."""
        controller = self.plan.scenario.block_controller
        bootstrap = None
        if isinstance(controller, BlockControllerSpec):
            bootstrap = Bootstrap(self.run, self.plan, controller, self.cache)
        keep_chain = bootstrap.prepare() if bootstrap is not None else False
        self.network = start_network(self.plan, self.run, self.supervisor, keep_chain=keep_chain)
        self.phases.update(self.network.phases)
        started = time.monotonic()
        if bootstrap is not None:
            bootstrap.complete(self.network, self.supervisor)
        self.phases["bootstrap"] = time.monotonic() - started
        started = time.monotonic()
        restoring = self.network.wait_for_wallets()
        self.network.sync_wallets(timeout=timeouts().sync)
        self.phases["wallets"] = time.monotonic() - started  # what the restores added
        log.info("wallets took %.1f s, %.1f s of it after the bootstrap",
                 restoring, self.phases["wallets"])  # fmt: skip
        self._agents_started = time.monotonic()
        self.start_agents()

    def start_agents(self) -> None:
        """Open the conductor and start one process per agent that acts."""
        solo = {m.agent_id for m in self.plan.registry().miners if m.is_solo_miner}
        acting = [
            p.agent.id for p in self.plan.agents if runs_a_process(p.spec, p.agent.id in solo)
        ]
        limits = timeouts()
        socket_dir = Path(tempfile.mkdtemp(prefix="monerosim-"))  # 0700; short path
        self.conductor = Conductor(
            socket_path=socket_dir / "conductor.sock",
            expected=frozenset(acting),
            stop_time=self.plan.scenario.general.stop_time,
            speed=self.run.read_info().speed,
            action_limit=limits.action,
            start_limit=limits.process_start,
            leaders=frozenset({BLOCK_CONTROLLER_ID}),
        )
        self.run.update_info(conductor=str(self.conductor.socket_path))
        for agent_id in acting:
            spec = AgentProcessSpec(agent_process_name(agent_id), agent_id, self.run.root)
            self.supervisor.start(spec, self.run.log_path(agent_id))
        log.info("started %d agent processes: %s", len(acting), ", ".join(acting))

    def simulate(self) -> None:
        """Drive simulated time until stop_time (the conductor waits for the agents)."""
        conductor = self.conductor
        assert conductor is not None
        self.progress.begin(self.run, self.plan)
        while not conductor.finished:
            try:
                conductor.step(self.progress.period)
            except AgentLost as exc:
                if not self._restart(exc):
                    raise
            if conductor.started_wall is not None and "agents" not in self.phases:
                self.run.update_info(sim_started_wall=conductor.started_wall)
                self.phases["agents"] = time.monotonic() - self._agents_started
            self.progress.update(conductor.now, conductor.pace, conductor.waiting_for())
            self.poll_agents()
        if conductor.started_wall is not None and conductor.finished_wall is not None:
            self.phases["simulation"] = conductor.finished_wall - conductor.started_wall
        self.progress.end(conductor.now, conductor.pace)
        self._wait_for_agents(timeouts().agent_stop)

    def _restart(self, lost: AgentLost) -> bool:
        """Start a lost block controller again, once; False when that is not allowed.

        Only the controller is restarted: simulated time depends on it (no block can
        come without it), and it knows how to continue from the records and the
        chain. Other lost agents end the run as failed.
        """
        agent_id = lost.agent_id
        name = agent_process_name(agent_id)
        proc = self.supervisor.processes.get(name)
        if agent_id != BLOCK_CONTROLLER_ID or proc is None or agent_id in self.restarted:
            return False
        assert isinstance(proc.spec, AgentProcessSpec) and self.conductor is not None
        try:
            proc.popen.wait(timeout=timeouts().signal_stop)
        except subprocess.TimeoutExpired:
            return False  # it said goodbye but lives on: not a crash this code can mend
        self._fault("agent_lost", agent_id, f"{lost} (exit code {proc.exit_code})")
        self.restarted.append(agent_id)
        if agent_id in self.failed_agents:  # its death is answered by the restart
            self.failed_agents.remove(agent_id)
        self.conductor.expect_rejoin(agent_id)
        again = attrs.evolve(proc.spec, incarnation=proc.spec.incarnation + 1)
        self.supervisor.start(again, self.run.log_path(agent_id))
        self._fault("agent_restarted", agent_id, "started again; it continues from the records")
        return True

    def _fault(self, kind: FaultKind, subject: str, detail: str) -> None:
        now = self.conductor.now if self.conductor is not None else 0.0
        log.warning("fault %s: %s: %s", kind, subject, detail)
        self.run.faults.append(FaultRecord(now, kind, ENGINE_PROCESS, subject, detail, time.time()))

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

    def _wait_for_agents(self, seconds: float) -> None:
        """Give agents ``seconds`` to reach the end of their loops by themselves."""
        deadline = time.monotonic() + seconds
        agents = self.supervisor.of_kind("agent")
        while any(p.alive for p in agents) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.poll_agents()

    def shut_down(self, *, with_final_state: bool) -> None:
        if self.conductor is not None:
            self.conductor.finish()  # agents waiting for time are told the run is over
        self.supervisor.stop(["agent"])
        self.poll_agents()
        if self.network is not None and with_final_state:
            try:
                rebuilt = record_final_state(
                    self.run, self.network.daemons, self.network.wallets, self.network.node_logs
                )
                for record in rebuilt:
                    self._fault(
                        "block_reconciled",
                        record.winner,
                        f"block {record.height} was mined but not recorded; record rebuilt",
                    )
            except (RpcError, OSError, RecordFileError) as exc:
                print(f"monerosim: could not record the final state: {exc}", file=sys.stderr)
        if self.network is not None:
            self.network.close_clients()
        self.supervisor.stop_all()

    def _close_conductor(self) -> None:
        if self.conductor is not None:
            self.conductor.close()
            shutil.rmtree(self.conductor.socket_path.parent, ignore_errors=True)
            self.conductor = None

    def finish(self, reason: str, failure: str | None) -> None:
        conductor = self.conductor
        elapsed = conductor.now if conductor is not None and conductor.started_wall else None
        self.run.update_info(
            ended_wall=time.time(), end_reason=reason, sim_elapsed=elapsed, failure=failure
        )
        self.run.write_timing(self.timing())
        record_rpc_calls(self.run, ENGINE_PROCESS)
        for directory in (self.run.root, self.run.shared):
            for stale in remove_stale_temp_files(directory):
                log.warning("removed %s, left by a writer that was killed", stale.name)
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

    def timing(self) -> Timing:
        conductor = self.conductor
        agents = {} if conductor is None else conductor.timing
        return Timing(
            phases={k: round(v, 3) for k, v in self.phases.items()},
            pace=None if conductor is None else conductor.pace,
            speed_cap=self.run.read_info().speed,
            advances=0 if conductor is None else conductor.advances,
            agents={
                a: AgentTimingRecord(t.actions, round(t.busy_wall, 3), round(t.longest_action, 3))
                for a, t in agents.items()
            },
        )
