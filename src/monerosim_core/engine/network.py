"""Bringing up the network of a plan: one monerod and one wallet-rpc per agent.

Nodes form a full mesh on 127.0.0.1 (each lists every other as an exclusive
peer); each wallet-rpc serves one fresh wallet, created once. When this returns,
every process answers RPC, the nodes are peered and the registry holds the real
wallet addresses.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import attrs

from monerosim_core.daemons import (
    NodeSpec,
    ProcessSupervisor,
    WalletSpec,
    wait_peered,
)
from monerosim_core.plan import Plan
from monerosim_core.registry import write_registry
from monerosim_core.rpc import DaemonClient
from monerosim_core.rundir import RunDir

log = logging.getLogger("monerosim.engine")

START_TIMEOUT = 90.0  # wall seconds for every process to answer (2 cores, many processes)
PEER_TIMEOUT = 60.0


@attrs.define
class Network:
    """The running processes of a plan, and RPC clients for its nodes."""

    plan: Plan
    supervisor: ProcessSupervisor
    daemons: dict[str, DaemonClient] = attrs.field(factory=dict)

    def close_clients(self) -> None:
        for client in self.daemons.values():
            client.close()


def start_network(plan: Plan, run: RunDir, supervisor: ProcessSupervisor) -> tuple[Network, Plan]:
    """Start and connect everything; returns the network and the plan with addresses."""
    nodes = plan.nodes
    p2p = {p.agent.id: f"{p.agent.ip_addr}:{p.p2p_port}" for p in nodes}
    wallets: dict[str, WalletSpec] = {}
    for p in nodes:
        agent = p.agent
        assert agent.daemon_rpc_port is not None and p.p2p_port is not None
        node = NodeSpec(
            name=agent.id,
            data_dir=run.node_dir(agent.id) / "monerod",
            rpc_port=agent.daemon_rpc_port,
            p2p_port=p.p2p_port,
            peers=[addr for other, addr in p2p.items() if other != agent.id],
            host=agent.ip_addr,
        )
        supervisor.start_node(node)
        if agent.wallet_rpc_port is not None:
            wallets[agent.id] = WalletSpec(
                name=f"{agent.id}-wallet",
                wallet_dir=run.node_dir(agent.id) / "wallet",
                rpc_port=agent.wallet_rpc_port,
                daemon_address=node.rpc_address,
                host=agent.ip_addr,
            )
    for spec in wallets.values():
        supervisor.start_wallet(spec)
    log.info("started %d monerod and %d wallet-rpc; waiting for RPC", len(nodes), len(wallets))
    supervisor.wait_ready(timeout=START_TIMEOUT)

    addresses = _create_wallets(supervisor, wallets)
    run.write_credentials({agent_id: spec.login for agent_id, spec in wallets.items()})
    plan = plan.with_wallet_addresses(addresses)
    write_registry(run.shared, plan.registry())

    network = Network(plan, supervisor)
    for p in nodes:
        assert p.agent.daemon_rpc_port is not None
        network.daemons[p.agent.id] = DaemonClient(
            p.agent.ip_addr, p.agent.daemon_rpc_port, timeout=10.0
        )
    if len(nodes) > 1:
        wait_peered(network.daemons, len(nodes) - 1, timeout=PEER_TIMEOUT)
    log.info("network up: %d nodes peered in a full mesh", len(nodes))
    return network, plan


def _create_wallets(
    supervisor: ProcessSupervisor, wallets: dict[str, WalletSpec]
) -> dict[str, str]:
    """Create one wallet per wallet-rpc, in parallel (each takes seconds); their addresses."""

    def create(agent_id: str) -> tuple[str, str]:
        with supervisor.processes[wallets[agent_id].name].wallet_client() as client:
            client.create_wallet(agent_id, "")
            return agent_id, client.get_address()

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(wallets)))) as pool:
        return dict(pool.map(create, wallets))
