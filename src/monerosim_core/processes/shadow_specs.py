"""The daemons' command lines inside a Shadow simulation.

Shadow gives every simulated host an address of its own, so each daemon listens on
all of its host's addresses at the same ports on every host. The differences from
the local engine's command lines, each needed under Shadow 3.3 with monero 0.18:

- ``0.0.0.0`` binds: monerod and wallet-rpc then also answer on the host's
  loopback, where the wallet reaches its own node; binding beyond loopback needs
  ``--confirm-external-bind`` or they refuse to start;
- ``--rpc-max-connections-per-public-ip``: Shadow's addresses count as public to
  monerod, whose default of 3 connections per address is too few for an agent
  reading many wallets and nodes at once (it must stay <= ``--rpc-max-connections``, 100);
- ``--max-connections-per-ip`` a little above 1: two nodes that list each other
  dial each other, and monerod's default (1) refuses the second connection, so
  both keep redialling every second;
- the ``blockchain`` log category at INFO: each node logs the simulated instant
  every block is added, from which the engine measures block propagation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from monerosim_core.processes.specs import NodeSpec, WalletSpec

P2P_PORT = 18080
DAEMON_RPC_PORT = 18081
WALLET_RPC_PORT = 18083
ANY_ADDRESS = "0.0.0.0"
HOST_LOOPBACK = "127.0.0.1"  # inside one simulated host

MAX_CONNECTIONS_PER_IP = 4
RPC_CONNECTIONS_PER_ADDRESS = 100
NODE_LOG_LEVEL = "0,blockchain:INFO"


def simulated_node_spec(name: str, data_dir: Path, host_ip: str, peers: Sequence[str]) -> NodeSpec:
    """monerod on the simulated host ``host_ip`` dialling ``peers`` (``ip:port``;
    a node without peers lists itself, as on the local engine)."""
    return NodeSpec(
        name=name,
        data_dir=data_dir,
        rpc_port=DAEMON_RPC_PORT,
        p2p_port=P2P_PORT,
        peers=peers or (f"{host_ip}:{P2P_PORT}",),
        host=ANY_ADDRESS,
        log_level=NODE_LOG_LEVEL,
        max_connections_per_ip=MAX_CONNECTIONS_PER_IP,
        extra_args=(
            "--confirm-external-bind",
            "--rpc-max-connections-per-public-ip",
            str(RPC_CONNECTIONS_PER_ADDRESS),
        ),
    )


def simulated_wallet_spec(
    name: str, wallet_dir: Path, daemon_login: tuple[str, str] | None
) -> WalletSpec:
    """monero-wallet-rpc for the monerod on its own simulated host (behind
    ``daemon_login``)."""
    return WalletSpec(
        name=name,
        wallet_dir=wallet_dir,
        rpc_port=WALLET_RPC_PORT,
        daemon_address=f"{HOST_LOOPBACK}:{DAEMON_RPC_PORT}",
        daemon_login=daemon_login,
        host=ANY_ADDRESS,
        extra_args=("--confirm-external-bind",),
    )
