"""Real monerod / monero-wallet-rpc processes: starting, peering, mining, paying,
and stopping without leaving anything behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest

from monerosim_core.engine.convergence import wait_synced
from monerosim_core.processes.leftovers import find_leftovers, kill_leftovers
from monerosim_core.processes.ports import free_tcp_ports
from monerosim_core.processes.specs import NodeSpec, WalletSpec
from monerosim_core.processes.supervisor import ProcessStartError, ProcessSupervisor
from monerosim_core.records.layout import PIDS_FILE
from monerosim_core.rpc import DaemonClient, RpcConnectionError, RpcResponseError, WalletClient

if TYPE_CHECKING:
    from conftest import LocalNetwork

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

COINBASE_LOCK = 60  # blocks before a coinbase output can be spent
RING_DECOYS = 15  # a ring needs this many other unlocked outputs on chain ("not enough outputs")


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def single_node(tmp_path: Path, name: str = "solo") -> NodeSpec:
    rpc, p2p = free_tcp_ports(2)
    return NodeSpec(name=name, data_dir=tmp_path / name, rpc_port=rpc, p2p_port=p2p)


# ------------------------------------------------------------------ a 3-node network


def test_mesh_nodes_are_peered_with_every_other(
    network_factory: Callable[..., LocalNetwork],
) -> None:
    net = network_factory(3)
    for node in net.nodes:
        peers = {c.peer_id for c in node.daemon.get_connections()}
        assert len(peers) == 2, node.name
        info = node.daemon.get_info()
        assert info.nettype == "fakechain"
        assert info.outgoing_connections_count >= 1


def test_block_mined_on_one_node_reaches_the_others_and_pays_the_miner(
    network_factory: Callable[..., LocalNetwork],
) -> None:
    net = network_factory(3)
    a, b, c = net.nodes
    assert a.wallet is not None and b.wallet is not None and a.address is not None
    a_before = a.wallet.get_balance(refresh=True).balance
    b_before = b.wallet.get_balance(refresh=True).balance
    start = a.daemon.get_info().tip

    mined = a.daemon.generateblocks(1, a.address, prev_block=start.hash)

    assert len(mined.hashes) == 1
    assert mined.height == start.height + 1
    tip = wait_synced(net.daemons(), min_height=start.height + 1, timeout=30)
    assert tip.hash == mined.hashes[0]
    assert b.daemon.get_info().tip.hash == mined.hashes[0]
    assert c.daemon.get_tip() == tip

    block = c.daemon.get_block(mined.height)
    assert block.header.hash == mined.hashes[0]
    assert block.header.prev_hash == start.hash
    assert block.coinbase_amount == block.header.reward > 0

    balance = a.wallet.get_balance(refresh=True)
    assert balance.balance - a_before == block.header.reward
    assert balance.unlocked_balance == 0  # coinbase is locked for 60 blocks
    assert b.wallet.get_balance(refresh=True).balance == b_before  # not b's block
    received = [t for t in a.wallet.get_transfers() if t.type == "block"]
    assert block.header.miner_tx_hash in {t.txid for t in received}
    assert c.daemon.get_alternate_chains() == []


def test_transfer_travels_pool_to_block(network_factory: Callable[..., LocalNetwork]) -> None:
    net = network_factory(3)
    a, b, c = net.nodes
    assert a.wallet is not None and b.wallet is not None
    assert a.address is not None and b.address is not None
    # Mature a's coinbase and enough decoy outputs; mined to b so that a's unlocked
    # funds are exactly one reward.
    a.daemon.generateblocks(1, a.address)
    a.daemon.generateblocks(COINBASE_LOCK + RING_DECOYS + 2, b.address, timeout=120)
    tip = wait_synced(net.daemons(), timeout=30)
    assert a.wallet.get_balance(refresh=True).unlocked_balance > 0
    b_before = b.wallet.get_balance(refresh=True).balance
    amount = 10**12  # 1 XMR

    sent = a.wallet.transfer(b.address, amount)

    assert sent.amount == amount and sent.fee > 0 and len(sent.tx_hash) == 64
    assert sent.tx_hash in a.daemon.get_transaction_pool_hashes()
    pooled = a.daemon.get_transactions([sent.tx_hash])[sent.tx_hash]
    assert pooled is not None, "the relaying node does not know the transaction"
    assert (pooled.in_pool, pooled.block_height) == (True, None)

    # A transaction fresh from a wallet is "local" in monerod's pool, and block
    # templates leave local transactions out until the node has relayed them (at
    # once normally; seen to lag once under heavy load), so allow a few blocks.
    deadline = time.monotonic() + 30
    while True:
        mined = a.daemon.generateblocks(1, b.address, prev_block=tip.hash)
        tip = wait_synced(net.daemons(), min_height=mined.height, timeout=30)
        if sent.tx_hash in a.daemon.get_block(mined.height).tx_hashes:
            break
        assert time.monotonic() < deadline, f"{sent.tx_hash} not mined within 30 s"
        time.sleep(0.5)

    status = c.daemon.get_transactions([sent.tx_hash, "11" * 32])
    assert status["11" * 32] is None
    found = status[sent.tx_hash]
    assert found is not None, "another node does not know the mined transaction"
    assert (found.in_pool, found.block_height) == (False, mined.height)
    assert sent.tx_hash in c.daemon.get_block(mined.height).tx_hashes
    assert sent.tx_hash not in c.daemon.get_transaction_pool_hashes()
    assert b.wallet.get_balance(refresh=True).balance > b_before
    incoming = [t for t in b.wallet.get_transfers() if t.txid == sent.tx_hash]
    assert [(t.type, t.amount, t.height) for t in incoming] == [("in", amount, mined.height)]


# ------------------------------------------------------------------ the supervisor


def test_stop_all_stops_wallets_then_daemons_politely(
    tmp_path: Path, no_leftover_daemons: None
) -> None:
    node = single_node(tmp_path)
    wallet = WalletSpec(
        name="solo-wallet",
        wallet_dir=tmp_path / "wallet",
        rpc_port=free_tcp_ports(1)[0],
        daemon_address=node.rpc_address,
        daemon_login=node.login,
    )
    with ProcessSupervisor(tmp_path / "state") as sup:
        n, w = sup.start(node), sup.start(wallet)
        sup.wait_ready(timeout=30)
        with w.wallet_client() as client:
            client.create_wallet("solo", "pw")  # so stop_wallet has a wallet to save
        recorded = json.loads((tmp_path / "state" / PIDS_FILE).read_text())
        assert {p["pid"] for p in recorded["processes"]} == {n.pid, w.pid}
        assert {p.name for p in find_leftovers(tmp_path / "state")} == {"solo", "solo-wallet"}

        started = time.monotonic()
        sup.stop_all()
        took = time.monotonic() - started

        # Clean exits (code 0, no SIGKILL), well inside the grace period: both
        # accepted the stop RPC rather than waiting to be signalled.
        assert (n.popen.returncode, w.popen.returncode) == (0, 0)
        assert took < 10
        assert not pid_running(n.pid) and not pid_running(w.pid)
        assert (wallet.wallet_dir / "solo.keys").exists()
        assert find_leftovers(tmp_path / "state") == []
        sup.stop_all()  # idempotent
    with (
        DaemonClient(node.host, node.rpc_port, timeout=2) as gone,
        pytest.raises(RpcConnectionError),
    ):
        gone.get_info()


def test_stop_all_copes_with_a_process_killed_from_outside(
    tmp_path: Path, no_leftover_daemons: None
) -> None:
    node = single_node(tmp_path)
    wallet = WalletSpec(
        name="orphan-wallet",
        wallet_dir=tmp_path / "wallet",
        rpc_port=free_tcp_ports(1)[0],
        daemon_address=node.rpc_address,
        daemon_login=node.login,
    )
    sup = ProcessSupervisor(tmp_path / "state")
    try:
        n, w = sup.start(node), sup.start(wallet)
        sup.wait_ready(timeout=30)
        os.kill(n.pid, signal.SIGKILL)
        n.popen.wait(timeout=10)
    finally:
        sup.stop_all()

    assert n.popen.returncode == -signal.SIGKILL
    assert w.popen.returncode is not None and not pid_running(w.pid)


def test_daemon_that_cannot_bind_its_port_fails_clearly(
    tmp_path: Path, no_leftover_daemons: None
) -> None:
    node = single_node(tmp_path, "blocked")
    with socket.socket() as squatter:
        squatter.bind((node.host, node.rpc_port))
        squatter.listen()
        with ProcessSupervisor(tmp_path / "state") as sup:
            proc = sup.start(node)
            with pytest.raises(ProcessStartError) as caught:
                sup.wait_ready(timeout=30)

    message = str(caught.value)
    assert f"monerod blocked (pid {proc.pid}) exited with code 1" in message
    assert "Failed to bind" in message  # monerod's own words, from the log tail
    assert str(tmp_path / "state" / "logs" / "blocked.console.log") in message
    assert not pid_running(proc.pid)


def test_missing_binary_is_a_start_error(tmp_path: Path) -> None:
    spec = attrs.evolve(single_node(tmp_path), binary=str(tmp_path / "no-such-monerod"))
    with ProcessSupervisor(tmp_path / "state") as sup, pytest.raises(ProcessStartError) as caught:
        sup.start(spec)
    assert "could not be started" in str(caught.value)


def test_kill_leftovers_finds_processes_of_an_interrupted_parent(
    tmp_path: Path, no_leftover_daemons: None
) -> None:
    # A supervisor that is never stopped stands for a parent that was killed.
    abandoned = ProcessSupervisor(tmp_path / "state")
    proc = abandoned.start(single_node(tmp_path))
    try:
        killed = kill_leftovers(tmp_path / "state", grace=10)
        assert [(k.name, k.pid) for k in killed] == [("solo", proc.pid)]
        assert proc.popen.wait(timeout=5) is not None
        assert find_leftovers(tmp_path / "state") == []
    finally:
        abandoned.stop_all()


def test_wallet_rpc_rejects_calls_without_the_generated_login(tmp_path: Path) -> None:
    node = single_node(tmp_path)
    spec = WalletSpec(
        name="locked", wallet_dir=tmp_path / "w", rpc_port=free_tcp_ports(1)[0],
        daemon_address=node.rpc_address,
        daemon_login=node.login,
    )  # fmt: skip
    with ProcessSupervisor(tmp_path / "state") as sup:
        sup.start(spec)
        sup.wait_ready(timeout=30)
        anonymous = WalletClient(spec.host, spec.rpc_port, login=None, timeout=5)
        with anonymous, pytest.raises(RpcResponseError, match="HTTP 401"):
            anonymous.get_version()


def test_monerod_rejects_calls_without_the_generated_login(tmp_path: Path) -> None:
    node = single_node(tmp_path, "guarded")
    assert node.login[1] not in " ".join(node.argv())  # /proc/PID/cmdline is world-readable
    with ProcessSupervisor(tmp_path / "state") as sup:
        proc = sup.start(node)
        sup.wait_ready(timeout=30)
        with proc.daemon_client() as daemon:
            assert daemon.get_tip().height == 0  # the login works
        anonymous = DaemonClient(node.host, node.rpc_port, timeout=5)
        with anonymous:
            for call in (
                anonymous.get_info,
                anonymous.get_tip,
                anonymous.get_transaction_pool_hashes,
            ):
                with pytest.raises(RpcResponseError, match="HTTP 401"):
                    call()
        wrong = DaemonClient(node.host, node.rpc_port, login=(node.login[0], "guess"), timeout=5)
        with wrong, pytest.raises(RpcResponseError, match="HTTP 401"):
            wrong.generateblocks(1, "4" * 95)
    assert stat.S_IMODE(node.config_file.stat().st_mode) == 0o600
