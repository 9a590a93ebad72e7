"""The block controller: who finds the next block, and making that miner's node mine it.

Blocks come at the scheduled simulated times (:mod:`monerosim_core.planning.schedule`),
exactly: the controller sleeps until each one, and mining it is one action, which
takes no simulated time. For every block it asks discovery for the miners, the
configured strategy for a winner among the reachable ones, the winner's mining
behaviour which block to build on (:mod:`.race`), and then the winner's node:

1. makes sure that node holds the parent block, handing it the blocks it lacks from
   the node that mined them (peers usually deliver first; a loaded machine must not
   change who wins, so the controller does not wait on the relay);
2. waits (bounded) until it holds the transfers due in the block
   (:mod:`monerosim_core.agents.settling`);
3. takes a block template on the parent paying the winner's wallet (checking that it
   builds on the parent), gives it the block's on-chain timestamp (chain epoch +
   simulated time) and submits it.

The record is written before the next block is started. A miner whose node fails
is logged, left out for a few blocks, and the block goes to a reselection among
the others (recorded in ``reselected_from``).

Withholding (a miner whose ``mining_behaviour`` is not honest, at most one): its
blocks are mined on its private node, peered with nobody. After each block its
behaviour says what to publish; published blocks are read from the private node
and submitted to every node of the network (monerod does not relay a block that
only ties, so handing it to one node would leave the others unaware of the tie).
The private node receives the public blocks it lacks when the miner builds on
the public chain (handed over the same way). Which chain wins is then up to the
nodes' own fork choice; the final state records what it was.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import attrs

from monerosim_core import fault_injection
from monerosim_core.agents.race import BlockRef, Race, Referee
from monerosim_core.agents.reconcile import reconcile_blocks
from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.agents.settling import PendingTransfers, Settled
from monerosim_core.agents.transfers import balance_reader
from monerosim_core.config.model import BlockControllerSpec
from monerosim_core.planning.plan import withholding_agent_id
from monerosim_core.planning.schedule import (
    block_schedule,
    bootstrap_times,
    chain_timestamp,
    schedule_rng,
)
from monerosim_core.planning.seeding import RngPurpose
from monerosim_core.planning.strategies import controller_strategy
from monerosim_core.plugins.behaviour import MiningBehaviour
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.plugins.selection import Selector, StrategyContext
from monerosim_core.records.registry import Miner
from monerosim_core.records.schema import BlockIntent, BlockRecord, PublicationRecord
from monerosim_core.rpc import (
    Block,
    ChainTip,
    DaemonClient,
    RpcError,
    RpcMethodError,
    RpcStatusError,
)
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
    """The winner's node did not receive the chain tip in time (or built elsewhere)."""


class NodeUncertain(RpcError):
    """Submitting the block failed and the node could not say whether it took it."""

    def __init__(self, message: str) -> None:
        super().__init__("submit_block", "the winner's node", message)


