"""The block controller: who finds the next block, and making that miner's node mine it.

Blocks come at the scheduled simulated times (:mod:`monerosim_core.planning.schedule`),
exactly: the controller sleeps until each one, and mining it is one action, which
takes no simulated time. For every block it asks discovery for the miners, the
configured strategy for a winner among the reachable ones, and then the winner's
own monerod:

1. waits (bounded) until that node holds the chain tip, so the chain never forks;
2. waits (bounded) until it holds the transfers due in the block
   (:mod:`monerosim_core.agents.settling`);
3. takes a block template on the tip paying the winner's wallet (checking that it
   builds on the tip), gives it the block's on-chain timestamp (chain epoch +
   simulated time) and submits it.

The record is written before the next block is started. A miner whose node fails
is logged, left out for a few blocks, and the block goes to a reselection among
the others (recorded in ``reselected_from``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.agents.settling import PendingTransfers, Settled
from monerosim_core.agents.transfers import balance_reader
from monerosim_core.config.model import BlockControllerSpec
from monerosim_core.planning.schedule import (
    block_schedule,
    bootstrap_times,
    chain_timestamp,
    schedule_rng,
)
from monerosim_core.planning.seeding import RngPurpose
from monerosim_core.planning.strategies import controller_strategy
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.plugins.selection import Selector, StrategyContext
from monerosim_core.records.registry import Miner
from monerosim_core.records.schema import BlockRecord
from monerosim_core.rpc import ChainTip, DaemonClient, RpcError, RpcStatusError
from monerosim_core.rpc.block_blob import with_timestamp
from monerosim_core.timeouts import timeouts

# A failed miner sits out this many blocks before it is tried again.
SIT_OUT_BLOCKS = 5
TIP_POLL = 0.005
# A node answers BUSY while it syncs; it is asked again this often before it counts as failed.
BUSY_RETRIES = 20
BUSY_PAUSE = 0.05

T = TypeVar("T")


class ControllerError(Exception):
    """The controller cannot go on: no miner answers, or the bootstrap cannot be mined."""


class NodeBehind(Exception):
    """The winner's node did not receive the chain tip in time."""


