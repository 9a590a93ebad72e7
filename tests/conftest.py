"""Shared fixtures, above all real regtest networks for tests marked ``daemon``.

``network_factory`` (module scope) starts peered monerod nodes, each with its own
monero-wallet-rpc and a fresh wallet, under a temporary directory, and stops
them all when the module ends, however its tests ended::

    @pytest.mark.daemon
    def test_something(network_factory):
        net = network_factory(3)            # 3 nodes in a full mesh, 3 wallets
        a, b, c = net.nodes
        a.daemon.generateblocks(1, b.address)

Calling the factory again with the same arguments returns the same network, so
a module starts each size once. ``no_leftover_daemons`` fails a test that leaves
a monerod / wallet-rpc child of this pytest process running (and kills it, by
PID); at the end of the session the same check runs over everything.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest

from monerosim_core.engine.convergence import wait_peered
from monerosim_core.engine.shadow.run import ShadowMissing, find_shadow
from monerosim_core.processes.ports import LOOPBACK, free_tcp_ports
from monerosim_core.processes.specs import NodeSpec, WalletSpec, mesh_node_specs
from monerosim_core.processes.supervisor import ManagedProcess, ProcessSupervisor
from monerosim_core.rpc import DaemonClient, WalletClient

DAEMON_COMMS = frozenset({"monerod", "monero-wallet-r"})  # /proc comm is cut at 15 chars
WALLET_PASSWORD = "monerosim-test"


def child_daemon_pids() -> set[int]:
    """Running (not zombie) monerod / wallet-rpc processes whose parent is this
    process: only those can be ours, whatever else runs on the machine."""
    found: set[int] = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if comm in DAEMON_COMMS and int(fields[1]) == me and fields[0] not in ("Z", "X"):
            found.add(int(entry.name))
    return found


def _kill(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.fixture
def no_leftover_daemons() -> Iterator[None]:
    """Fail the test if it leaves a daemon it started running (killing it by PID)."""
    before = child_daemon_pids()
    yield
    leaked = child_daemon_pids() - before
    _kill(leaked)
    assert not leaked, f"test left daemon processes running: {sorted(leaked)}"


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs started by the tests cache their bootstraps in the session's own
    directory, never in the user's ~/.cache (the runs inherit the environment)."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(scope="session", autouse=True)
def _no_leftover_daemons_at_exit() -> Iterator[None]:
    yield
    leaked = child_daemon_pids()
    _kill(leaked)
    assert not leaked, f"the session left daemon processes running: {sorted(leaked)}"


@pytest.fixture(scope="session")
def monero_binaries() -> None:
    """Skip (not fail) where the monero package is not installed."""
    missing = [b for b in ("monerod", "monero-wallet-rpc") if shutil.which(b) is None]
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI must run the daemon tests, but these are missing: {', '.join(missing)}")
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (Debian/Ubuntu package 'monero')")


@pytest.fixture(scope="session")
def shadow_binary() -> Path:
    """The Shadow simulator; skip (not fail) where it is not installed, except in CI."""
    try:
        return find_shadow()
    except ShadowMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Shadow tests, but: {exc}")
        pytest.skip(
            "Shadow is not installed (build it with ../shared/tools/install-shadow /opt/shadow, "
            "see README 'The Shadow engine')"
        )


@attrs.define
class NetNode:
    """One node of a test network: its daemon, its wallet and the wallet's address."""

    name: str
    daemon: DaemonClient
    process: ManagedProcess
    wallet: WalletClient | None = None
    wallet_process: ManagedProcess | None = None
    address: str | None = None


@attrs.define
class LocalNetwork:
    supervisor: ProcessSupervisor
    nodes: list[NetNode]

    def daemons(self) -> dict[str, DaemonClient]:
        return {n.name: n.daemon for n in self.nodes}

    def close(self) -> None:
        """Stop every process and close the clients."""
        try:
            self.supervisor.stop_all()
        finally:
            for node in self.nodes:
                node.daemon.close()
                if node.wallet is not None:
                    node.wallet.close()


def start_local_network(
    base_dir: Path, n_nodes: int, *, wallets: bool = True, timeout: float = 60.0
) -> LocalNetwork:
    """Start ``n_nodes`` monerod in a full mesh (and a wallet-rpc with a new wallet
    per node), wait until they answer and are peered. On any failure everything
    already started is stopped before the error propagates."""
    names = [f"node{i}" for i in range(n_nodes)]
    supervisor = ProcessSupervisor(base_dir / "state")
    nodes: list[NetNode] = []
    try:
        for spec in mesh_node_specs(base_dir / "nodes", names):
            proc = supervisor.start(spec)
            nodes.append(NetNode(spec.name, proc.daemon_client(), proc))
        if wallets:
            for node, port in zip(nodes, free_tcp_ports(n_nodes), strict=True):
                assert isinstance(node.process.spec, NodeSpec)
                wallet = WalletSpec(
                    name=f"{node.name}-wallet",
                    wallet_dir=base_dir / "wallets" / node.name,
                    rpc_port=port,
                    daemon_address=node.process.spec.rpc_address,
                    daemon_login=node.process.spec.login,
                )
                node.wallet_process = supervisor.start(wallet)
                node.wallet = WalletClient(LOOPBACK, port, login=wallet.login)
        supervisor.wait_ready(timeout=timeout)
        if wallets:

            def create(node: NetNode) -> str:
                assert node.wallet is not None
                node.wallet.create_wallet(node.name, WALLET_PASSWORD)
                return node.wallet.get_address()

            with ThreadPoolExecutor(max_workers=n_nodes) as pool:
                for node, address in zip(nodes, pool.map(create, nodes), strict=True):
                    node.address = address
        net = LocalNetwork(supervisor, nodes)
        if n_nodes > 1:
            wait_peered(net.daemons(), n_nodes - 1, timeout=timeout)
        return net
    except BaseException:
        LocalNetwork(supervisor, nodes).close()
        raise


@pytest.fixture(scope="module")
def network_factory(
    tmp_path_factory: pytest.TempPathFactory, monero_binaries: None
) -> Iterator[Callable[..., LocalNetwork]]:
    """``make(n_nodes, wallets=True) -> LocalNetwork``; all stopped at module end."""
    started: dict[tuple[int, bool], LocalNetwork] = {}

    def make(n_nodes: int, wallets: bool = True) -> LocalNetwork:
        key = (n_nodes, wallets)
        if key not in started:
            base = tmp_path_factory.mktemp(f"net{n_nodes}")
            started[key] = start_local_network(base, n_nodes, wallets=wallets)
        return started[key]

    try:
        yield make
    finally:
        for net in started.values():
            net.close()
