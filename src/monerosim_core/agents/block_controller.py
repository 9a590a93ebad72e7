"""The block controller: who finds the next block, and making that miner's node mine it.

For every block it asks discovery for the miners, the configured strategy for a
winner among the reachable ones, and the winner's own monerod to
``generateblocks`` on top of the chain tip it knows, paying the winner's wallet.
Mining is serialised and always names ``prev_block``, and the winner's node must
have the tip before it mines, so the network never forks.

A miner whose node fails is logged, left out for a few blocks, and the block goes
to a reselection among the others (recorded in ``reselected_from``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import attrs

from monerosim_core.agents.block_records import BlockRecorder
from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.agents.transfers import balance_reader
from monerosim_core.config.model import BlockControllerSpec, BlockTimes
from monerosim_core.planning.seeding import RngPurpose
from monerosim_core.planning.strategies import controller_strategy
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.plugins.selection import Selector, StrategyContext
from monerosim_core.records.registry import Miner
from monerosim_core.records.schema import BlockRecord
from monerosim_core.rpc import (
    ChainTip,
    DaemonClient,
    GeneratedBlocks,
    RpcError,
    RpcStatusError,
    RpcTimeout,
)
from monerosim_core.timeouts import timeouts

# A failed miner sits out this many blocks before it is tried again.
SIT_OUT_BLOCKS = 5
TIP_POLL = 0.005
# A node answers BUSY while it syncs; it is asked again this often before it counts as failed.
BUSY_RETRIES = 20
BUSY_PAUSE = 0.05


class ControllerError(Exception):
    """The controller cannot go on: no miner answers, or the bootstrap cannot be mined."""


class NodeBehind(Exception):
    """The winner's node did not receive the chain tip in time."""


def block_schedule(spec: BlockControllerSpec, rng: random.Random) -> Iterator[float]:
    """Simulated times of the blocks after the bootstrap, endless and increasing.

    ``fixed``: every ``interval``. ``exponential``: gaps drawn with mean ``interval``,
    as proof-of-work's memoryless search gives. Times count from t=0 of the run's
    clock, not from this process's start, so the block count does not depend on
    how fast processes start.
    """
    block_time = 0.0
    while True:
        if spec.block_times is BlockTimes.EXPONENTIAL:
            block_time += rng.expovariate(1.0 / spec.interval)
        else:
            block_time += spec.interval
        yield block_time


