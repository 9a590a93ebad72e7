"""`monerosim run` on real daemons: blocks by hashrate, on every chain, paid right.

Each test runs the real CLI as a subprocess against real monerod / wallet-rpc
processes on 127.0.0.1, then checks the chain itself (restarting the stopped
nodes on their data with ``--keep-fakechain``) rather than trusting the records.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from engine_helpers import (
    MINING_CONFIG,
    agent_pid,
    finish,
    non_loopback_sockets,
    pid_of,
    processes_of_run,
    records,
    start_mining_run,
    start_run,
    wait_for,
    write_config,
)

from monerosim_core.config.model import SourcePos, StrategyRef
from monerosim_core.planning.seeding import RngPurpose, rng_for
from monerosim_core.plugins.host import get_plugin_manager
from monerosim_core.plugins.selection import StrategyContext
from monerosim_core.processes.ports import free_tcp_ports
from monerosim_core.processes.specs import NodeSpec, WalletSpec
from monerosim_core.processes.supervisor import ProcessSupervisor
from monerosim_core.records.layout import BLOCKS_FILE, FAULTS_FILE, RunDir
from monerosim_core.records.registry import read_registry

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

BOOTSTRAP = 20
BLOCKS = 50  # 50 blocks of 120 s after the bootstrap


@pytest.fixture(scope="module")
def mining_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("mining")
    config = write_config(
        base, MINING_CONFIG, stop_time=f"{BLOCKS * 120 + 60}s", seed=7, bootstrap=BOOTSTRAP
    )
    run_dir = base / "run"
    code, out = finish(start_run(config, run_dir))
    assert code == 0, out[-4000:]
    assert processes_of_run(run_dir) == []
    return run_dir


def test_blocks_are_recorded_with_their_winners(mining_run: Path) -> None:
    blocks = records(mining_run, BLOCKS_FILE)
    mined = [b for b in blocks if not b["bootstrap"]]
    assert sum(b["bootstrap"] for b in blocks) == BOOTSTRAP
    assert len(mined) == BLOCKS
    assert [b["height"] for b in blocks] == list(range(1, BOOTSTRAP + BLOCKS + 1))
    assert {b["winner"] for b in blocks} <= {"miner-01", "miner-02", "miner-03"}
    assert (mining_run / "shared" / "agent_registry.json").exists()
    assert (mining_run / "shared" / "miners.json").exists()
    assert (mining_run / "report" / "summary.md").exists()


def test_every_block_is_on_every_main_chain_and_pays_its_winner(mining_run: Path) -> None:
    """Restart each node (chain kept) and each wallet, and ask them directly."""
    run = RunDir(mining_run)
    blocks = records(mining_run, BLOCKS_FILE)
    logins = run.read_credentials()
    agents = ["miner-01", "miner-02", "miner-03"]
    ports = iter(free_tcp_ports(3 * len(agents)))
    with ProcessSupervisor(mining_run / "inspect") as sup:
        nodes, wallets = {}, {}
        for agent in agents:
            node = NodeSpec(
                name=agent, data_dir=run.node_dir(agent) / "monerod",
                rpc_port=next(ports), p2p_port=next(ports), keep_fakechain=True,
                login=logins[agent],
            )  # fmt: skip
            nodes[agent] = sup.start(node)
            wallets[agent] = sup.start(
                WalletSpec(
                    name=f"{agent}-wallet", wallet_dir=run.node_dir(agent) / "wallet",
                    rpc_port=next(ports), daemon_address=node.rpc_address,
                    daemon_login=logins[agent],
                    login=logins[f"{agent}-wallet"],
                )
            )  # fmt: skip
        sup.wait_ready()
        for agent in agents:
            with nodes[agent].daemon_client() as daemon:
                assert daemon.get_tip().height == len(blocks)
                assert daemon.get_alternate_chains() == []
                for b in blocks:
                    header = daemon.get_block_header_by_height(b["height"])
                    assert header.hash == b["hash"], f"{agent} height {b['height']}"
                miner_txs = {
                    b["hash"]: daemon.get_block_header_by_hash(b["hash"]).miner_tx_hash
                    for b in blocks
                    if b["winner"] == agent
                }
            with wallets[agent].wallet_client() as wallet:
                wallet.open_wallet(agent, "")
                wallet.refresh()
                incoming = wallet.get_transfers(incoming=True)
                coinbases = {t.txid for t in incoming if t.type == "block"}
                balance = wallet.get_balance().balance
            assert coinbases == set(miner_txs.values()), agent
            assert balance == sum(b["reward"] for b in blocks if b["winner"] == agent), agent


def test_winners_follow_the_hashrate_shares(mining_run: Path) -> None:
    """Loose check on one run (70 blocks): the statistical test is the plugin's 100k draws."""
    wins = Counter(b["winner"] for b in records(mining_run, BLOCKS_FILE))
    assert wins["miner-01"] > wins["miner-03"]


