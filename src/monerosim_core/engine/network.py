"""Bringing up the network of a plan: one monerod and one wallet-rpc per agent.

Nodes form a full mesh on 127.0.0.1 (each lists every other as an exclusive
peer). A miner that may withhold blocks also gets a private node, peered with
nobody (``--offline``): the block controller mines its withheld blocks there and
hands blocks in and out by RPC. Each wallet-rpc serves one wallet, restored from
the mnemonic derived from the run seed (:mod:`monerosim_core.planning.wallet_keys`),
so the registry holds every address from the start. When :func:`start_network`
returns, every process answers RPC, the nodes are peered, and the wallets are
being restored in the background (a few seconds each: wallet-rpc generates a TLS key per wallet);
:meth:`Network.wait_for_wallets` waits for them. Blocks can pay the addresses
before their wallets exist: a restored wallet scans the chain from height 0.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import attrs

from monerosim_core.engine.convergence import wait_peered
from monerosim_core.planning.plan import (
    Plan,
    node_process_name,
    private_node_process_name,
    wallet_process_name,
)
from monerosim_core.planning.wallet_keys import wallet_keys
from monerosim_core.processes.specs import NodeSpec, WalletSpec
from monerosim_core.processes.supervisor import ManagedProcess, ProcessSupervisor
from monerosim_core.records.layout import RunDir
from monerosim_core.records.registry import write_registry
from monerosim_core.rpc import DaemonClient, RpcError
from monerosim_core.timeouts import timeouts

log = logging.getLogger("monerosim.engine")


class WalletMismatch(Exception):
    """A restored wallet's address is not the one derived from the run seed."""


class WalletNotReady(Exception):
    """A wallet could not scan its node's chain before simulated time starts."""


WALLET_RETRY = 0.2  # wall seconds between refreshes of a wallet not yet connected


@attrs.define
class Network:
    """The running daemons of a plan: RPC clients for its nodes and its wallet
    processes, both keyed by agent id."""

    plan: Plan
    daemons: dict[str, DaemonClient] = attrs.field(factory=dict)
    private_daemons: dict[str, DaemonClient] = attrs.field(factory=dict)  # by owner's id
    wallets: dict[str, ManagedProcess] = attrs.field(factory=dict)
    node_logs: dict[str, Path] = attrs.field(factory=dict)  # each public node's monerod log
    phases: dict[str, float] = attrs.field(factory=dict)  # wall seconds: processes, peering
    _restoring: Future[float] | None = None  # wall seconds all restores took

    def wait_for_wallets(self) -> float:
        """Block until every wallet is restored (raising what went wrong); the wall
        seconds the restores took (they run in the background from the start)."""
        return 0.0 if self._restoring is None else self._restoring.result()

    def sync_wallets(self, timeout: float) -> None:
        """Have every wallet scan up to its node's tip, retrying while its wallet-rpc
        has not reached its node yet ("no connection to daemon"), so that no agent's
        first read at simulated t=0 depends on how fast this machine started them.

        :raises WalletNotReady: a wallet still failing after ``timeout`` wall seconds.
        """
        deadline = time.monotonic() + timeout
        for agent_id, process in self.wallets.items():
            with process.wallet_client() as wallet:
                while True:
                    try:
                        wallet.refresh()
                        break
                    except RpcError as exc:
                        if time.monotonic() > deadline:
                            raise WalletNotReady(f"wallet of {agent_id}: {exc}") from None
                        time.sleep(WALLET_RETRY)

    def close_clients(self) -> None:
        for client in [*self.daemons.values(), *self.private_daemons.values()]:
            client.close()


