"""The records a run writes, one class each, shared by the writers and the report.

Journal records (one JSON line each, appended as things happen):

* :class:`BlockRecord` (``blocks.jsonl``): a block the controller had a miner produce.
* :class:`TransferRecord` (``transfers.jsonl``): one transfer attempt, sent or failed.
* :class:`ConfirmationRecord` (``confirmations.jsonl``): a sent transfer seen in a block.
* :class:`NodeStatusRecord` (``node_status.jsonl``): one monitor sample of every node.
* :class:`SyncEventRecord` (``sync_events.jsonl``): nodes started or stopped disagreeing.

Documents (replaced whole): :class:`FinalState` (``final_state.json``).

Times: ``sim_time`` is simulated seconds since the run's t=0; ``wall_time`` is Unix
time. Amounts are atomic units (1 XMR = 10**12). Heights are block heights (genesis 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

TransferOutcome = Literal["sent", "failed"]
TransferKind = Literal["distribution", "user"]
SyncChange = Literal["diverged", "agreed"]


@attrs.frozen
class BlockRecord:
    """One block mined for a winner.

    ``reselected_from`` lists the miners chosen first whose node failed. ``reward``
    is the coinbase total; None (with ``reward_error``) when no node could say.
    """

    height: int
    hash: str
    winner: str
    wallet_address: str
    sim_time: float
    wall_time: float
    bootstrap: bool
    node: str
    reward: int | None = None
    reward_error: str | None = None
    reselected_from: tuple[str, ...] = ()


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
class FinalState:
    """Every node and wallet as the run left them."""

    nodes: Mapping[str, NodeReading] = attrs.field(factory=dict, hash=False)
    wallets: Mapping[str, WalletReading] = attrs.field(factory=dict, hash=False)
