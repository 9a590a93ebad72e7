"""The distributor, users and solo miners on real wallets.

One network for the module, brought up by the engine's own code: three miners
(one a solo miner), a regular user and a miner distributor, each with a real
monerod and wallet-rpc, and 80 bootstrap blocks so transfers can be made.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator

import attrs
import pytest

from monerosim_core.agents.block_controller import BlockController
from monerosim_core.agents.distributor import MinerDistributor
from monerosim_core.agents.launch import behaviour_for
from monerosim_core.agents.regular_user import RegularUser
from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.agents.transfers import BACKOFF_BASE, TransferSender, to_atomic
from monerosim_core.engine.network import Network, start_network
from monerosim_core.planning.plan import BLOCK_CONTROLLER_ID
from monerosim_core.planning.prepare import prepare_run
from monerosim_core.processes.supervisor import ProcessSupervisor
from monerosim_core.records.layout import RunDir
from monerosim_core.simtime.clocks import FixedClock

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

CONFIG = """\
general: {stop_time: "10h", seed: 11, bootstrap_blocks: 120}
agents:
  user_agents:
    - {daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {hashrate: "60"}}
    - {daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {hashrate: "35"}}
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes: {hashrate: "5", min_transaction_amount: "0.5", max_transaction_amount: "1"}
    - daemon: monerod
      wallet: monero-wallet-rpc
      user_script: agents.regular_user
      attributes: {min_transaction_amount: "0.1", max_transaction_amount: "0.2"}
    - daemon: monerod
      wallet: monero-wallet-rpc
      user_script: agents.miner_distributor
      attributes:
        min_transaction_amount: "1"
        max_transaction_amount: "2"
        miner_selection_strategy: balance
        recipient_selection: round_robin
        max_retries: "2"
  block_controller:
    script: agents.block_controller
    arguments: ["--solo-miner-threshold 10"]
