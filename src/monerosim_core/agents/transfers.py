"""Sending XMR and recording it: shared by the miner distributor, users and solo miners.

Every attempt ends in one record in ``shared/transactions.json``. Failures are
sorted by what retrying can do about them:

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.registry import Agent
from monerosim_core.rpc import DaemonClient
from monerosim_core.rpc_errors import (
    RpcConnectionError,
    RpcError,
    RpcMethodError,
    RpcStatusError,
    RpcTimeout,
)
from monerosim_core.state_files import (
    BLOCKS_FILE,
    TRANSACTIONS_FILE,
    append_record,
    read_records,
    update_records,
)

ATOMIC_PER_XMR = 10**12
BACKOFF_BASE = 0.5  # wall seconds before the first retry; doubles each time
BACKOFF_CAP = 8.0
# Building a transfer takes 0.3-1.5 s here; a loaded 2-core machine can take longer.
TRANSFER_TIMEOUT = 60.0

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
    """Sends one transfer with retries and records the outcome."""

    rt: AgentRuntime
    kind: str  # "distribution" or "user"
    priority: int
    max_retries: int
    addresses: dict[str, str] = attrs.field(factory=dict)

    def address_of(self, agent: Agent) -> str:
        """The agent's wallet address: from the registry, or asked of its wallet once."""
        if agent.wallet_address:
            return agent.wallet_address
        if agent.id not in self.addresses:
            self.addresses[agent.id] = self.rt.wallet(agent).get_address()
        return self.addresses[agent.id]

    def send(self, sender: Agent, recipient: Agent, amount: int) -> dict[str, Any]:
        """Transfer ``amount`` atomic units; the record written (``outcome`` sent/failed)."""
        wallet = self.rt.wallet(sender)
        address = self.address_of(recipient)
        attempts = 0
        while True:
            attempts += 1
            sent_height = self._top_height(sender)
            try:
                result = wallet.transfer(
                    address, amount, priority=self.priority, timeout=TRANSFER_TIMEOUT
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
                record = self._record(sender, recipient, amount, attempts, sent_height)
                record.update(outcome="failed", cause=cause, error=str(exc))
                self.rt.log.warning(
                    "transfer %s -> %s of %.6f XMR failed after %d attempt(s): %s",
                    sender.id,
                    recipient.id,
                    amount / ATOMIC_PER_XMR,
                    attempts,
                    exc,
                )
                break
            record = self._record(sender, recipient, amount, attempts, sent_height)
            record.update(outcome="sent", tx_hash=result.tx_hash, fee=result.fee)
            self.rt.log.info(
                "sent %.6f XMR %s -> %s (fee %.6f) tx %s",
                amount / ATOMIC_PER_XMR,
                sender.id,
                recipient.id,
                result.fee / ATOMIC_PER_XMR,
                result.tx_hash[:16],
            )
            break
        append_record(self.rt.run.shared / TRANSACTIONS_FILE, record)
        return record

    def _top_height(self, sender: Agent) -> int | None:
        try:
            return self.rt.daemon(sender).get_info().height - 1
        except RpcError:
            return None

    def _record(
        self, sender: Agent, recipient: Agent, amount: int, attempts: int, sent_height: int | None
    ) -> dict[str, Any]:
        return {
            "agent": self.rt.agent_id,
            "kind": self.kind,
            "tx_hash": None,
            "sender": sender.id,
            "recipient": recipient.id,
            "amount": amount,
            "fee": None,
            "priority": self.priority,
            "attempts": attempts,
            "outcome": None,
            "cause": None,
            "error": None,
            "sim_time": round(self.rt.clock.now(), 3),
            "wall_time": time.time(),
            "sent_height": sent_height,
            "confirmed_height": None,
            "confirmed_sim_time": None,
        }


def unlocked_balance(rt: AgentRuntime, agent: Agent) -> int | None:
    """The wallet's unlocked balance after a refresh; None when it cannot be read."""
    try:
        return rt.wallet(agent).get_balance(refresh=True).unlocked_balance
    except RpcError as exc:
        rt.log.warning("cannot read the balance of %s: %s", agent.id, exc)
        return None


def balance_reader(rt: AgentRuntime) -> Callable[[str], int | None]:
    """A :class:`~monerosim_core.hookspecs.SelectionContext` balance source for ``rt``:
    each agent's real unlocked balance, None where it cannot be read."""

    def read(agent_id: str) -> int | None:
        agent = rt.discovery.get_agent(agent_id)
        return unlocked_balance(rt, agent) if agent.has_wallet else None

    return read


def confirm_pending(shared_dir: Path, node: DaemonClient, owner: str) -> int:
    """Mark ``owner``'s sent transfers that are now in a block as confirmed; how many.

    Only the records made by ``owner`` are touched, so agents never race over each
    other's records (the engine runs a last pass for everyone after the agents
    stop). Heights come from ``node``; the simulated time of confirmation is that
    block's, from the blocks file. Raises ``RpcError`` when ``node`` cannot answer.
    """
    path = shared_dir / TRANSACTIONS_FILE
    mine = [r for r in read_records(path) if r["agent"] == owner and r["outcome"] == "sent"]
    pending = [r["tx_hash"] for r in mine if r["confirmed_height"] is None]
    untimed = [
        r for r in mine if r["confirmed_height"] is not None and r["confirmed_sim_time"] is None
    ]
    if not pending and not untimed:
        return 0
    statuses = node.get_transactions(pending)
    heights = {h: s.block_height for h, s in statuses.items() if s and s.block_height is not None}
    if not heights and not untimed:
        return 0
    # A block's record is written just after it is mined: a confirmation seen
    # sooner gets its time on a later pass.
    block_times = {b["height"]: b["sim_time"] for b in read_records(shared_dir / BLOCKS_FILE)}

    def mark(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for r in records:
            if r["agent"] != owner:
                continue
            if r.get("tx_hash") in heights and r["confirmed_height"] is None:
                r["confirmed_height"] = heights[r["tx_hash"]]
            if r["confirmed_height"] is not None and r["confirmed_sim_time"] is None:
                r["confirmed_sim_time"] = block_times.get(r["confirmed_height"])
        return records

    update_records(path, mark)
    return len(heights)


def confirm_own(rt: AgentRuntime, node: Agent) -> None:
    """:func:`confirm_pending` for the calling agent, logging instead of raising."""
    try:
        confirm_pending(rt.run.shared, rt.daemon(node), rt.agent_id)
    except RpcError as exc:
        rt.log.warning("cannot check confirmations: %s", exc)
