"""What every agent process has: its identity, the run, time, RPC and a stop flag.

An agent process is started as ``monerosim agent AGENT_ID --run-dir DIR``. It
reads the run's copy of the config (for its typed settings), the registry (for
addresses, through discovery), ``run.json`` (seed, engine) and the RPC logins;
then runs its behaviour until the simulated ``stop_time`` or until SIGTERM/SIGINT
sets the stop flag.

Time: on the local engine the agent's clock is the run's conductor, which moves
simulated time only when every agent waits; an action (a transfer, a sample, a
block) takes no simulated time however long it takes on the wall clock. Under
Shadow it is the process clock, which Shadow simulates.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from pathlib import Path
from types import FrameType

import attrs

from monerosim_core.agents.discovery import AgentDiscovery
from monerosim_core.config.model import Scenario
from monerosim_core.planning.plan import (
    AgentSpec,
    agent_specs,
    node_process_name,
    private_node_process_name,
    wallet_process_name,
)
from monerosim_core.planning.prepare import run_scenario
from monerosim_core.planning.seeding import RngPurpose, rng_for
from monerosim_core.plugins.host import Plugins, get_plugin_manager
from monerosim_core.records.layout import RunDir, RunInfo
from monerosim_core.records.registry import Agent, read_registry
from monerosim_core.records.schema import FaultKind, FaultRecord, RpcCallsRecord
from monerosim_core.rpc import Balance, DaemonClient, WalletClient, rpc_timings
from monerosim_core.simtime.clocks import ConductorClock, ProcessClock, SimClock
from monerosim_core.timeouts import timeouts

SETUP_POLL = 1.0  # simulated seconds between looks at the registry while the network is set up


class AgentSetupError(Exception):
    """The agent cannot start: unknown id, run not ready."""


@attrs.define
class AgentRuntime:
    agent_id: str
    run: RunDir
    info: RunInfo
    scenario: Scenario
    spec: AgentSpec
    plugins: Plugins
    discovery: AgentDiscovery
    clock: SimClock
    stop: threading.Event
    log: logging.Logger
    _credentials: dict[str, tuple[str, str]]
    _daemons: dict[str, DaemonClient] = attrs.field(factory=dict)
    _wallets: dict[str, WalletClient] = attrs.field(factory=dict)
    incarnation: int = 0
    _refreshed_at: dict[str, str] = attrs.field(factory=dict)  # agent id -> tip hash

    @classmethod
    def open(
        cls,
        agent_id: str,
        run_dir: Path,
        clock: SimClock | None = None,
        *,
        incarnation: int = 0,
    ) -> AgentRuntime:
        """The runtime of ``agent_id`` in the run at ``run_dir``.

        Without ``clock`` it joins the run's simulated time (on the local engine:
        connects to the conductor, which answers once every agent has connected).
        ``incarnation`` counts restarts: a restarted agent draws from fresh seeded
        streams, since where the lost one stopped in its streams is unknown.
        """
        run = RunDir(run_dir)
        info = run.read_info()
        scenario = run_scenario(run, info)
        specs = agent_specs(scenario)
        if agent_id not in specs:
            known = ", ".join(specs)
            raise AgentSetupError(f"no agent {agent_id!r} in this run (agents: {known})")
        stop = threading.Event()
        if clock is None:
            clock = _join_simulated_time(run_dir, info, agent_id, stop)
        plugins = get_plugin_manager()
        return cls(
            agent_id=agent_id,
            run=run,
            info=info,
            scenario=scenario,
            spec=specs[agent_id],
            plugins=plugins,
            discovery=AgentDiscovery(run.shared, plugins),
            clock=clock,
            stop=stop,
            log=logging.getLogger(f"monerosim.{agent_id}"),
            credentials=run.read_credentials(),
            incarnation=incarnation,
        )

    @property
    def stop_time(self) -> float:
        return self.info.stop_time

    def rng(self, purpose: RngPurpose) -> random.Random:
        name = f"{self.agent_id}#{self.incarnation}" if self.incarnation else self.agent_id
        return rng_for(self.info.seed, name, purpose)

    def now(self) -> float:
        """Simulated seconds since t=0; it does not move during an action."""
        return self.clock.now()

    def running(self) -> bool:
        return not self.stop.is_set() and self.clock.now() < self.stop_time

    def sleep_until(self, sim_time: float) -> bool:
        """End the current action and wait for ``sim_time``; False when the agent
        should end (the run is over, or it was asked to stop)."""
        if sim_time >= self.stop_time:
            return False
        return self.clock.sleep_until(sim_time)

    def daemon(self, agent: Agent, timeout: float | None = None) -> DaemonClient:
        """The client of ``agent``'s node (the one peered with the network)."""
        return self._daemon_client(
            node_process_name(agent.id), agent.ip_addr, agent.daemon_rpc_port, timeout
        )

    def private_daemon(self, agent: Agent) -> DaemonClient:
        """The client of the private node of ``agent``, a miner that may withhold blocks."""
        return self._daemon_client(
            private_node_process_name(agent.id), agent.ip_addr, agent.private_daemon_rpc_port
        )

    def _daemon_client(
        self, name: str, host: str, port: int | None, timeout: float | None = None
    ) -> DaemonClient:
        client = self._daemons.get(name)
        if client is None:
            if port is None:
                raise AgentSetupError(f"{name}: no such node in this run")
            client = DaemonClient(host, port, login=self._credentials.get(name), timeout=timeout)
            self._daemons[name] = client
        return client

    def wallet(self, agent: Agent) -> WalletClient:
        client = self._wallets.get(agent.id)
        if client is None:
            if agent.wallet_rpc_port is None:
                raise AgentSetupError(f"agent {agent.id} has no wallet to ask")
            client = WalletClient(
                agent.ip_addr,
                agent.wallet_rpc_port,
                login=self._credentials.get(wallet_process_name(agent.id)),
            )
            self._wallets[agent.id] = client
        return client

    def fault(self, kind: FaultKind, subject: str, detail: str) -> None:
        """Record that something went wrong (for the report's faults section)."""
        self.log.warning("fault %s: %s: %s", kind, subject, detail)
        self.run.faults.append(
            FaultRecord(
                sim_time=self.now(),
                kind=kind,
                agent=self.agent_id,
                subject=subject,
                detail=detail,
                wall_time=time.time(),
            )
        )

    def balance(self, agent: Agent) -> Balance:
        """``agent``'s wallet balance, the wallet refreshed first when its node has a
        block it has not scanned (by this process's account).

        A refresh costs ~0.1 s even with nothing new, and blocks come far less often
        than balances are read (the distributor reads every miner's each turn), so
        refreshing only after a new block saves most of that. Incoming transfers
        still in the pool show in the balance only after the next refresh.
        """
        tip = self.daemon(agent).get_tip().hash
        wallet = self.wallet(agent)
        if self._refreshed_at.get(agent.id) != tip:
            wallet.refresh()
            self._refreshed_at[agent.id] = tip
        return wallet.get_balance()

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, _frame: FrameType | None) -> None:
            self.log.info("received %s, stopping", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def close(self) -> None:
        """Leave simulated time and close the RPC clients."""
        self.clock.close()
        for client in [*self._daemons.values(), *self._wallets.values()]:
            client.close()


def record_rpc_calls(run: RunDir, process: str) -> None:
    """Append this process's RPC calls, per method, to the run's ``rpc_calls`` journal."""
    for method, calls in sorted(rpc_timings().items()):
        run.rpc_calls.append(
            RpcCallsRecord(
                process=process,
                method=method,
                calls=calls.calls,
                errors=calls.errors,
                wall=round(calls.wall, 6),
            )
        )


def _join_simulated_time(
    run_dir: Path, info: RunInfo, agent_id: str, stop: threading.Event
) -> SimClock:
    if info.engine == "local":
        if info.conductor is None:
            raise AgentSetupError(f"{run_dir}: the run has not started simulated time yet")
        clock = ConductorClock(Path(info.conductor), agent_id, stop)
        try:
            clock.connect()
        except OSError as exc:
            raise AgentSetupError(
                f"cannot reach the conductor at {info.conductor}: {exc}"
            ) from None
        return clock
    if info.engine == "shadow":
        return _join_shadow_time(RunDir(run_dir), info, stop)
    raise AgentSetupError(f"{run_dir}: unknown engine {info.engine!r} in run.json")


def _join_shadow_time(run: RunDir, info: RunInfo, stop: threading.Event) -> SimClock:
    """Under Shadow the process clock is simulated (no conductor): it reads
    ``chain_epoch`` at t=0. First wait, in simulated time, until the engine's setup
    step has written every wallet's address into the registry: the network is up."""
    if info.chain_epoch is None:
        raise AgentSetupError(f"{run.root}: run.json has no chain_epoch (t=0 under Shadow)")
    limits = timeouts()
    bound = limits.process_start + limits.peering + limits.wallet_create
    deadline = time.monotonic() + bound
    while not all(a.wallet_address for a in read_registry(run.shared).agents if a.has_wallet):
        if time.monotonic() > deadline:
            raise AgentSetupError(
                f"the network was not set up after {bound:g} simulated s "
                "(its log: logs/shadow-setup.log in the run directory)"
            )
        time.sleep(SETUP_POLL)
    return ProcessClock(info.chain_epoch, stop, info.stop_time)


class SimTimeFilter(logging.Filter):
    """Adds ``sim`` (simulated seconds, or '-') to log records."""

    def __init__(self, clock: SimClock | None) -> None:
        super().__init__()
        self.clock = clock

    def filter(self, record: logging.LogRecord) -> bool:
        record.sim = f"{self.clock.now():9.1f}" if self.clock else "        -"
        return True


def configure_logging(level: str, clock: SimClock | None) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(SimTimeFilter(clock))
    handler.setFormatter(
        logging.Formatter("%(asctime)s sim=%(sim)s %(name)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
