"""Settling before a block: the transfers due in it must be in the winner's pool.

The rule (``network.tx_propagation``, P): before the block at simulated time T,
every transfer sent before T - P must be in the winning node's pool. With the local
engine's default P = 0 that is every transfer sent before T (one sent at T comes after the
block: the conductor lets the controller act first), so what a block holds does
not depend on the machine. A positive P leaves the transfers sent in [T - P, T)
to the real relay: they may miss the block, as on a real network, but whether
they do then depends on the machine's speed (the config loader warns).

Why it needs help: transfers spread between nodes in real time (Dandelion++ keeps
a new one in its stem phase for 0.25-7 s, measured on 3 nodes), but simulated time
runs faster than real time, so a transfer sent a simulated minute before a block
may be a few real milliseconds old when the block is mined. On a real network it
would have reached every node long before. So for each transfer due in the block
that the winner's node lacks, the controller takes the transaction from the
sender's node and hands it to the winner (``send_raw_transaction``): what the
network would have done by then. Measured: the transaction is in the winner's
block template as soon as the call returns (monero lets regtest mine stem-phase
transactions). Transfers that arrived by themselves cost one pool query.

Every wait is bounded (wall seconds) and reported: the block's record keeps how
long settling took and how many due transfers were still missing at the bound.

Under Shadow (``hand_over`` off) the network's propagation is simulated, Dandelion++
delays included, so nothing is handed over and nothing waited for: the block takes
what the winner's pool holds, and the record counts the due transfers it lacked.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from monerosim_core.records.layout import JournalFollower
from monerosim_core.records.schema import TransferRecord
from monerosim_core.rpc import DaemonClient, RpcError

POLL = 0.02  # wall seconds between looks at the winner's pool


@attrs.frozen
class Settled:
    """How settling went for one block: the wall seconds it took, how many transfers
    were handed to the winner, and how many due were still missing at the bound."""

    wall: float
    pushed: int
    missing: int


@attrs.frozen
class _Sent:
    sim_time: float
    sender: str


@attrs.define
class PendingTransfers:
    """The sent transfers not yet seen in a block, from the run's transfers journal.

    ``node_of(agent_id)`` gives the daemon client of an agent's node (the sender's,
    which holds the transaction from the moment it is sent).
    """

    transfers: JournalFollower[TransferRecord]
    node_of: Callable[[str], DaemonClient]
    propagation: float  # P, simulated seconds
    bound: float  # wall seconds to wait at most
    hand_over: bool = True  # off: only count the due transfers the winner lacks
    pending: dict[str, _Sent] = attrs.field(factory=dict)  # by tx hash

    def settle(self, winner: DaemonClient, block_time: float) -> Settled:
        """Make ``winner`` hold every transfer due in the block at ``block_time``."""
        for record in self.transfers.read_new():
            if record.sent and record.tx_hash is not None:
                self.pending[record.tx_hash] = _Sent(record.sim_time, record.sender)
        due = {h for h, s in self.pending.items() if s.sim_time < block_time - self.propagation}
        started = time.monotonic()
        pushed = 0
        while due:
            statuses = winner.get_transactions(due)
            for tx_hash, status in statuses.items():
                if status is not None and status.block_height is not None:
                    del self.pending[tx_hash]  # already mined: nothing to wait for
            due = {h for h, status in statuses.items() if status is None}
            if not due:
                break
            if not self.hand_over or time.monotonic() - started > self.bound:
                # Counted against this block once; waiting for them again at every
                # later block would only repeat the bound.
                for tx_hash in due:
                    del self.pending[tx_hash]
                break
            pushed += self._hand_over(winner, due)
            time.sleep(POLL)
        return Settled(wall=time.monotonic() - started, pushed=pushed, missing=len(due))

    def _hand_over(self, winner: DaemonClient, missing: set[str]) -> int:
        """Give ``winner`` the missing transactions, from their senders' nodes."""
        by_sender: dict[str, list[str]] = {}
        for tx_hash in missing:
            by_sender.setdefault(self.pending[tx_hash].sender, []).append(tx_hash)
        handed = 0
        for sender, hashes in by_sender.items():
            try:
                for tx_hex in self.node_of(sender).get_transaction_hexes(hashes).values():
                    winner.send_raw_transaction(tx_hex)
                    handed += 1
            except RpcError:
                continue  # retried on the next pass, until the bound
        return handed
