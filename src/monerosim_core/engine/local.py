"""The local engine: a scenario on real daemons on this machine, start to finish.

Sequence: validate and plan; create the run directory; start every monerod and
wallet-rpc and peer them (:mod:`.network`); mine the bootstrap blocks (the block
controller's own code, in this process); start simulated time and one process per
agent; show progress until ``stop_time``; stop the agents; record final state
(confirmations, heights, balances); stop every daemon; write the report.

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
from typing import Any

import attrs

from monerosim_core.agents.block_controller import BlockController, ControllerError
from monerosim_core.agents.runtime import AgentRuntime, configure_logging
from monerosim_core.agents.transfers import TRANSFER_TIMEOUT, confirm_pending
from monerosim_core.config import load_scenario
from monerosim_core.daemons import (
    ConvergenceTimeout,
    ProcessSupervisor,
    SupervisorError,
    free_tcp_ports,
    wait_synced,
)
from monerosim_core.discovery import AgentDiscoveryError
from monerosim_core.engine.agent_processes import AgentProcesses
from monerosim_core.engine.network import Network, start_network
from monerosim_core.engine.progress import Progress
from monerosim_core.hookspecs import SelectionError
from monerosim_core.plan import Plan, ports_needed
from monerosim_core.plugins import get_plugin_manager
from monerosim_core.rpc_errors import RpcError
from monerosim_core.rundir import RunDir, RunInfo
from monerosim_core.scenario import BlockControllerSpec
from monerosim_core.seeding import new_run_seed
from monerosim_core.state_files import TRANSACTIONS_FILE, read_records, write_json_atomic

log = logging.getLogger("monerosim.engine")

FINAL_STATE_FILE = "final_state.json"
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
# Wall seconds agents get to finish after stop_time / SIGTERM: enough for a transfer
# in flight to return, so its record is written (a killed agent could lose it).
AGENT_STOP_GRACE = TRANSFER_TIMEOUT + 10.0
FINAL_SYNC_TIMEOUT = 20.0
POOL_WAIT = 15.0  # wall seconds for transfers in flight to reach every node's pool


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


def prepare_run(
    config: Path, run_dir: Path, *, speed: float | None = None, seed: int | None = None
) -> tuple[Plan, RunDir]:
    """Validate ``config``, plan it on free loopback ports, and create its run
    directory with ``run.json`` (clock not started). Also what tests and
    benchmarks use to drive a network's agents in-process."""
    from monerosim_core.commands import checked_plan

    scenario = load_scenario(config)
    plan = checked_plan(
        scenario, get_plugin_manager(), iter(free_tcp_ports(ports_needed(scenario)))
    )
    run = RunDir.create(run_dir, config)
    controller = scenario.block_controller
    run.write_info(
        RunInfo(
            config=str(config),
            seed=seed if seed is not None else _seed_of(scenario.general.seed),
            speed=speed if speed is not None else scenario.general.speed,
            engine="local",
            stop_time=scenario.general.stop_time,
            block_interval=controller.interval if controller else 0.0,
            solo_miner_threshold=plan.solo_miner_threshold,
            started_wall=time.time(),
        )
    )
    return plan, run


def _seed_of(configured: int | None) -> int:
    return configured if configured is not None else new_run_seed()


def _default_run_dir(config: Path) -> Path:
    return Path("runs") / f"{config.stem}-{datetime.now():%Y%m%d-%H%M%S}"


