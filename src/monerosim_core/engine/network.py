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

from monerosim_core.engine.convergence import wait_peered
from monerosim_core.planning.plan import Plan, node_process_name, wallet_process_name
from monerosim_core.processes.specs import NodeSpec, WalletSpec
from monerosim_core.processes.supervisor import ManagedProcess, ProcessSupervisor
from monerosim_core.records.layout import RunDir
from monerosim_core.records.registry import write_registry
from monerosim_core.rpc import DaemonClient
from monerosim_core.timeouts import timeouts

log = logging.getLogger("monerosim.engine")


@attrs.define
class Network:
    """The running daemons of a plan: RPC clients for its nodes and its wallet
    processes, both keyed by agent id."""

    plan: Plan
    daemons: dict[str, DaemonClient] = attrs.field(factory=dict)
    wallets: dict[str, ManagedProcess] = attrs.field(factory=dict)

    def close_clients(self) -> None:
        for client in self.daemons.values():
            client.close()


def start_network(plan: Plan, run: RunDir, supervisor: ProcessSupervisor) -> tuple[Network, Plan]:
    """Start and connect everything; returns the network and the plan with addresses."""
    nodes = plan.nodes
    p2p = {p.agent.id: f"{p.agent.ip_addr}:{p.p2p_port}" for p in nodes}
    wallet_specs: dict[str, WalletSpec] = {}
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
        )
        supervisor.start(node, run.logs / f"{node.name}.console.log")
        if agent.wallet_rpc_port is not None:
            wallet_specs[agent.id] = WalletSpec(
                name=wallet_process_name(agent.id),
                wallet_dir=run.node_dir(agent.id) / "wallet",
                rpc_port=agent.wallet_rpc_port,
                daemon_address=node.rpc_address,
                host=agent.ip_addr,
            )
    network = Network(plan)
    for agent_id, spec in wallet_specs.items():
        network.wallets[agent_id] = supervisor.start(spec, run.logs / f"{spec.name}.console.log")
    log.info("started %d monerod and %d wallet-rpc; waiting for RPC", len(nodes), len(wallet_specs))
    supervisor.wait_ready()

    addresses = _create_wallets(network.wallets)
    run.write_credentials({spec.name: spec.login for spec in wallet_specs.values()})
    plan = plan.with_wallet_addresses(addresses)
    network.plan = plan
    write_registry(run.shared, plan.registry())

    for p in nodes:
        assert p.agent.daemon_rpc_port is not None
        network.daemons[p.agent.id] = DaemonClient(p.agent.ip_addr, p.agent.daemon_rpc_port)
    if len(nodes) > 1:
        wait_peered(network.daemons, len(nodes) - 1, timeout=timeouts().peering)
    log.info("network up: %d nodes peered in a full mesh", len(nodes))
    return network, plan


def _create_wallets(wallets: dict[str, ManagedProcess]) -> dict[str, str]:
    """Create one wallet per wallet-rpc, in parallel (each takes seconds); their addresses."""

    def create(agent_id: str) -> tuple[str, str]:
        with wallets[agent_id].wallet_client(timeout=timeouts().wallet_create) as client:
            client.create_wallet(agent_id, "")
            return agent_id, client.get_address()

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(wallets)))) as pool:
        return dict(pool.map(create, wallets))
