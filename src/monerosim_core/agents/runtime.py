"""What every agent process has: its identity, the run, time, RPC and a stop flag.

An agent process is started as ``monerosim agent AGENT_ID --run-dir DIR``. It
reads the run's copy of the config (for its typed settings), the registry (for
addresses, through discovery), ``run.json`` (seed, clock) and the wallet
credentials; then runs its behaviour until the simulated ``stop_time`` or until
SIGTERM/SIGINT sets the stop flag.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from pathlib import Path
from types import FrameType

import attrs

from monerosim_core.agents.discovery import AgentDiscovery
from monerosim_core.clock import Clock
from monerosim_core.config.model import Scenario
from monerosim_core.planning.plan import AgentSpec, agent_specs, wallet_process_name
from monerosim_core.planning.prepare import run_scenario
from monerosim_core.planning.seeding import RngPurpose, rng_for
from monerosim_core.plugins.host import Plugins, get_plugin_manager
from monerosim_core.records.layout import RunDir, RunInfo
from monerosim_core.records.registry import Agent
from monerosim_core.rpc import DaemonClient, WalletClient


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
    clock: Clock
    stop: threading.Event
    log: logging.Logger
    _credentials: dict[str, tuple[str, str]]
    _daemons: dict[str, DaemonClient] = attrs.field(factory=dict)
    _wallets: dict[str, WalletClient] = attrs.field(factory=dict)

    @classmethod
    def open(cls, agent_id: str, run_dir: Path) -> AgentRuntime:
        run = RunDir(run_dir)
        info = run.read_info()
        if info.clock_epoch_wall is None:
            raise AgentSetupError(f"{run_dir}: the run has not started its clock yet")
        scenario = run_scenario(run, info)
        specs = agent_specs(scenario)
        if agent_id not in specs:
            known = ", ".join(specs)
            raise AgentSetupError(f"no agent {agent_id!r} in this run (agents: {known})")
        plugins = get_plugin_manager()
        return cls(
            agent_id=agent_id,
            run=run,
            info=info,
            scenario=scenario,
            spec=specs[agent_id],
            plugins=plugins,
            discovery=AgentDiscovery(run.shared, plugins),
            clock=Clock(info.clock_epoch_wall, info.speed),
            stop=threading.Event(),
            log=logging.getLogger(f"monerosim.{agent_id}"),
            credentials=run.read_credentials(),
        )

    @property
    def stop_time(self) -> float:
        return self.info.stop_time

    def rng(self, purpose: RngPurpose) -> random.Random:
        return rng_for(self.info.seed, self.agent_id, purpose)

    def running(self) -> bool:
        return not self.stop.is_set() and self.clock.now() < self.stop_time

    def sleep_until(self, sim_time: float) -> bool:
        """Sleep to ``sim_time`` (capped at stop_time); False when the agent should end."""
        return self.clock.sleep_until(min(sim_time, self.stop_time), self.stop) and self.running()

    def daemon(self, agent: Agent, timeout: float | None = None) -> DaemonClient:
        client = self._daemons.get(agent.id)
        if client is None:
            if agent.daemon_rpc_port is None:
                raise AgentSetupError(f"agent {agent.id} has no daemon to ask")
            client = DaemonClient(agent.ip_addr, agent.daemon_rpc_port, timeout=timeout)
            self._daemons[agent.id] = client
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

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, _frame: FrameType | None) -> None:
            self.log.info("received %s, stopping", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def close(self) -> None:
        for client in [*self._daemons.values(), *self._wallets.values()]:
            client.close()


class SimTimeFilter(logging.Filter):
    """Adds ``sim`` (simulated seconds, or '-') to log records."""

    def __init__(self, clock: Clock | None) -> None:
        super().__init__()
        self.clock = clock

    def filter(self, record: logging.LogRecord) -> bool:
        record.sim = f"{self.clock.now():9.1f}" if self.clock else "        -"
        return True


def configure_logging(level: str, clock: Clock | None) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(SimTimeFilter(clock))
    handler.setFormatter(
        logging.Formatter("%(asctime)s sim=%(sim)s %(name)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
