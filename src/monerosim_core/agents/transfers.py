"""Sending XMR and recording it: shared by the miner distributor, users and solo miners.

Every attempt ends in one :class:`~monerosim_core.records.schema.TransferRecord`
in the run's transfers journal; a sent transfer later seen in a block gets a
:class:`~monerosim_core.records.schema.ConfirmationRecord`.

The sender's wallet relays a transfer through its own node, and the nodes pass it on
as a real network does (Dandelion++); the block controller makes sure that the
transfers due in a block are in the winner's pool (:mod:`.settling`). On the local
engine a transfer is also built on the chain as it is at its instant: the sender's
node is first given the time the relay needs (bounded) to hold the last block
mined, so the sender's view (``sent_height``) does not depend on the machine's
speed; under Shadow the node's view is what the simulated network delivered.
Failures are sorted by what retrying can do about them:

- transient (daemon busy or unreachable, not enough decoys yet): retried with
  exponential backoff, up to ``max_retries`` more attempts;
- a timeout: not retried. The wallet may still relay the transfer it was
  building, so a retry could pay twice; and a wallet that timed out is usually
  still busy with that call (seen: wallet-rpc stalling in decoy selection on a
  short chain), so a retry would only time out again;
- insufficient funds (``-17``/``-37``): not retried; the caller may pick
  another sender;
- permanent (bad address, amount out of range, anything unknown): not retried.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable

import attrs

from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.records.layout import JournalFollower
from monerosim_core.records.registry import Agent
from monerosim_core.records.schema import (
    BlockRecord,
    ConfirmationRecord,
    TransferKind,
    TransferRecord,
)
from monerosim_core.rpc import (
    DaemonClient,
    RpcConnectionError,
    RpcError,
    RpcMethodError,
    RpcStatusError,
    RpcTimeout,
)
from monerosim_core.timeouts import timeouts

ATOMIC_PER_XMR = 10**12
BACKOFF_BASE = 0.5  # wall seconds before the first retry; doubles each time
BACKOFF_CAP = 8.0
TIP_POLL = 0.01  # wall seconds between looks at the sender's node's tip

# wallet-rpc error codes (wallet_rpc_server_error_codes.h)
_TRANSIENT_CODES = {
    -3: "daemon_busy",
    -4: "transfer_error",  # also what a wallet whose daemon is down answers
    -19: "not_enough_outputs",  # ring members not unlocked yet, early in a chain
    -38: "no_daemon_connection",
}
_INSUFFICIENT_CODES = {-17: "not_enough_money", -37: "not_enough_unlocked"}


class Retry(enum.Enum):
    TRANSIENT = "transient"
    INSUFFICIENT = "insufficient"
    PERMANENT = "permanent"


def classify(exc: RpcError) -> tuple[Retry, str]:
    """What retrying can do about ``exc``, and a short cause label for the record."""
    if isinstance(exc, RpcConnectionError):
        return Retry.TRANSIENT, "connection"
    if isinstance(exc, RpcTimeout):
        return Retry.PERMANENT, "timeout"
    if isinstance(exc, RpcStatusError):
        return Retry.TRANSIENT, f"status_{exc.status.lower()}"
    if isinstance(exc, RpcMethodError):
        if exc.code in _TRANSIENT_CODES:
            return Retry.TRANSIENT, _TRANSIENT_CODES[exc.code]
        if exc.code in _INSUFFICIENT_CODES:
            return Retry.INSUFFICIENT, _INSUFFICIENT_CODES[exc.code]
        return Retry.PERMANENT, f"rpc_{exc.code}"
    return Retry.PERMANENT, type(exc).__name__


def to_atomic(xmr: float) -> int:
    return round(xmr * ATOMIC_PER_XMR)


@attrs.define
class TransferSender:
    """Sends one transfer with retries, records the outcome, and keeps the hashes of
    the transfers it sent until they are seen in a block (:meth:`confirm`)."""

    rt: AgentRuntime
    kind: TransferKind
    priority: int
    max_retries: int
    addresses: dict[str, str] = attrs.field(factory=dict)
    unconfirmed: set[str] = attrs.field(factory=set)
    _blocks: JournalFollower[BlockRecord] = attrs.field(init=False)
    _public_height: int = attrs.field(default=0, init=False)  # of the last public block

    def __attrs_post_init__(self) -> None:
        self._blocks = self.rt.run.blocks.follow()

    def address_of(self, agent: Agent) -> str:
        """The agent's wallet address: from the registry, or asked of its wallet once."""
        if agent.wallet_address:
            return agent.wallet_address
        if agent.id not in self.addresses:
            self.addresses[agent.id] = self.rt.wallet(agent).get_address()
        return self.addresses[agent.id]

    def send(self, sender: Agent, recipient: Agent, amount: int) -> TransferRecord:
        """Transfer ``amount`` atomic units; the record written (``outcome`` sent/failed)."""
        wallet = self.rt.wallet(sender)
        address = self.address_of(recipient)
        attempts = 0
        while True:
            attempts += 1
            sent_height = self._top_height(sender)
            try:
                result = wallet.transfer(
                    address,
                    amount,
                    priority=self.priority,
                    timeout=timeouts().transfer,
                )
            except RpcError as exc:
                retry, cause = classify(exc)
                if retry is Retry.TRANSIENT and attempts <= self.max_retries:
                    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempts - 1))
                    self.rt.log.warning(
                        "transfer %s -> %s failed (%s), retry %d/%d in %.1fs",
                        sender.id,
                        recipient.id,
                        cause,
                        attempts,
                        self.max_retries,
                        delay,
                    )
                    if not self.rt.stop.wait(delay):
                        continue
                record = attrs.evolve(
                    self._record(sender, recipient, amount, attempts, sent_height),
                    outcome="failed",
                    cause=cause,
                    error=str(exc),
                )
                self.rt.log.warning(
                    "transfer %s -> %s of %.6f XMR failed after %d attempt(s): %s",
                    sender.id,
                    recipient.id,
                    amount / ATOMIC_PER_XMR,
                    attempts,
                    exc,
                )
                break
            record = attrs.evolve(
                self._record(sender, recipient, amount, attempts, sent_height),
                tx_hash=result.tx_hash,
                fee=result.fee,
            )
            self.unconfirmed.add(result.tx_hash)
            self.rt.log.info(
                "sent %.6f XMR %s -> %s (fee %.6f) tx %s",
                amount / ATOMIC_PER_XMR,
                sender.id,
                recipient.id,
                result.fee / ATOMIC_PER_XMR,
                result.tx_hash[:16],
            )
            break
        self.rt.run.transfers.append(record)
        return record

    def confirm(self, node: Agent) -> None:
        """Record the transfers this sender made that ``node`` now sees in a block
        (logs instead of raising when the node cannot answer)."""
        if not self.unconfirmed:
            return
        try:
            found = find_confirmations(self.rt.daemon(node), self.unconfirmed)
        except RpcError as exc:
            self.rt.log.warning("cannot check confirmations: %s", exc)
            return
        for confirmation in found:
            self.rt.run.confirmations.append(confirmation)
            self.unconfirmed.discard(confirmation.tx_hash)

    def _top_height(self, sender: Agent) -> int | None:
        """The sender's node's height, once it holds the last public block mined
        (local engine; waits at most ``tip_wait`` wall seconds for the relay)."""
        node = self.rt.daemon(sender)
        try:
            height = node.get_tip().height
            if not self.rt.info.hand_over_transfers:
                return height
            for block in self._blocks.read_new():
                if not block.private:
                    self._public_height = max(self._public_height, block.height)
            deadline = time.monotonic() + timeouts().tip_wait
            while height < self._public_height and time.monotonic() < deadline:
                time.sleep(TIP_POLL)
                height = node.get_tip().height
            return height
        except RpcError:
            return None

    def _record(
        self,
        sender: Agent,
        recipient: Agent,
        amount: int,
        attempts: int,
        sent_height: int | None,
    ) -> TransferRecord:
        """The record of a sent transfer; a failure evolves it."""
        return TransferRecord(
            agent=self.rt.agent_id,
            kind=self.kind,
            sender=sender.id,
            recipient=recipient.id,
            amount=amount,
            priority=self.priority,
            attempts=attempts,
            sim_time=self.rt.now(),
            wall_time=time.time(),
            sent_height=sent_height,
            outcome="sent",
        )


def unlocked_balance(rt: AgentRuntime, agent: Agent) -> int | None:
    """The wallet's unlocked balance (refreshed after a new block); None when unreadable."""
    try:
        return rt.balance(agent).unlocked_balance
    except RpcError as exc:
        rt.fault("wallet_unreadable", agent.id, str(exc))
        return None


def balance_reader(rt: AgentRuntime) -> Callable[[str], int | None]:
    """A :class:`~monerosim_core.SelectionContext` balance source for ``rt``:
    each agent's real unlocked balance, None where it cannot be read."""

    def read(agent_id: str) -> int | None:
        agent = rt.discovery.get_agent(agent_id)
        return unlocked_balance(rt, agent) if agent.has_wallet else None

    return read


def find_confirmations(node: DaemonClient, tx_hashes: Iterable[str]) -> list[ConfirmationRecord]:
    """Confirmation records for the transfers among ``tx_hashes`` that ``node`` sees
    in a block. Raises ``RpcError`` when the node cannot answer."""
    statuses = node.get_transactions(sorted(tx_hashes))
    now = time.time()
    return [
        ConfirmationRecord(tx_hash=h, height=s.block_height, wall_time=now)
        for h, s in statuses.items()
        if s is not None and s.block_height is not None
    ]
