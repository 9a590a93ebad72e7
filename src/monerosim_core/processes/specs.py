"""What to run: the command lines of every process a run starts.

:class:`NodeSpec` (``monerod --regtest``), :class:`WalletSpec`
(``monero-wallet-rpc``) and :class:`AgentProcessSpec` (``monerosim agent``) are
frozen values whose ``argv()`` is the complete command line, so any engine can use
them. Every daemon flag below was checked against monero 0.18.0.0; the reasons are
in the comments and docstrings.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Literal

import attrs

from monerosim_core.processes.ports import LOOPBACK, free_tcp_ports

Kind = Literal["monerod", "wallet-rpc", "agent"]


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


# ------------------------------------------------------------------ logins and addresses


def new_rpc_login() -> tuple[str, str]:
    """Fresh ``(user, password)`` for ``--rpc-login``; no ``:`` in either."""
    return f"monerosim-{secrets.token_hex(4)}", secrets.token_urlsafe(24)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (the file is created
    0600, never briefly wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w") as f:
        f.write(text)


def check_loopback(host: str) -> None:
    """Refuse an address the local engine must not bind (anything but loopback)."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{host} is not a loopback address: local processes bind loopback only")


# ------------------------------------------------------------------ what to run


@attrs.frozen
class NodeSpec:
    """One monerod. ``peers`` are the P2P addresses (``host:port``) it dials.

    The node connects to ``peers`` only (``--add-exclusive-node``): without an
    exclusive list monerod dials public seed nodes even in regtest. A node with no
    peers at all runs ``--offline``: a regtest node whose only exclusive peer is
    itself never counts as synchronised and refuses to mine (BUSY). Peers that
    dial it are still accepted. ``max_connections_per_ip`` must exceed the
    connections one node receives, because every loopback peer shares one IP.

    RPC is behind ``login`` (generated; HTTP digest): it is written to a 0600
    config file, not the command line, which every local user can read.
    """

    kind: ClassVar[Kind] = "monerod"
    name: str
    data_dir: Path
    rpc_port: int
    p2p_port: int
    peers: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    host: str = LOOPBACK
    log_level: int | str = 0  # a level, or monerod's "LEVEL,category:LEVEL,..."
    max_connections_per_ip: int = 256
    keep_fakechain: bool = False
    login: tuple[str, str] = attrs.field(factory=new_rpc_login, repr=False)
    extra_args: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    binary: str = "monerod"

    @property
    def rpc_address(self) -> str:
        return f"{self.host}:{self.rpc_port}"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "monerod.conf"

    @property
    def p2p_address(self) -> str:
        return f"{self.host}:{self.p2p_port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "monerod.log"

    @property
    def workdir(self) -> Path:
        return self.data_dir

    def prepare(self) -> None:
        """Create the data directory and the 0600 file holding the RPC login."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        write_private(self.config_file, f"rpc-login={':'.join(self.login)}\n")

    def argv(self) -> list[str]:
        argv = [
            self.binary, "--regtest", "--fixed-difficulty", "1",
            "--non-interactive", "--no-zmq", "--no-igd",
            "--check-updates", "disabled", "--disable-dns-checkpoints",
            "--rpc-ssl", "disabled", "--config-file", str(self.config_file),
            "--data-dir", str(self.data_dir),
            "--log-file", str(self.log_file), "--log-level", str(self.log_level),
            "--p2p-bind-ip", self.host, "--p2p-bind-port", str(self.p2p_port),
            "--rpc-bind-ip", self.host, "--rpc-bind-port", str(self.rpc_port),
            "--max-connections-per-ip", str(self.max_connections_per_ip),
        ]  # fmt: skip
        if not self.peers:
            argv.append("--offline")
        else:
            argv += ["--out-peers", str(len(self.peers))]
        for peer in self.peers:
            argv += ["--add-exclusive-node", peer]
        if self.keep_fakechain:
            argv.append("--keep-fakechain")
        return [*argv, *self.extra_args]


@attrs.frozen
class WalletSpec:
    """One monero-wallet-rpc serving wallets in ``wallet_dir`` for the node at
    ``daemon_address`` (``host:rpc_port``), which it logs into with
    ``daemon_login``. It needs no network flag against a regtest daemon: regtest
    uses mainnet-format addresses. Its own RPC ``login`` is generated."""

    kind: ClassVar[Kind] = "wallet-rpc"
    name: str
    wallet_dir: Path
    rpc_port: int
    daemon_address: str
    login: tuple[str, str] = attrs.field(factory=new_rpc_login, repr=False)
    daemon_login: tuple[str, str] | None = attrs.field(default=None, repr=False)
    host: str = LOOPBACK
    log_level: int = 0
    extra_args: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    binary: str = "monero-wallet-rpc"

    @property
    def rpc_address(self) -> str:
        return f"{self.host}:{self.rpc_port}"

    @property
    def log_file(self) -> Path:
        return self.wallet_dir / "wallet-rpc.log"

    @property
    def config_file(self) -> Path:
        """Holds the RPC login: on the command line every local user could read it."""
        return self.wallet_dir / "wallet-rpc.conf"

    @property
    def workdir(self) -> Path:
        return self.wallet_dir

    def prepare(self) -> None:
        """Create the wallet directory and the 0600 file holding the logins."""
        self.wallet_dir.mkdir(parents=True, exist_ok=True)
        lines = f"rpc-login={':'.join(self.login)}\n"
        if self.daemon_login is not None:
            lines += f"daemon-login={':'.join(self.daemon_login)}\n"
        write_private(self.config_file, lines)

    def argv(self) -> list[str]:
        # Explicit ring-db and log paths: the defaults are in $HOME and the cwd.
        argv = [
            self.binary, "--non-interactive", "--no-dns",
            "--daemon-address", self.daemon_address, "--trusted-daemon",
            "--daemon-ssl", "disabled", "--rpc-ssl", "disabled",
            "--rpc-bind-ip", self.host, "--rpc-bind-port", str(self.rpc_port),
            "--config-file", str(self.config_file),
            "--wallet-dir", str(self.wallet_dir),
            "--shared-ringdb-dir", str(self.wallet_dir / "ringdb"),
            "--log-file", str(self.log_file), "--log-level", str(self.log_level),
        ]  # fmt: skip
        return [*argv, *self.extra_args]


def mesh_node_specs(
    base_dir: Path, names: Sequence[str], *, log_level: int = 0, keep_fakechain: bool = False
) -> list[NodeSpec]:
    """Specs for a full mesh on 127.0.0.1: fresh ports, data dirs ``base_dir/NAME``,
    every node peering with every other."""
    ports = free_tcp_ports(2 * len(names))
    p2p = [f"{LOOPBACK}:{ports[2 * i + 1]}" for i in range(len(names))]
    return [
        NodeSpec(
            name=name,
            data_dir=base_dir / name,
            rpc_port=ports[2 * i],
            p2p_port=ports[2 * i + 1],
            peers=[p for j, p in enumerate(p2p) if j != i],
            log_level=log_level,
            keep_fakechain=keep_fakechain,
        )
        for i, name in enumerate(names)
    ]


@attrs.frozen
class AgentProcessSpec:
    """One agent process: ``python -m monerosim_core.cli agent ID --run-dir DIR``.

    It needs no address of its own (it talks to daemons as a client), so the
    loopback check passes trivially.
    """

    kind: ClassVar[Kind] = "agent"
    name: str
    agent_id: str
    run_dir: Path
    incarnation: int = 0  # how many times this agent was started before (a restart)
    host: str = LOOPBACK

    @property
    def rpc_address(self) -> str:
        return "-"

    @property
    def workdir(self) -> Path:
        return self.run_dir

    def prepare(self) -> None:
        pass

    def argv(self) -> list[str]:
        cli = [sys.executable, "-m", "monerosim_core.cli"]
        argv = [*cli, "agent", self.agent_id, "--run-dir", str(self.run_dir)]
        return [*argv, "--incarnation", str(self.incarnation)] if self.incarnation else argv


ProcessSpec = NodeSpec | WalletSpec | AgentProcessSpec
