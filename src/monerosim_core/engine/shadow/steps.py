"""The engine's own steps inside a Shadow simulation (``monerosim shadow-step``).

Both run on the engine's host in simulated time, so every wait below is simulated
(bounded by the usual timeouts, which Shadow does not stretch).

**setup**, before the bootstrap: waits until every monerod and wallet-rpc answers
and the nodes are peered, then creates one wallet per agent (``create_wallet``,
all at once) and writes their addresses into the registry, which tells the agents
waiting for it that the network is ready.

Why created and not restored from the run seed as on the local engine: Monero's
wallets skip blocks timestamped more than a day before their creation time, and a
restored wallet dates itself to 2014, while Shadow's clock starts in 2000; every
block would be skipped. A created wallet dates itself to the moment of creation,
before the bootstrap, whose blocks are timestamped within the day before t=0. The
addresses are still reproducible: Shadow seeds each host's randomness from the
simulation's seed and the host's name.

**final-state**, after the agents stopped: the local engine's final state
(:func:`monerosim_core.engine.final_state.record_final_state`): the nodes agree,
remaining confirmations, every tip and balance; then marks the run completed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import attrs

from monerosim_core.agents.runtime import configure_logging, record_rpc_calls
from monerosim_core.engine.convergence import wait_peered
from monerosim_core.engine.final_state import record_final_state
from monerosim_core.engine.shadow.placement import peers_per_node
from monerosim_core.engine.shadow.simulation import Step
from monerosim_core.planning.plan import node_process_name, wallet_process_name
from monerosim_core.planning.prepare import run_scenario
from monerosim_core.records.layout import RunDir
from monerosim_core.records.registry import (
    Agent,
    Registry,
    build_miners,
    read_registry,
    write_registry,
)
from monerosim_core.rpc import DaemonClient, RpcError, WalletClient
from monerosim_core.timeouts import timeouts

log = logging.getLogger("monerosim.shadow")

POLL = 0.5  # simulated seconds between looks at processes not answering yet
WALLET_PASSWORD = ""  # as on the local engine: the simulation's wallets are no secret
PARALLEL_CREATES = 16


class StepError(Exception):
    """A step inside the simulation cannot complete."""


@attrs.frozen
class SimulatedWallet:
    """A wallet-rpc inside the simulation, as the final state reads it: Shadow runs
    it until the end, and reports it if it exits early."""

    agent: Agent
    login: tuple[str, str] | None
    alive: bool = True
    exit_code: int | None = None

    def wallet_client(self) -> WalletClient:
        assert self.agent.wallet_rpc_port is not None
        return WalletClient(self.agent.ip_addr, self.agent.wallet_rpc_port, login=self.login)


def run_step(step: Step, run: RunDir) -> None:
    """Run ``step`` for the run at ``run``."""
    info = run.read_info()
    scenario = run_scenario(run, info)
    configure_logging(scenario.general.log_level, None)
    try:
        if step is Step.SETUP:
            set_up(run, info.solo_miner_threshold)
        else:
            final_state(run)
    finally:
        record_rpc_calls(run, f"shadow-{step.value}")


def set_up(run: RunDir, solo_threshold: float) -> None:
    registry = read_registry(run.shared)
    network = run_scenario(run, run.read_info()).network
    credentials = run.read_credentials()
    daemons = _daemons(registry, credentials)
    wallets = _wallets(registry, credentials)
    limits = timeouts()
    probes: dict[str, Callable[[], object]] = {
        **{f"{a} monerod": client.get_tip for a, client in daemons.items()},
        **{f"{a} wallet-rpc": client.get_version for a, client in wallets.items()},
    }
    _wait_answering(probes, limits.process_start)
    log.info("%d monerod and %d wallet-rpc answer", len(daemons), len(wallets))
    if len(daemons) > 1:
        wait_peered(daemons, peers_per_node(network, len(daemons)), timeout=limits.peering)
        log.info("nodes peered")

    def create(agent_id: str) -> str:
        wallet = wallets[agent_id]
        wallet.create_wallet(agent_id, WALLET_PASSWORD)
        return wallet.get_address()

    with ThreadPoolExecutor(max_workers=PARALLEL_CREATES) as pool:
        addresses = dict(zip(wallets, pool.map(create, wallets), strict=True))
    agents = tuple(
        attrs.evolve(a, wallet_address=addresses.get(a.id, a.wallet_address))
        for a in registry.agents
    )
    write_registry(run.shared, Registry(agents, build_miners(agents, solo_threshold)))
    log.info("%d wallets created; the registry lists their addresses", len(addresses))
    for client in [*daemons.values(), *wallets.values()]:
        client.close()


def final_state(run: RunDir) -> None:
    registry = read_registry(run.shared)
    credentials = run.read_credentials()
    daemons = _daemons(registry, credentials)
    wallets = {
        a.id: SimulatedWallet(a, credentials.get(wallet_process_name(a.id)))
        for a in registry.agents
        if a.has_wallet
    }
    # The same place as on the local engine (engine.network): the node's data directory.
    node_logs = {
        agent_id: run.node_dir(agent_id) / "monerod" / "monerod.log" for agent_id in daemons
    }
    try:
        for record in record_final_state(run, daemons, wallets, node_logs):
            log.warning("block %d had no record: rebuilt from the chain", record.height)
    finally:
        for client in daemons.values():
            client.close()
    info = run.read_info()
    run.update_info(end_reason="completed", sim_elapsed=info.stop_time)
    log.info("final state recorded")


def _daemons(
    registry: Registry, credentials: Mapping[str, tuple[str, str]]
) -> dict[str, DaemonClient]:
    return {
        a.id: DaemonClient(
            a.ip_addr, a.daemon_rpc_port, login=credentials.get(node_process_name(a.id))
        )
        for a in registry.agents
        if a.daemon_rpc_port is not None
    }


def _wallets(
    registry: Registry, credentials: Mapping[str, tuple[str, str]]
) -> dict[str, WalletClient]:
    return {
        a.id: WalletClient(
            a.ip_addr, a.wallet_rpc_port, login=credentials.get(wallet_process_name(a.id))
        )
        for a in registry.agents
        if a.wallet_rpc_port is not None
    }


def _wait_answering(probes: Mapping[str, Callable[[], object]], limit: float) -> None:
    """Call each probe until it answers; :class:`StepError` naming the silent ones
    at the deadline."""
    pending = dict(probes)
    deadline = time.monotonic() + limit
    while pending:
        for name, probe in list(pending.items()):
            try:
                probe()
            except RpcError:
                continue
            del pending[name]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise StepError(
                f"not answering after {limit:g} simulated s: {', '.join(sorted(pending))}"
            )
        time.sleep(POLL)
