"""The records a run writes, one class each, shared by the writers and the report.

Journal records (one JSON line each, appended as things happen):

* :class:`BlockRecord` (``blocks.jsonl``): a block the controller had a miner produce.
* :class:`TransferRecord` (``transfers.jsonl``): one transfer attempt, sent or failed.
* :class:`ConfirmationRecord` (``confirmations.jsonl``): a sent transfer seen in a block.
* :class:`NodeStatusRecord` (``node_status.jsonl``): one monitor sample of every node.
* :class:`SyncEventRecord` (``sync_events.jsonl``): nodes started or stopped disagreeing.
* :class:`RpcCallsRecord` (``rpc_calls.jsonl``): one process's RPC calls of one method.
* :class:`FaultRecord` (``faults.jsonl``): something that went wrong and what it cost.
* :class:`PublicationRecord` (``publications.jsonl``): withheld blocks made public.
* :class:`PropagationRecord` (``propagation.jsonl``): how one block reached the nodes
  (Shadow engine, from the nodes' logs after the simulation).

Documents (replaced whole): :class:`FinalState` (``final_state.json``) and
:class:`Timing` (``timing.json``).

Times: ``sim_time`` is simulated seconds since the run's t=0; ``wall_time`` is Unix
time. Amounts are atomic units (1 XMR = 10**12). Heights are block heights (genesis 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

TransferOutcome = Literal["sent", "failed"]
FaultKind = Literal[
    "miner_failed",  # the chosen miner's node failed: the block went to another
    "miner_sat_out",  # a miner that failed earlier was left out of this block
    "wallet_unreadable",  # an agent could not read a wallet's balance
    "turn_skipped",  # an agent skipped its action (its wallet unusable, nobody to pay)
    "block_reconciled",  # a block on the chain had no record: rebuilt from its intent
    "agent_lost",  # an agent process died mid-run
    "agent_hung",  # an agent took longer than the limit for one action
    "agent_restarted",  # the engine started a lost agent again
    "race_reset",  # a restarted controller gave up the withheld blocks it no longer knew
    "publish_failed",  # a node refused a block being published to it
]
TransferKind = Literal["distribution", "user"]
SyncChange = Literal["diverged", "agreed"]


@attrs.frozen
class BlockRecord:
    """One block mined for a winner.

    ``timestamp`` is the block's on-chain timestamp (the run's chain epoch plus
    ``sim_time``). ``reward`` is the coinbase total; None (with ``reward_error``)
    when no node could say. ``reselected_from`` lists the miners chosen first whose
    node failed. The ``wall_*`` fields are the wall seconds the block's action spent
    waiting for the winner's node to hold the tip, for the transfers due in it to
    reach the winner's pool (``settle_pushed`` of them handed over by the
    controller, ``settle_missing`` still missing when that wait hit its bound), and
    mining it.

    ``parent_hash`` is the block it was built on and ``tx_hashes`` the transactions
    it holds. A ``private`` block was mined withheld, on the private node of a miner
    that may withhold blocks (``node`` is that node); when it became public, if ever,
    is in ``publications.jsonl``. Whether a block ended on the main chain is for the
    final state to say: the record is what was mined.
    """

    height: int
    hash: str
    winner: str
    wallet_address: str
    sim_time: float
    wall_time: float
    bootstrap: bool
    node: str
    timestamp: int | None = None
    reward: int | None = None
    reward_error: str | None = None
    reselected_from: tuple[str, ...] = ()
    wall_tip_wait: float = 0.0
    wall_settle: float = 0.0
    settle_pushed: int = 0
    settle_missing: int = 0
    wall_mine: float = 0.0
    # Miners that could not win this block (sitting out after a failure, or failed
    # while it was being mined): the share test leaves such blocks out.
    excluded: tuple[str, ...] = ()
    reconciled: bool = False  # rebuilt from its intent and the chain (the record was lost)
    parent_hash: str | None = None
    private: bool = False
    tx_hashes: tuple[str, ...] = ()


@attrs.frozen
class PublicationRecord:
    """Withheld blocks of ``miner`` made public at ``sim_time``, oldest first, handed
    to every node of the network (``refused``: the nodes that would not take one)."""

    sim_time: float
    miner: str
    hashes: tuple[str, ...]
    wall_time: float
    refused: tuple[str, ...] = ()


@attrs.frozen
class BlockIntent:
    """Written just before a block is submitted, so that a block whose record is lost
    (the controller killed between the two) can be recognised on the chain."""

    height: int
    prev_hash: str
    winner: str
    wallet_address: str
    sim_time: float
    timestamp: int
    bootstrap: bool
    node: str
    wall_time: float
    reselected_from: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()


@attrs.frozen
class TransferRecord:
    """One transfer attempt by ``agent`` from ``sender``'s wallet to ``recipient``'s.

    A sent transfer has ``tx_hash`` and ``fee``; a failed one ``cause`` (a short
    label: connection, timeout, not_enough_money...) and ``error`` (the message).
    ``sent_height`` is the sender node's top height when the transfer was built.
    """

    agent: str
    kind: TransferKind
    sender: str
    recipient: str
    amount: int
    priority: int
    attempts: int
    outcome: TransferOutcome
    sim_time: float
    wall_time: float
    tx_hash: str | None = None
    fee: int | None = None
    cause: str | None = None
    error: str | None = None
    sent_height: int | None = None

    @property
    def sent(self) -> bool:
        return self.outcome == "sent"


@attrs.frozen
class ConfirmationRecord:
    """A sent transfer found in the block at ``height`` (by the agent that sent it,
    or by the engine's last pass at the end of the run)."""

    tx_hash: str
    height: int
    wall_time: float


@attrs.frozen
class NodeReading:
    """One node as a sample saw it; ``error`` when it did not answer."""

    height: int | None = None
    top_hash: str | None = None
    mempool: int | None = None
    peers: int | None = None
    error: str | None = None


@attrs.frozen
class WalletReading:
    """One wallet's balances (``balance`` includes locked outputs); ``error`` when unreadable."""

    balance: int | None = None
    unlocked: int | None = None
    error: str | None = None


@attrs.frozen
class NodeStatusRecord:
    sim_time: float
    wall_time: float
    nodes: Mapping[str, NodeReading] = attrs.field(factory=dict, hash=False)
    wallets: Mapping[str, WalletReading] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class SyncEventRecord:
    """The nodes started (``diverged``) or stopped (``agreed``) disagreeing.

    ``heights`` are the nodes' heights when it was seen; ``detail`` says what differs.
    """

    agent: str
    change: SyncChange
    sim_time: float
    heights: Mapping[str, int] = attrs.field(factory=dict, hash=False)
    detail: str = ""


@attrs.frozen
class FaultRecord:
    """Something that went wrong at ``sim_time``: noticed by ``agent`` (or the
    engine), about ``subject`` (a node, a wallet or an agent)."""

    sim_time: float
    kind: FaultKind
    agent: str
    subject: str
    detail: str
    wall_time: float


@attrs.frozen
class RpcCallsRecord:
    """The RPC calls of one method a process made, and the wall time they took."""

    process: str
    method: str
    calls: int
    errors: int
    wall: float


@attrs.frozen
class PropagationRecord:
    """How one mined block reached the other nodes, in simulated seconds.

    ``added`` is the simulated time the winner's node added the block; ``delays``
    how long after that each other node added it; ``missing`` the nodes that never
    did (a fork, or a node that was down).
    """

    height: int
    hash: str
    winner: str
    added: float
    delays: Mapping[str, float] = attrs.field(factory=dict, hash=False)
    missing: tuple[str, ...] = ()


@attrs.frozen
class ChainBlock:
    """A main-chain block as a node reported it at the end."""

    hash: str
    timestamp: int


@attrs.frozen
class SideChain:
    """A chain a node keeps beside its main chain: blocks that lost (orphans)."""

    tip_hash: str
    height: int  # the side chain's top block
    length: int  # its blocks, ending at ``height``


@attrs.frozen
class Reorg:
    """A node switching to a longer branch: the main-chain blocks from ``height`` up
    were replaced (``depth`` of them: the old tip's height - ``height`` + 1)."""

    height: int
    depth: int


@attrs.frozen
class FinalState:
    """Every node and wallet as the run left them; the main chain (by height, as one
    node reported it) from the first block to the tip; every node's side chains; and
    the reorganisations each node logged."""

    nodes: Mapping[str, NodeReading] = attrs.field(factory=dict, hash=False)
    wallets: Mapping[str, WalletReading] = attrs.field(factory=dict, hash=False)
    chain: Mapping[str, ChainBlock] = attrs.field(factory=dict, hash=False)
    chain_source: str | None = None
    side_chains: Mapping[str, tuple[SideChain, ...]] = attrs.field(factory=dict, hash=False)
    reorgs: Mapping[str, tuple[Reorg, ...]] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class AgentTimingRecord:
    """Wall time one agent spent in its actions (simulated time stood still)."""

    actions: int
    busy_wall: float
    longest_action: float


@attrs.frozen
class Timing:
    """Where a run's wall time went, written by the engine at the end.

    Phases, in order: ``processes`` (daemons and wallets started until all answer
    RPC), ``peering`` (the mesh connected), ``bootstrap`` (mined, or checked from the
    cache, and stored), ``wallets`` (what restoring the wallets added after the
    bootstrap: they restore in the background from ``processes`` on), ``agents``
    (agent processes started until every one joined simulated time), ``simulation``
    (t=0 to stop_time), ``shutdown`` (final state, stopping processes). ``pace``
    is simulated seconds per wall second of the simulation phase; ``advances`` how
    many times the conductor moved time.
    """

    phases: Mapping[str, float] = attrs.field(factory=dict, hash=False)
    pace: float | None = None
    speed_cap: float | None = None
    advances: int = 0
    agents: Mapping[str, AgentTimingRecord] = attrs.field(factory=dict, hash=False)