@attrs.define
class BlockController:
    rt: AgentRuntime
    spec: BlockControllerSpec
    # Bootstrap blocks draw from their own seeded stream: the engine mines them in
    # its process and the controller process starts afresh, so sharing one stream
    # would replay the bootstrap's winners as the first winners of the run.
    selectors: dict[bool, Selector[Miner]]  # keyed by "is a bootstrap block"
    pending: PendingTransfers
    tip: ChainTip | None = None
    tip_holder: str | None = None  # the agent whose node mined the tip, which surely holds it
    sit_out: dict[str, int] = attrs.field(factory=dict)  # agent id -> blocks left
    wallet_addresses: dict[str, str] = attrs.field(factory=dict)
    templates: int = 0  # templates asked for: each gets its own extra nonce

    @classmethod
    def create(cls, rt: AgentRuntime, spec: BlockControllerSpec) -> BlockController:
        ref = controller_strategy(spec)
        selectors = {
            bootstrap: rt.plugins.miner_selector(
                ref, rt.rng(purpose), StrategyContext(balance_reader(rt))
            )
            for bootstrap, purpose in (
                (True, RngPurpose.BOOTSTRAP_SELECTION),
                (False, RngPurpose.MINER_SELECTION),
            )
        }
        pending = PendingTransfers(
            rt.run.transfers.follow(),
            lambda agent_id: rt.daemon(rt.discovery.get_agent(agent_id)),
            rt.info.tx_propagation,
            timeouts().settle,
            hand_over=rt.info.hand_over_transfers,
        )
        return cls(rt, spec, selectors, pending)

    def run(self) -> None:
        """Bootstrap if needed, then every scheduled block until stop_time."""
        self.bootstrap()
        schedule = block_schedule(
            self.spec.interval, self.spec.block_times, schedule_rng(self.rt.info.seed)
        )
        for block_time in schedule:
            if not self.rt.sleep_until(block_time):
                return
            self.mine_block(block_time, bootstrap=False)

    def bootstrap(self) -> None:
        """Mine ``general.bootstrap_blocks`` blocks, weighted like the rest, timestamped
        one interval apart before t=0 (the last at t=0).

        Coinbase outputs unlock 60 blocks later and a transfer needs unlocked decoys,
        so nobody can transact before this. A chain already that long is left alone.
        """
        target = self.rt.scenario.general.bootstrap_blocks
        times = bootstrap_times(target, self.spec.interval)
        if self.current_tip().height >= target:
            return
        self.rt.log.info("bootstrap: mining %d blocks", target - self.current_tip().height)
        while self.current_tip().height < target and not self.rt.stop.is_set():
            if self.mine_block(times[self.current_tip().height], bootstrap=True) is None:
                raise ControllerError("bootstrap failed: no miner could mine a block")
        self.rt.log.info("bootstrap done at height %d", self.current_tip().height)

    def current_tip(self) -> ChainTip:
        if self.tip is None:
            self.tip = self._read_tip()
        return self.tip

    def mine_block(self, sim_time: float, *, bootstrap: bool) -> BlockRecord | None:
        """Choose a winner and have it mine the block due at ``sim_time``; the
        record, or None if nobody could."""
        self._age_sit_outs()
        miners = self.rt.discovery.get_miner_agents()
        available = [m for m in miners if m.agent_id not in self.sit_out]
        failed: list[str] = []
        while available:
            try:
                winner = self.selectors[bootstrap].select(available)
            except SelectionError as exc:
                self.rt.log.error("no winner: %s", exc)
                return None
            try:
                return self._mine_on(winner, sim_time, bootstrap=bootstrap, failed=failed)
            except (RpcError, NodeBehind) as exc:
                self.rt.log.warning(
                    "miner %s could not mine (%s); reselecting among the others; "
                    "it sits out %d blocks",
                    winner.agent_id,
                    exc,
                    SIT_OUT_BLOCKS,
                )
                failed.append(winner.agent_id)
                self.sit_out[winner.agent_id] = SIT_OUT_BLOCKS
                available.remove(winner)
        self.rt.log.error(
            "no reachable miner for this block (failed: %s)", ", ".join(failed) or "none"
        )
        self.tip, self.tip_holder = None, None  # re-read the tip from a node next time
        return None

    def _mine_on(
        self, winner: Miner, sim_time: float, *, bootstrap: bool, failed: list[str]
    ) -> BlockRecord:
        agent = self.rt.discovery.get_agent(winner.agent_id)
        node = self.rt.daemon(agent)
        tip = self.current_tip()
        started = time.monotonic()
        if self.tip_holder != winner.agent_id:
            self._wait_for_tip(winner.agent_id, node, tip)
        tip_waited = time.monotonic() - started
        settled = Settled(0.0, 0, 0) if bootstrap else self.pending.settle(node, sim_time)
        if settled.missing:
            self.rt.log.warning(
                "%d transfer(s) due in block %d not in %s's pool after %.1f s",
                settled.missing, tip.height + 1, winner.agent_id, settled.wall,
            )  # fmt: skip
        address = self._wallet_address(winner)
        assert self.rt.info.chain_epoch is not None, "prepare_run sets the chain epoch"
        timestamp = chain_timestamp(self.rt.info.chain_epoch, sim_time)
        started = time.monotonic()
        self.templates += 1
        extra_nonce = f"monerosim {self.templates}".encode()
        template = _ride_out_busy(lambda: node.get_block_template(address, extra_nonce))
        if template.prev_hash != tip.hash:
            raise NodeBehind(
                f"node of {winner.agent_id} builds on {template.prev_hash[:12]}, "
                f"not on the tip {tip.height} ({tip.hash[:12]})"
            )
        _ride_out_busy(lambda: node.submit_block(with_timestamp(template.blob, timestamp)))
        header = node.get_block_header_by_height(template.height)
        mined = time.monotonic() - started
        if header.prev_hash != tip.hash or header.timestamp != timestamp:
            raise ControllerError(
                f"node of {winner.agent_id} holds another block at height {template.height} "
                f"({header.hash[:12]}) than the one submitted on {tip.hash[:12]}"
            )
        record = BlockRecord(
            height=header.height,
            hash=header.hash,
            winner=winner.agent_id,
            wallet_address=address,
            sim_time=sim_time,
            wall_time=time.time(),
            bootstrap=bootstrap,
            node=f"{agent.ip_addr}:{agent.daemon_rpc_port}",
            timestamp=timestamp,
            reward=header.reward,
            reselected_from=tuple(failed),
            wall_tip_wait=round(tip_waited, 6),
            wall_settle=round(settled.wall, 6),
            settle_pushed=settled.pushed,
            settle_missing=settled.missing,
            wall_mine=round(mined, 6),
        )
        self.rt.run.blocks.append(record)
        self.tip, self.tip_holder = ChainTip(header.height, header.hash), winner.agent_id
        if not bootstrap:
            self.rt.log.info("block %d won by %s", header.height, winner.agent_id)
        return record

    def _wait_for_tip(self, agent_id: str, node: DaemonClient, tip: ChainTip) -> None:
        deadline = time.monotonic() + timeouts().tip_wait
        while True:
            top = node.get_tip()
            if top.hash == tip.hash:
                return
            if time.monotonic() > deadline:
                raise NodeBehind(
                    f"node of {agent_id} is at height {top.height} "
                    f"({top.hash[:12]}), not at the tip {tip.height} ({tip.hash[:12]})"
                )
            time.sleep(TIP_POLL)

    def _wallet_address(self, miner: Miner) -> str:
        if miner.wallet_address:
            return miner.wallet_address
        address = self.wallet_addresses.get(miner.agent_id)
        if address is None:
            agent = self.rt.discovery.get_agent(miner.agent_id)
            address = self.rt.wallet(agent).get_address()
            self.wallet_addresses[miner.agent_id] = address
        return address

    def _read_tip(self) -> ChainTip:
        """The highest tip any miner's node holds (a lagging node must not set it back)."""
        tops, errors = [], []
        for miner in self.rt.discovery.get_miner_agents():
            agent = self.rt.discovery.get_agent(miner.agent_id)
            try:
                tops.append(self.rt.daemon(agent).get_tip())
            except RpcError as exc:
                errors.append(str(exc))
        if not tops:
            raise ControllerError("no miner node answers: " + "; ".join(errors))
        return max(tops, key=lambda t: t.height)

    def _age_sit_outs(self) -> None:
        for agent_id in list(self.sit_out):
            self.sit_out[agent_id] -= 1
            if self.sit_out[agent_id] <= 0:
                del self.sit_out[agent_id]


def _ride_out_busy(call: Callable[[], T]) -> T:
    """``call()``, asked again while the node answers BUSY (it is syncing), a while."""
    for _ in range(BUSY_RETRIES):
        try:
            return call()
        except RpcStatusError as exc:
            if exc.status != "BUSY":
                raise
            time.sleep(BUSY_PAUSE)
    return call()