"""


@attrs.define
class Net:
    run: RunDir
    network: Network
    supervisor: ProcessSupervisor
    controller: BlockController
    time: float = 0.0  # simulated time of the last block: agents act at it

    def runtime(self, agent_id: str) -> AgentRuntime:
        return AgentRuntime.open(agent_id, self.run.root, clock=FixedClock(self.time))

    def mine(self, blocks: int) -> None:
        for _ in range(blocks):
            self.time += 120.0
            assert self.controller.mine_block(self.time, bootstrap=False) is not None

    def unlocked(self, agent_id: str) -> int:
        with self.supervisor.processes[f"{agent_id}-wallet"].wallet_client() as wallet:
            return wallet.get_balance(refresh=True).unlocked_balance

    def balance(self, agent_id: str) -> int:
        with self.supervisor.processes[f"{agent_id}-wallet"].wallet_client() as wallet:
            return wallet.get_balance(refresh=True).balance


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    base = tmp_path_factory.mktemp("transfers")
    config = base / "scenario.yaml"
    config.write_text(CONFIG)
    plan, run = prepare_run(config, base / "run")
    scenario = plan.scenario
    with ProcessSupervisor(run.root) as supervisor:
        network = start_network(plan, run, supervisor)
        network.wait_for_wallets()
        rt = AgentRuntime.open(BLOCK_CONTROLLER_ID, run.root, clock=FixedClock())
        assert scenario.block_controller is not None
        controller = BlockController.create(rt, scenario.block_controller)
        controller.bootstrap()
        try:
            yield Net(run, network, supervisor, controller)
        finally:
            rt.close()
            network.close_clients()


def test_balance_strategy_picks_the_wallet_that_really_holds_the_most(net: Net) -> None:
    rt = net.runtime("distributor-01")
    distributor = MinerDistributor.create(rt, rt.spec)  # type: ignore[arg-type]
    miners = rt.discovery.get_miner_agents()
    chosen = distributor.miners.select(miners)
    unlocked = {m.agent_id: net.unlocked(m.agent_id) for m in miners}
    assert unlocked[chosen.agent_id] == max(unlocked.values())
    assert len(set(unlocked.values())) > 1, "the bootstrap should leave unequal balances"
    rt.close()


def test_distributor_pays_round_robin_never_itself_and_confirms(net: Net) -> None:
    rt = net.runtime("distributor-01")
    distributor = MinerDistributor.create(rt, rt.spec)  # type: ignore[arg-type]
    before = {a.id: net.balance(a.id) for a in rt.discovery.get_wallet_agents()}
    sent = []
    for _ in range(6):
        record = distributor.distribute(to_atomic(1.5))
        assert record is not None and record.sent, record
        sent.append(record)
        net.mine(1)  # a new block each time: change unlocks, transfers confirm
    everyone = sorted(a.id for a in rt.discovery.get_wallet_agents())
    for previous, record in itertools.pairwise(sent):
        assert record.sender != record.recipient
        # round_robin: the next id after the previous recipient, skipping the sender
        order = everyone[everyone.index(previous.recipient) + 1 :] + everyone
        expected = next(a for a in order if a != record.sender)
        assert record.recipient == expected
    net.mine(3)
    distributor.sender.confirm(rt.discovery.get_agent("distributor-01"))
    assert distributor.sender.unconfirmed == set()
    records = [r for r in rt.run.transfers if r.kind == "distribution"]
    confirmed = {c.tx_hash: c.height for c in rt.run.confirmations}
    assert records == sent
    assert all(r.tx_hash in confirmed for r in records)
    # Recipients that are not miners got exactly what was sent to them.
    for agent_id in ("user-01", "distributor-01"):
        received = sum(r.amount for r in records if r.recipient == agent_id)
        paid = sum(r.amount + (r.fee or 0) for r in records if r.sender == agent_id)
        assert net.balance(agent_id) - before[agent_id] == received - paid, agent_id
    rt.close()


def test_a_solo_miner_transacts_like_a_user(net: Net) -> None:
    # The distributor's round-robin has paid miner-03; ten blocks unlock that change.
    net.mine(10)
    rt = net.runtime("miner-03")
    behaviour = behaviour_for(rt)
    assert isinstance(behaviour, RegularUser)
    record = behaviour.take_turn(rt.discovery.get_agent("miner-03"), to_atomic(0.5))
    assert record is not None, "the solo miner skipped its turn"
    assert record.sent and record.sender == "miner-03"
    assert record.recipient != "miner-03"
    rt.close()


def test_a_failing_wallet_is_retried_with_backoff_and_recorded(net: Net) -> None:
    rt = net.runtime("user-01")
    sender = rt.discovery.get_agent("miner-02")
    recipient = rt.discovery.get_agent("user-01")
    wallet = net.supervisor.processes["miner-02-wallet"]
    os.kill(wallet.pid, signal.SIGKILL)  # ours: the supervisor started it
    wallet.popen.wait()
    transfers = TransferSender(rt, "user", priority=1, max_retries=2)
    started = time.monotonic()
    record = transfers.send(sender, recipient, to_atomic(0.3))
    elapsed = time.monotonic() - started
    assert record.outcome == "failed"
    assert record.cause == "connection"
    assert record.attempts == 3  # the first try and two retries
    assert record.error is not None
    assert "127.0.0.1" in record.error and "transfer" in record.error
    assert elapsed >= BACKOFF_BASE * (1 + 2)  # waited 0.5 s, then 1 s
    stored = rt.run.transfers.read().records[-1]
    assert stored == record
    rt.close()


def test_an_unaffordable_amount_is_not_retried(net: Net) -> None:
    rt = net.runtime("user-01")
    me = rt.discovery.get_agent("user-01")
    other = rt.discovery.get_agent("miner-01")
    record = TransferSender(rt, "user", priority=1, max_retries=3).send(me, other, to_atomic(10**6))
    assert record.outcome == "failed"
    assert record.attempts == 1
    assert record.cause in ("not_enough_money", "not_enough_unlocked")
    rt.close()
