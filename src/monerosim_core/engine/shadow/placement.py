"""Where every agent lives in a Shadow simulation: hosts, addresses, peers.

One simulated host per agent, named after the agent (agent ids are lowercase
letters, digits and '-', as Shadow's host names must be), with its own IP address
from 11.0.0.1 up in registry order; the engine's own steps (setup, final state)
run on one more host, :data:`ENGINE_HOST`. Every daemon listens on the same ports
on its host (:mod:`monerosim_core.processes.shadow_specs`), so the registry carries
each agent's Shadow IP with those ports.

Hosts attach to the topology's nodes: to node 0 of a switch or a generated
topology, and round-robin over the nodes of a GML file, in registry order.

Peering: every node dials its peers as exclusive nodes. ``full_mesh``: every other
node. ``random``: ``out_degree`` peers each, the first being the node's successor
on a ring through all nodes in a seeded random order (so the graph is connected
whatever the draws), the rest drawn at random from the run seed.
"""

from __future__ import annotations

import ipaddress
from collections import Counter

import attrs

from monerosim_core.config.model import Network, Peering
from monerosim_core.planning.plan import AgentPlan, Plan
from monerosim_core.planning.seeding import RngPurpose, rng_for
from monerosim_core.processes.shadow_specs import DAEMON_RPC_PORT, P2P_PORT, WALLET_RPC_PORT

ENGINE_HOST = "monerosim"  # runs the engine's steps inside the simulation
FIRST_IP = ipaddress.IPv4Address("11.0.0.1")
_PEERING_STREAM = "network"  # the rng stream of the peering draws


class PlacementError(Exception):
    """The scenario cannot be laid out on the topology (a GML node lacks a self-loop)."""


@attrs.frozen
class Host:
    """One simulated host: its agent (with its Shadow address and ports), the
    topology node it attaches to, and the P2P addresses its monerod dials."""

    agent: AgentPlan
    node_id: int
    peers: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.agent.agent.id

    @property
    def ip(self) -> str:
        return self.agent.agent.ip_addr

    @property
    def has_daemon(self) -> bool:
        return self.agent.p2p_port is not None


@attrs.frozen
class Placement:
    """The plan with Shadow addresses, and its hosts in registry order."""

    plan: Plan
    hosts: tuple[Host, ...]
    engine_ip: str
    engine_node_id: int


def host_ips(count: int) -> list[str]:
    """``count`` distinct addresses from 11.0.0.1, skipping .0 and .255 in the last
    octet (network and broadcast addresses of a /24 confuse some software)."""
    ips: list[str] = []
    address = FIRST_IP
    while len(ips) < count:
        if address.packed[-1] not in (0, 255):
            ips.append(str(address))
        address += 1
    return ips


def place(plan: Plan, seed: int) -> Placement:
    """Give every agent of ``plan`` a host, an address, a topology node and peers."""
    network = plan.scenario.network
    ips = host_ips(len(plan.agents) + 1)
    agents = tuple(_on_host(p, ip) for p, ip in zip(plan.agents, ips, strict=False))
    node_ids = _node_ids(network, len(agents) + 1)
    daemons = [p.agent.id for p in agents if p.p2p_port is not None]
    peers = _peers(network, daemons, {p.agent.id: p.agent.ip_addr for p in agents}, seed)
    hosts = tuple(
        Host(agent=p, node_id=node, peers=peers.get(p.agent.id, ()))
        for p, node in zip(agents, node_ids, strict=False)
    )
    _check_self_loops(network, node_ids)
    return Placement(
        plan=attrs.evolve(plan, agents=agents),
        hosts=hosts,
        engine_ip=ips[-1],
        engine_node_id=node_ids[-1],
    )


def peers_per_node(network: Network, nodes: int) -> int:
    """How many distinct peers each of ``nodes`` nodes has at least, once peered."""
    if network.peering is Peering.FULL_MESH or nodes <= 2:
        return max(0, nodes - 1)
    return min(network.out_degree, nodes - 1)


def _on_host(p: AgentPlan, ip: str) -> AgentPlan:
    agent = p.agent
    has_daemon = agent.daemon_rpc_port is not None
    return attrs.evolve(
        p,
        agent=attrs.evolve(
            agent,
            ip_addr=ip,
            daemon_rpc_port=DAEMON_RPC_PORT if has_daemon else None,
            wallet_rpc_port=WALLET_RPC_PORT if agent.wallet_rpc_port is not None else None,
        ),
        p2p_port=P2P_PORT if has_daemon else None,
    )


def _node_ids(network: Network, count: int) -> list[int]:
    nodes = network.topology.nodes if network.topology is not None else (0,)
    return [nodes[i % len(nodes)] for i in range(count)]


def _peers(
    network: Network, daemons: list[str], ips: dict[str, str], seed: int
) -> dict[str, tuple[str, ...]]:
    degree = peers_per_node(network, len(daemons))
    if degree == len(daemons) - 1:
        chosen = {a: [b for b in daemons if b != a] for a in daemons}
    else:
        rng = rng_for(seed, _PEERING_STREAM, RngPurpose.PEERING)
        ring = rng.sample(daemons, len(daemons))
        chosen = {}
        for i, node in enumerate(ring):
            peers = [ring[(i + 1) % len(ring)]]  # its successor on the ring
            while len(peers) < degree:  # then distinct random others (degree << n)
                other = rng.choice(daemons)
                if other != node and other not in peers:
                    peers.append(other)
            chosen[node] = peers
    return {a: tuple(f"{ips[b]}:{P2P_PORT}" for b in peers) for a, peers in chosen.items()}


def _check_self_loops(network: Network, node_ids: list[int]) -> None:
    topology = network.topology
    if topology is None:
        return
    crowded = sorted(n for n, hosts in Counter(node_ids).items() if hosts > 1)
    lacking = [n for n in crowded if n not in topology.self_loops]
    if lacking:
        raise PlacementError(
            f"{topology.path}: node(s) {', '.join(map(str, lacking))} get several hosts but "
            "have no self-loop (an edge with source and target the node), over which hosts "
            "on one node talk; add one per node"
        )