@attrs.define
class BlockController:
    rt: AgentRuntime
    spec: BlockControllerSpec
    # Bootstrap blocks draw from their own seeded stream: the engine mines them in
    # its process and the controller process starts afresh, so sharing one stream
    # would replay the bootstrap's winners as the first winners of the run.
    selectors: dict[bool, Selector[Miner]]  # keyed by "is a bootstrap block"
    pending: PendingTransfers
    behaviour_rng: random.Random
    withholder: str | None = None  # the miner that may withhold blocks
    behaviour: MiningBehaviour | None = None  # its behaviour
    referee: Referee | None = None  # the race, from the first block on
    tip_holder: tuple[str, str] | None = None  # (agent id, block hash) it mined: surely held
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
        withholding = rt.scenario.withholding_miner
        behaviour = None
        if withholding is not None and withholding.mining_behaviour is not None:
            behaviour = rt.plugins.mining_behaviour(withholding.mining_behaviour)
        return cls(
            rt,
            spec,
            selectors,
            pending,
            rt.rng(RngPurpose.MINING_BEHAVIOUR),
            withholding_agent_id(rt.scenario),
            behaviour,
        )

    def run(self) -> None:
        """Bootstrap if needed, then every scheduled block until stop_time.

        A controller started again after a crash continues where the records and
        the chain say the run is: it first rebuilds the record of a block it mined
        but did not record, then skips the scheduled times already mined.
        """
        self.bootstrap()
        self._reconcile()
        self._note_lost_branch()
        mined = {b.sim_time for b in self.rt.run.blocks if not b.bootstrap}
        schedule = block_schedule(
            self.spec.interval, self.spec.block_times, schedule_rng(self.rt.info.seed)
        )
        for block_time in schedule:
            if block_time in mined:
                continue
            if not self.rt.sleep_until(block_time):
                return
            self.mine_block(block_time, bootstrap=False)

    def _reconcile(self) -> None:
        """Records for the blocks on the chain that have none (see :mod:`.reconcile`)."""
        for miner in self.rt.discovery.get_miner_agents():
            try:
                rebuilt = reconcile_blocks(
                    self.rt.run, self.rt.daemon(self.rt.discovery.get_agent(miner.agent_id))
                )
            except RpcError:
                continue  # ask the next miner's node
            for record in rebuilt:
                self.rt.fault(
                    "block_reconciled",
                    record.winner,
                    f"block {record.height} was mined but not recorded; record rebuilt",
                )
            return

    def _note_lost_branch(self) -> None:
        """A restarted controller starts the race afresh from the public tip: the
        withheld blocks the lost one held are given up, and the faults say so."""
        if self.withholder is None or self.rt.incarnation == 0:
            return
        published = {h for p in self.rt.run.publications for h in p.hashes}
        withheld = [b for b in self.rt.run.blocks if b.private and b.hash not in published]
        if withheld:
            self.rt.fault(
                "race_reset",
                self.withholder,
                f"the controller was restarted; {len(withheld)} withheld block(s) it "
                "may still have held are given up",
            )

    def bootstrap(self) -> None:
        """Mine ``general.bootstrap_blocks`` blocks, weighted like the rest, timestamped
        one interval apart before t=0 (the last at t=0), every miner honest.

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
        """The public chain's tip (in a tie, the branch the network saw first)."""
        tip = self._referee().race.public_tip
        return ChainTip(tip.height, tip.hash)

    def _referee(self) -> Referee:
        if self.referee is None:
            tip = self._read_tip()
            race = Race(BlockRef(tip.hash, tip.height), gamma=self.rt.scenario.network.gamma)
            self.referee = Referee(race, self.behaviour, self.behaviour_rng)
        return self.referee

    def mine_block(self, sim_time: float, *, bootstrap: bool) -> BlockRecord | None:
        """Choose a winner and have it mine the block due at ``sim_time``; the
        record, or None if nobody could."""
        self._age_sit_outs()
        miners = self.rt.discovery.get_miner_agents()
        sitting_out = sorted(m.agent_id for m in miners if m.agent_id in self.sit_out)
        for agent_id in sitting_out:
            self.rt.fault(
                "miner_sat_out",
                agent_id,
                f"left out of the block at {sim_time:g} s (failed before)",
            )
        available = [m for m in miners if m.agent_id not in self.sit_out]
        failed: list[str] = []
        while available:
            try:
                winner = self.selectors[bootstrap].select(available)
            except SelectionError as exc:
                self.rt.log.error("no winner: %s", exc)
                return None
            try:
                record = self._mine_on(
                    winner, sim_time, bootstrap=bootstrap, failed=failed, excluded=sitting_out
                )
            except (RpcError, NodeBehind) as exc:
                self.rt.fault(
                    "miner_failed",
                    winner.agent_id,
                    f"could not mine the block at {sim_time:g} s ({exc}); the block goes to "
                    f"another miner and it sits out {SIT_OUT_BLOCKS} blocks",
                )
                failed.append(winner.agent_id)
                self.sit_out[winner.agent_id] = SIT_OUT_BLOCKS
                available.remove(winner)
                continue
            if not bootstrap:
                self._react(sim_time, withholder_won=record.private)
            return record
        self.rt.log.error(
            "no reachable miner for this block (failed: %s)", ", ".join(failed) or "none"
        )
        if self.referee is not None and not self.referee.race.own:
            self.referee, self.tip_holder = None, None  # re-read the tip from a node next time
        return None

    def _mine_on(
        self,
        winner: Miner,
        sim_time: float,
        *,
        bootstrap: bool,
        failed: list[str],
        excluded: list[str],
    ) -> BlockRecord:
        """Mine the block at ``sim_time`` on ``winner``'s node and record it.

        Until the block is submitted, a failure leaves no block behind: it is safe to
        give the block to another miner. If the submission itself fails, the node is
        asked whether it holds the block anyway (then that is the result); if it
        cannot say, the failure says that a late block may still come from it (the
        report finds any such orphan at the end).
        """
        agent = self.rt.discovery.get_agent(winner.agent_id)
        referee = self._referee()
        withholding = not bootstrap and winner.agent_id == self.withholder
        parent = referee.race.public_tip if bootstrap else referee.parent(withholding=withholding)
        if withholding:
            node, port = self.rt.private_daemon(agent), agent.private_daemon_rpc_port
        else:
            node, port = self.rt.daemon(agent), agent.daemon_rpc_port
        started = time.monotonic()
        on_tip = self._hold_parent(winner.agent_id, node, parent, private=withholding)
        tip_waited = time.monotonic() - started
        settled = Settled(0.0, 0, 0) if bootstrap else self.pending.settle(node, sim_time)
        if settled.missing:
            self.rt.log.warning(
                "%d transfer(s) due in block %d not in %s's pool after %.1f s",
                settled.missing, parent.height + 1, winner.agent_id, settled.wall,
            )  # fmt: skip
        address = self._wallet_address(winner)
        assert self.rt.info.chain_epoch is not None, "prepare_run sets the chain epoch"
        timestamp = chain_timestamp(self.rt.info.chain_epoch, sim_time)
        started = time.monotonic()
        self.templates += 1
        extra_nonce = f"monerosim {self.templates}".encode()
        prev_block = None if on_tip else parent.hash
        template = _ride_out_busy(
            lambda: node.get_block_template(address, extra_nonce, prev_block=prev_block)
        )
        if template.prev_hash != parent.hash:
            raise NodeBehind(
                f"node of {winner.agent_id} builds on {template.prev_hash[:12]}, "
                f"not on {parent.height} ({parent.hash[:12]})"
            )
        node_address = f"{agent.ip_addr}:{port}"
        self.rt.run.block_intents.append(
            BlockIntent(
                height=template.height,
                prev_hash=parent.hash,
                winner=winner.agent_id,
                wallet_address=address,
                sim_time=sim_time,
                timestamp=timestamp,
                bootstrap=bootstrap,
                node=node_address,
                wall_time=time.time(),
                reselected_from=tuple(failed),
                excluded=tuple(excluded),
            )
        )
        block = self._submit(node, template.blob, timestamp, parent, winner.agent_id)
        mined = time.monotonic() - started
        record = BlockRecord(
            height=block.header.height,
            hash=block.header.hash,
            winner=winner.agent_id,
            wallet_address=address,
            sim_time=sim_time,
            wall_time=time.time(),
            bootstrap=bootstrap,
            node=node_address,
            timestamp=timestamp,
            reward=block.header.reward,
            reselected_from=tuple(failed),
            wall_tip_wait=round(tip_waited, 6),
            wall_settle=round(settled.wall, 6),
            settle_pushed=settled.pushed,
            settle_missing=settled.missing,
            wall_mine=round(mined, 6),
            excluded=tuple(excluded) + tuple(failed),
            parent_hash=parent.hash,
            private=withholding,
            tx_hashes=block.tx_hashes,
        )
        if not bootstrap:
            fault_injection.pause("after_submit")  # tests kill the controller here
        self.rt.run.blocks.append(record)
        mined_ref = BlockRef(block.header.hash, block.header.height)
        referee.race.add_block(mined_ref, parent, withholding=withholding)
        if not withholding:
            self.tip_holder = (winner.agent_id, mined_ref.hash)
        if not bootstrap:
            kind = "withheld" if withholding else "public"
            self.rt.log.info("block %d won by %s (%s)", mined_ref.height, winner.agent_id, kind)
        return record

    def _react(self, sim_time: float, *, withholder_won: bool) -> None:
        """After a block: publish what the withholding miner reveals."""
        if self.referee is None:
            return
        reaction = self.referee.after_block(withholder_won=withholder_won)
        if reaction.abandoned:
            self.rt.log.info(
                "%s gives up its branch of %d block(s)", self.withholder, len(reaction.abandoned)
            )
        if not reaction.published:
            return
        try:
            self._publish(list(reaction.published), sim_time)
        except RpcError as exc:  # the private node cannot give its blocks
            lost = self.referee.race.abandon()
            self.rt.fault(
                "publish_failed",
                self.withholder or "",
                f"cannot read the blocks to publish from its private node ({exc}); "
                f"its branch of {len(lost)} block(s) is given up",
            )

    def _publish(self, blocks: list[BlockRef], sim_time: float) -> None:
        """Hand the withheld ``blocks`` (oldest first) to every node of the network."""
        assert self.withholder is not None
        private = self.rt.private_daemon(self.rt.discovery.get_agent(self.withholder))
        blobs = [(b, private.get_block(block_hash=b.hash).blob) for b in blocks]
        nodes = {
            agent.id: self.rt.daemon(agent)  # created here, used by the threads
            for agent in self.rt.discovery.registry().agents
            if agent.daemon_rpc_port is not None
        }

        def hand(node: DaemonClient) -> str | None:
            """Submit the blocks in order; what the node refused, if it did."""
            for block, blob in blobs:
                try:
                    node.submit_block(blob)
                except RpcError as exc:
                    # A block that only ties is kept as an alternative, which
                    # submit_block reports as "not accepted": held is what counts.
                    if not self._holds(node, block.hash):
                        return f"block {block.height} ({block.hash[:12]}): {exc}"
            return None

        # Every node verifies each block (RandomX): at once, not one after the other.
        with ThreadPoolExecutor(max_workers=min(16, len(nodes))) as pool:
            refusals = dict(zip(nodes, pool.map(hand, nodes.values()), strict=True))
        refused = [agent_id for agent_id, refusal in refusals.items() if refusal is not None]
        for agent_id in refused:
            self.rt.fault(
                "publish_failed",
                agent_id,
                f"node refused {refusals[agent_id]} of {self.withholder}",
            )
        self.rt.run.publications.append(
            PublicationRecord(
                sim_time=sim_time,
                miner=self.withholder,
                hashes=tuple(b.hash for b in blocks),
                wall_time=time.time(),
                refused=tuple(refused),
            )
        )
        self.tip_holder = None  # any node may have switched chains
        self.rt.log.info(
            "%s published %d block(s) up to height %d",
            self.withholder, len(blocks), blocks[-1].height,
        )  # fmt: skip

    def _hold_parent(
        self, agent_id: str, node: DaemonClient, parent: BlockRef, *, private: bool
    ) -> bool:
        """Make sure ``node`` holds ``parent``; True when it is the node's tip, False
        when it holds it off its main chain.

        A node that lacks it is handed the missing blocks by RPC from a node known to
        hold them (the withholding miner's public node for its private node; the node
        that mined ``parent`` for any other), as transfers are handed over: who wins
        a block must not depend on how fast this machine relays blocks. Without such
        a node, or under Shadow (where relay is simulated), it waits (bounded) for
        the peers to deliver.
        """
        if self.tip_holder == (agent_id, parent.hash):
            return True
        source = self._holder_of(parent, private=private)
        deadline = time.monotonic() + timeouts().tip_wait
        while True:
            top = node.get_tip()
            if top.hash == parent.hash:
                return True
            if self._holds(node, parent.hash):
                return False
            if source is not None:
                self._hand_blocks(node, source, parent, agent_id)
                source = None  # handed over: from now on the node must hold it
                continue
            if time.monotonic() > deadline:
                raise NodeBehind(
                    f"node of {agent_id} is at height {top.height} ({top.hash[:12]}) "
                    f"and lacks block {parent.height} ({parent.hash[:12]})"
                )
            time.sleep(TIP_POLL)

    def _holder_of(self, parent: BlockRef, *, private: bool) -> tuple[str, DaemonClient] | None:
        """A node that holds ``parent`` or soon will (agent id, client), if one is known."""
        if private:
            assert self.withholder is not None
            holder = self.withholder
        elif not self.rt.info.hand_over_transfers:
            return None  # Shadow: propagation is simulated and measured, never helped
        elif self.tip_holder is not None and self.tip_holder[1] == parent.hash:
            holder = self.tip_holder[0]
        else:
            return None
        return holder, self.rt.daemon(self.rt.discovery.get_agent(holder))

    def _hand_blocks(
        self,
        target: DaemonClient,
        source: tuple[str, DaemonClient],
        tip: BlockRef,
        agent_id: str,
    ) -> None:
        """Submit to ``target`` the blocks from the last one it holds up to ``tip``,
        read from the node ``source`` (waiting, bounded, until that node has ``tip``)."""
        holder, node = source
        deadline = time.monotonic() + timeouts().tip_wait
        while not self._holds(node, tip.hash):
            if time.monotonic() > deadline:
                raise NodeBehind(f"node of {holder} lacks block {tip.hash[:12]}")
            time.sleep(TIP_POLL)
        missing, block_hash = [], tip.hash
        while not self._holds(target, block_hash):
            missing.append(block_hash)
            block_hash = node.get_block_header_by_hash(block_hash).prev_hash
        for block_hash in reversed(missing):
            try:
                target.submit_block(node.get_block(block_hash=block_hash).blob)
            except RpcError:
                if not self._holds(target, block_hash):
                    raise
        if missing:
            self.rt.log.info(
                "node of %s handed %d block(s) from %s's", agent_id, len(missing), holder
            )

    @staticmethod
    def _holds(node: DaemonClient, block_hash: str) -> bool:
        """Whether ``node`` has the block, on its main chain or off it."""
        try:
            node.get_block_header_by_hash(block_hash)
        except RpcMethodError:
            return False
        return True

    def _submit(
        self, node: DaemonClient, blob: bytes, timestamp: int, parent: BlockRef, agent_id: str
    ) -> Block:
        """Submit the block and read it back; see :meth:`_mine_on` on failure."""
        try:
            _ride_out_busy(lambda: node.submit_block(with_timestamp(blob, timestamp)))
        except RpcError as exc:
            held = self._held_block(node, parent, timestamp)
            if held is not None:
                self.rt.log.warning("the block was mined despite: %s", exc)
                return held
            raise NodeUncertain(
                f"{exc}; if that node still accepts the block, it will be an orphan"
            ) from None
        held = self._held_block(node, parent, timestamp)
        if held is None:
            raise NodeBehind(
                f"node of {agent_id} took the block on {parent.hash[:12]} but holds "
                f"another at height {parent.height + 1}"
            )
        return held

    def _held_block(self, node: DaemonClient, parent: BlockRef, timestamp: int) -> Block | None:
        """The block the node holds on ``parent`` with ``timestamp`` (on its main
        chain, or at the tip of a side chain), if it answers."""
        try:
            candidates = [node.get_block(height=parent.height + 1)]
            if candidates[0].header.prev_hash != parent.hash:
                candidates = [
                    node.get_block(block_hash=c.block_hash)
                    for c in node.get_alternate_chains()
                    if c.height == parent.height + 1
                ]
        except RpcError:
            return None
        for block in candidates:
            if block.header.prev_hash == parent.hash and block.header.timestamp == timestamp:
                return block
        return None

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