@attrs.define
class LocalRun:
    plan: Plan
    run: RunDir
    progress: Progress
    supervisor: ProcessSupervisor = attrs.field(init=False)
    agents: AgentProcesses = attrs.field(init=False)
    network: Network | None = None
    interrupts: int = 0
    shutting_down: bool = False

    def __attrs_post_init__(self) -> None:
        self.supervisor = ProcessSupervisor(self.run.root)
        self.agents = AgentProcesses(self.run)

    def execute(self) -> int:
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, self._on_signal)
        reason, code = "failed", EXIT_FAILED
        try:
            try:
                self.start()
                self.simulate()
                reason, code = "completed", EXIT_OK if not self.agents.failed else EXIT_FAILED
            except KeyboardInterrupt:
                reason, code = "interrupted", EXIT_INTERRUPTED
                print("\nmonerosim: interrupted; stopping every process...", file=sys.stderr)
            except EXPECTED_RUN_ERRORS as exc:
                print(f"\nmonerosim: error: {exc}", file=sys.stderr)
            except Exception:
                # A bug: one line for the user, the traceback kept in the run's logs.
                trace = self.run.logs / "engine-error.log"
                trace.write_text(traceback.format_exc())
                print(f"\nmonerosim: internal error, traceback in {trace}", file=sys.stderr)
            self.shutting_down = True
            self.shut_down(record_final_state=reason != "interrupted")
            self.finish(reason)
        finally:
            # Reached however the above ended, even by an exception in shutdown itself.
            self.agents.kill()
            self.supervisor.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.interrupts += 1
        if not self.shutting_down and self.interrupts == 1:
            raise KeyboardInterrupt
        if self.interrupts == 1:
            print("\nmonerosim: stopping; interrupt again to kill now", file=sys.stderr)
            return
        # Asked again while stopping: no more waiting, kill what is left.
        self.agents.kill()
        self.supervisor.stop_all()

    def start(self) -> None:
        self.network, self.plan = start_network(self.plan, self.run, self.supervisor)
        # Bootstrap before simulated time starts: the controller's code, in-process.
        self.run.update_info(clock_epoch_wall=time.time())
        if isinstance(self.plan.scenario.block_controller, BlockControllerSpec):
            started = time.monotonic()
            rt = AgentRuntime.open("block-controller", self.run.root)
            controller = BlockController.create(rt, self.plan.scenario.block_controller)
            try:
                controller.bootstrap()
            finally:
                controller.close()
                rt.close()
            wait_synced(
                self.network.daemons,
                min_height=self.plan.scenario.general.bootstrap_blocks + 1,
                timeout=FINAL_SYNC_TIMEOUT,
            )
            log.info("bootstrap mined and synced in %.1f s", time.monotonic() - started)
        info = self.run.update_info(clock_epoch_wall=time.time())
        self.agents.start(self.plan, info)

    def simulate(self) -> None:
        info = self.run.read_info()
        assert info.clock_epoch_wall is not None
        self.progress.begin(self.run, self.plan, info)
        while True:
            sim_now = (time.time() - info.clock_epoch_wall) * info.speed
            self.progress.update(sim_now)
            crashed = self.agents.poll()
            if "block-controller" in crashed:
                raise EngineError(
                    "the block controller failed; see "
                    f"{self.agents.log_path('block-controller')}:\n"
                    + self.agents.log_tail("block-controller")
                )
            if sim_now >= info.stop_time:
                break
            time.sleep(self.progress.period)
        self.progress.end()
        self.agents.wait_all(AGENT_STOP_GRACE)

    def shut_down(self, *, record_final_state: bool) -> None:
        self.agents.stop(AGENT_STOP_GRACE)
        if self.network is not None and record_final_state:
            try:
                self.record_final_state(self.network)
            except (RpcError, OSError) as exc:
                print(f"monerosim: could not record the final state: {exc}", file=sys.stderr)
        if self.network is not None:
            self.network.close_clients()
        self.supervisor.stop_all()

    def record_final_state(self, network: Network) -> None:
        """Last confirmations pass, then every node's tip and every wallet's balance."""
        try:
            wait_synced(network.daemons, timeout=FINAL_SYNC_TIMEOUT)
        except ConvergenceTimeout as exc:
            print(f"monerosim: warning: {exc}", file=sys.stderr)
        self._confirm_everyone(network)
        self._wait_for_pools(network)
        nodes: dict[str, Any] = {}
        for agent_id, client in network.daemons.items():
            try:
                info = client.get_info()
                nodes[agent_id] = {"height": info.height - 1, "top_hash": info.top_block_hash}
            except RpcError as exc:
                nodes[agent_id] = {"error": str(exc)}
        wallets: dict[str, Any] = {}
        for name, proc in self.supervisor.processes.items():
            if proc.kind != "wallet-rpc" or not proc.alive:
                continue
            agent_id = name.removesuffix("-wallet")
            try:
                with proc.wallet_client() as wallet:
                    balance = wallet.get_balance(refresh=True)
                wallets[agent_id] = {
                    "balance": balance.balance,
                    "unlocked": balance.unlocked_balance,
                }
            except RpcError as exc:
                wallets[agent_id] = {"error": str(exc)}
        write_json_atomic(self.run.shared / FINAL_STATE_FILE, {"nodes": nodes, "wallets": wallets})

    def _confirm_everyone(self, network: Network) -> None:
        """The last confirmations pass for every agent's transfers, asking the nodes
        in turn until one answers (a dead node must not cost the final state)."""
        transactions = read_records(self.run.shared / TRANSACTIONS_FILE)
        for owner in sorted({r["agent"] for r in transactions}):
            for agent_id, node in network.daemons.items():
                try:
                    confirm_pending(self.run.shared, node, owner)
                    break
                except RpcError as exc:
                    log.warning("confirmations via %s failed: %s", agent_id, exc)

    def _wait_for_pools(self, network: Network) -> None:
        """Wait until every node's pool holds every transfer still unconfirmed.

        A wallet's balance counts incoming pool transfers, and a transfer reaches
        the other nodes 0.25-3.6 s after it is relayed (Dandelion++ stem), so
        balances read sooner would miss the last transfers of the run.
        """
        in_flight = {
            r["tx_hash"]
            for r in read_records(self.run.shared / TRANSACTIONS_FILE)
            if r["outcome"] == "sent" and r["confirmed_height"] is None
        }
        deadline = time.monotonic() + POOL_WAIT
        missing: dict[str, int] = {}
        while in_flight:
            missing = {}
            for agent_id, client in network.daemons.items():
                try:
                    missing[agent_id] = len(in_flight - set(client.get_transaction_pool_hashes()))
                except RpcError:
                    continue  # an unreachable node has no pool to wait for

            if not any(missing.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        late = {a: n for a, n in missing.items() if n}
        if late:
            print(
                f"monerosim: warning: {len(in_flight)} unconfirmed transfers not in every pool "
                f"after {POOL_WAIT:g} s (missing per node: {late}); balances may lag",
                file=sys.stderr,
            )

    def finish(self, reason: str) -> None:
        info = self.run.read_info()
        ended = time.time()
        epoch = info.clock_epoch_wall
        self.run.update_info(
            ended_wall=ended,
            end_reason=reason,
            sim_elapsed=min(info.stop_time, (ended - epoch) * info.speed) if epoch else None,
        )
        from monerosim_core.report import ReportError, write_report

        try:
            report = write_report(self.run.root)
        except ReportError as exc:
            print(f"monerosim: could not write the report: {exc}", file=sys.stderr)
            return
        print(report.to_text())
        print(f"report: {self.run.report / 'summary.md'}")
        if self.agents.failed:
            print(
                "agents that failed: "
                + ", ".join(f"{a} (see {self.agents.log_path(a)})" for a in self.agents.failed),
                file=sys.stderr,
            )