@attrs.define
class BlockController:
    rt: AgentRuntime
    spec: BlockControllerSpec
    # Bootstrap blocks draw from their own seeded stream: the engine mines them in
    # its process and the controller process starts afresh, so sharing one stream
    # would replay the bootstrap's winners as the first winners of the run.
    selectors: dict[bool, Selector[Miner]]  # keyed by "is a bootstrap block"
    tip: ChainTip | None = None
    tip_holder: str | None = None  # the agent whose node mined the tip, which surely holds it
    sit_out: dict[str, int] = attrs.field(factory=dict)  # agent id -> blocks left
    wallet_addresses: dict[str, str] = attrs.field(factory=dict)
    recorder: BlockRecorder = attrs.field(init=False)
    # Wall seconds spent waiting for a winner's node to receive the tip: the price
    # of mining on the winner's own node without forking (benchmarks report it).
    propagation_wait: float = 0.0

    def __attrs_post_init__(self) -> None:
        self.recorder = BlockRecorder(self.rt.run.blocks)

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
        return cls(rt, spec, selectors)

    def run(self) -> None:
        """Bootstrap if needed, then one block per interval until stop_time."""
        try:
            self._run()
        finally:
            self.close()

    def close(self) -> None:
        """Wait until every mined block is recorded."""
        self.recorder.close()

    def _run(self) -> None:
        self.bootstrap()
        for block_time in block_schedule(self.spec, self.rt.rng(RngPurpose.BLOCK_TIMES)):
            if block_time >= self.rt.stop_time or not self.rt.sleep_until(block_time):
                return
            self.mine_block(bootstrap=False)

    def bootstrap(self) -> None:
        """Mine ``general.bootstrap_blocks`` blocks back to back, weighted like the rest.

        Coinbase outputs unlock 60 blocks later and a transfer needs unlocked decoys,
        so nobody can transact before this. A chain already that long is left alone.
        """
        target = self.rt.scenario.general.bootstrap_blocks
        tip = self.current_tip()
        if tip.height >= target:
            return
        self.rt.log.info("bootstrap: mining %d blocks", target - tip.height)
        while self.current_tip().height < target and not self.rt.stop.is_set():
            if self.mine_block(bootstrap=True) is None:
                raise ControllerError("bootstrap failed: no miner could mine a block")
        self.rt.log.info("bootstrap done at height %d", self.current_tip().height)

    def current_tip(self) -> ChainTip:
        if self.tip is None:
            self.tip = self._read_tip()
        return self.tip

    def mine_block(self, *, bootstrap: bool) -> BlockRecord | None:
        """Choose a winner and have it mine one block; the record, or None if nobody could."""
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
                record = self._mine_on(winner, bootstrap=bootstrap, failed=failed)
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
                continue
            return record
        self.rt.log.error(
            "no reachable miner for this block (failed: %s)", ", ".join(failed) or "none"
        )
        self.tip, self.tip_holder = None, None  # re-read the tip from a node next time
        return None

    def _mine_on(self, winner: Miner, *, bootstrap: bool, failed: list[str]) -> BlockRecord:
        agent = self.rt.discovery.get_agent(winner.agent_id)
        node = self.rt.daemon(agent)
        tip = self.current_tip()
        if self.tip_holder != winner.agent_id:
            waited = time.monotonic()
            self._wait_for_tip(winner.agent_id, tip)
            self.propagation_wait += time.monotonic() - waited
        address = self._wallet_address(winner)
        result = self._generate(node, address, tip)
        block_hash = result.hashes[0]
        self.tip, self.tip_holder = ChainTip(result.height, block_hash), winner.agent_id
        record = BlockRecord(
            height=result.height,
            hash=block_hash,
            winner=winner.agent_id,
            wallet_address=address,
            # Bootstrap blocks come before simulated time starts.
            sim_time=0.0 if bootstrap else round(self.rt.clock.now(), 3),
            wall_time=time.time(),
            bootstrap=bootstrap,
            reselected_from=tuple(failed),
            node=f"{agent.ip_addr}:{agent.daemon_rpc_port}",
        )
        self.recorder.record(record, lambda: self._nodes_for_header(node))
        if not bootstrap:
            self.rt.log.info("block %d won by %s", result.height, winner.agent_id)
        return record

    def _nodes_for_header(self, miner_node: DaemonClient) -> list[DaemonClient]:
        others = [
            self.rt.daemon(self.rt.discovery.get_agent(m.agent_id))
            for m in self.rt.discovery.get_miner_agents()
        ]
        return [miner_node, *(n for n in others if n is not miner_node)]

    def _generate(self, node: DaemonClient, address: str, tip: ChainTip) -> GeneratedBlocks:
        """``generateblocks`` on top of ``tip``, riding out a short BUSY (node syncing).

        After a timeout the node may still have mined the block: if its top block
        now sits on ``tip``, that block is the result (recorded, not mined twice).
        """
        busy = 0
        while True:
            try:
                return node.generateblocks(
                    1, address, prev_block=tip.hash, timeout=timeouts().generate
                )
            except RpcStatusError as exc:
                busy += 1
                if exc.status != "BUSY" or busy > BUSY_RETRIES:
                    raise
                time.sleep(BUSY_PAUSE)
            except RpcTimeout:
                top = node.get_tip()
                if (
                    top.hash != tip.hash
                    and node.get_block_header_by_hash(top.hash).prev_hash == tip.hash
                ):
                    self.rt.log.warning("generateblocks timed out but the block was mined")
                    return GeneratedBlocks((top.hash,), top.height)
                raise

    def _wait_for_tip(self, agent_id: str, tip: ChainTip) -> None:
        node = self.rt.daemon(self.rt.discovery.get_agent(agent_id))
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