def start_network(
    plan: Plan, run: RunDir, supervisor: ProcessSupervisor, *, keep_chain: bool = False
) -> Network:
    """Start and connect everything (wallets keep restoring after it returns).

    ``keep_chain``: the nodes start on the chain already in their data directories
    (a cached bootstrap) instead of a fresh one.
    """
    started = time.monotonic()
    nodes = plan.nodes
    p2p = {p.agent.id: f"{p.agent.ip_addr}:{p.p2p_port}" for p in nodes}
    wallet_specs: dict[str, WalletSpec] = {}
    node_specs: dict[str, NodeSpec] = {}
    private_specs: dict[str, NodeSpec] = {}
    for p in nodes:
        agent = p.agent
        assert agent.daemon_rpc_port is not None and p.p2p_port is not None
        node = NodeSpec(
            name=node_process_name(agent.id),
            data_dir=run.node_dir(agent.id) / "monerod",
            rpc_port=agent.daemon_rpc_port,
            p2p_port=p.p2p_port,
            peers=[addr for other, addr in p2p.items() if other != agent.id],
            host=agent.ip_addr,
            keep_fakechain=keep_chain,
        )
        node_specs[agent.id] = node
        supervisor.start(node, run.logs / f"{node.name}.console.log")
        if agent.private_daemon_rpc_port is not None and p.private_p2p_port is not None:
            private = NodeSpec(
                name=private_node_process_name(agent.id),
                data_dir=private_node_dir(run, agent.id),
                rpc_port=agent.private_daemon_rpc_port,
                p2p_port=p.private_p2p_port,
                host=agent.ip_addr,
                keep_fakechain=keep_chain,
            )
            private_specs[agent.id] = private
            supervisor.start(private, run.logs / f"{private.name}.console.log")
        if agent.wallet_rpc_port is not None:
            wallet_specs[agent.id] = WalletSpec(
                name=wallet_process_name(agent.id),
                wallet_dir=run.node_dir(agent.id) / "wallet",
                rpc_port=agent.wallet_rpc_port,
                daemon_address=node.rpc_address,
                daemon_login=node.login,
                host=agent.ip_addr,
            )
    network = Network(plan)
    for agent_id, spec in wallet_specs.items():
        network.wallets[agent_id] = supervisor.start(spec, run.logs / f"{spec.name}.console.log")
    logins = {n.name: n.login for n in [*node_specs.values(), *private_specs.values()]}
    logins.update({w.name: w.login for w in wallet_specs.values()})
    run.write_credentials(logins)
    write_registry(run.shared, plan.registry())
    log.info("started %d monerod and %d wallet-rpc; waiting for RPC", len(nodes), len(wallet_specs))
    supervisor.wait_ready()
    network.phases["processes"] = time.monotonic() - started
    network._restoring = _restore_wallets_in_background(plan, network.wallets, run.read_info().seed)

    started = time.monotonic()
    for agent_id, node in node_specs.items():
        network.daemons[agent_id] = DaemonClient(node.host, node.rpc_port, login=node.login)
        network.node_logs[agent_id] = node.log_file
    for agent_id, node in private_specs.items():
        network.private_daemons[agent_id] = DaemonClient(node.host, node.rpc_port, login=node.login)
    if len(nodes) > 1:
        wait_peered(network.daemons, len(nodes) - 1, timeout=timeouts().peering)
    network.phases["peering"] = time.monotonic() - started
    log.info("network up: %d nodes peered in a full mesh", len(nodes))
    return network


def private_node_dir(run: RunDir, agent_id: str) -> Path:
    """The data directory of ``agent_id``'s private node."""
    return run.node_dir(agent_id) / "private"


def wallet_key_file(wallet_dir: Path, agent_id: str) -> Path:
    """The key file of ``agent_id``'s wallet (the wallet file is named after the agent)."""
    return wallet_dir / f"{agent_id}.keys"


def _restore_wallets_in_background(
    plan: Plan, wallets: dict[str, ManagedProcess], seed: int
) -> Future[float]:
    """Restore every agent's wallet from its seeded mnemonic, a few at a time, on a
    background thread; the future fails if one cannot be restored or has another
    address than the registry's."""
    expected = {p.agent.id: p.agent.wallet_address for p in plan.agents}

    def restore(agent_id: str) -> None:
        keys = wallet_keys(seed, agent_id)
        spec = wallets[agent_id].spec
        assert isinstance(spec, WalletSpec)
        cached = wallet_key_file(spec.wallet_dir, agent_id).exists()
        with wallets[agent_id].wallet_client() as client:
            if cached:  # a key file from the bootstrap cache: opening is cheaper
                client.open_wallet(agent_id, "")
                address = client.get_address()
            else:
                address = client.restore_deterministic_wallet(agent_id, keys.mnemonic, "")
        if address != expected[agent_id]:
            raise WalletMismatch(
                f"wallet of {agent_id} restored with address {address}, expected "
                f"{expected[agent_id]}"
            )

    def restore_all() -> float:
        started = time.monotonic()
        # Each restore is mostly CPU (a TLS key) in its own wallet-rpc: all at once
        # lets the kernel keep both cores busy between their RPC round trips.
        with ThreadPoolExecutor(max_workers=max(1, len(wallets))) as pool:
            for _ in pool.map(restore, wallets):
                pass
        took = time.monotonic() - started
        log.info("%d wallets restored from the run seed in %.1f s", len(wallets), took)
        return took

    runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="restore")
    future = runner.submit(restore_all)
    runner.shutdown(wait=False)
    return future