def test_sigint_stops_every_process(tmp_path: Path) -> None:
    proc, run_dir = start_mining_run(tmp_path, seed=1)
    try:
        assert len(processes_of_run(run_dir)) >= 7  # 3 monerod, 3 wallets, the controller
        # Loopback only: every socket of every process of the run, bound and connected.
        assert non_loopback_sockets(run_dir) == []
    finally:
        os.kill(proc.pid, signal.SIGINT)
    code, out = finish(proc, timeout=90)
    assert code == 130, out[-3000:]
    assert processes_of_run(run_dir) == []
    assert RunDir(run_dir).read_info().end_reason == "interrupted"


def test_a_controller_crashing_twice_fails_the_run_and_leaves_nothing(tmp_path: Path) -> None:
    """The engine restarts a lost controller once (see test_reliability); a second
    loss ends the run, named, with its exit code, and nothing left running."""
    proc, run_dir = start_mining_run(tmp_path, seed=2)
    first = agent_pid(run_dir, "block-controller")
    os.kill(first, signal.SIGKILL)
    wait_for(
        lambda: any(f["kind"] == "agent_restarted" for f in records(run_dir, FAULTS_FILE)),
        120,
        "the controller to be restarted",
    )
    wait_for(lambda: agent_pid_or_none(run_dir) not in (None, first), 60, "the new controller")
    os.kill(agent_pid(run_dir, "block-controller"), signal.SIGKILL)
    code, out = finish(proc, timeout=180)
    assert code == 1
    assert "agent block-controller left the run" in out
    assert "exit code -9" in out  # SIGKILL, as the run's record says too
    assert "Traceback" not in out
    assert processes_of_run(run_dir) == []
    info = RunDir(run_dir).read_info()
    assert info.end_reason == "failed"
    assert info.failure is not None and "block-controller" in info.failure
    assert "exit code -9" in info.failure


def agent_pid_or_none(run_dir: Path) -> int | None:
    try:
        return agent_pid(run_dir, "block-controller")
    except AssertionError:
        return None


def test_a_dead_miner_node_loses_its_blocks_to_the_others(tmp_path: Path) -> None:
    config = write_config(tmp_path, MINING_CONFIG, stop_time="3000s", seed=3, bootstrap=5)
    run_dir = tmp_path / "run"
    proc = start_run(config, run_dir, "--speed", "150")
    wait_for(
        lambda: sum(not b["bootstrap"] for b in records(run_dir, BLOCKS_FILE)) >= 3,
        240, "three blocks after the bootstrap",
    )  # fmt: skip
    os.kill(pid_of(run_dir, "miner-01"), signal.SIGKILL)
    killed_at = len(records(run_dir, BLOCKS_FILE))
    code, out = finish(proc)
    assert code == 0, out[-4000:]
    after = records(run_dir, BLOCKS_FILE)[killed_at + 1 :]
    assert len(after) >= 10, "the run went on mining"
    assert all(b["winner"] != "miner-01" for b in after)
    # miner-01 holds half the hashrate: it was picked again and the loss recorded.
    lost = [b for b in after if "miner-01" in b["reselected_from"]]
    assert lost, "no block records the reselection away from the dead miner"
    assert processes_of_run(run_dir) == []


def test_a_killed_engine_takes_its_processes_with_it(tmp_path: Path) -> None:
    """SIGKILL runs no cleanup code: the kernel's parent-death signal must do it."""
    proc, run_dir = start_mining_run(tmp_path, seed=4)
    assert len(processes_of_run(run_dir)) >= 7
    proc.kill()
    proc.wait()
    wait_for(lambda: processes_of_run(run_dir) == [], 60, "the run's processes to exit")


def test_every_winner_replays_from_the_seed(mining_run: Path) -> None:
    """Same config and seed, same choices: the recorded winners are exactly what the
    weighted strategy draws from the seeded streams, bootstrap and run alike."""
    blocks = records(mining_run, BLOCKS_FILE)
    assert not any(b["reselected_from"] for b in blocks)  # every first choice mined
    miners = list(read_registry(mining_run / "shared").miners)
    plugins = get_plugin_manager()
    ref = StrategyRef("weighted", "agents.block_controller", SourcePos("x.yaml", 1, 1))
    for bootstrap, purpose in (
        (True, RngPurpose.BOOTSTRAP_SELECTION),
        (False, RngPurpose.MINER_SELECTION),
    ):
        selector = plugins.miner_selector(
            ref, rng_for(7, "block-controller", purpose), StrategyContext()
        )
        recorded = [b["winner"] for b in blocks if b["bootstrap"] is bootstrap]
        assert [selector.select(miners).agent_id for _ in recorded] == recorded
