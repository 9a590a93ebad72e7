"""Did the block rewards land in the miners' wallets, and do the transfers add up?

A wallet's balance at the end (locked outputs included) must equal what the
records say flowed into and out of it::

    expected = rewards of the main-chain blocks it won
               - amounts and fees of the transfers it sent
               + amounts of the transfers it received, mined or still in the pool

(wallet-rpc's ``balance`` counts unconfirmed incoming pool transfers, so a
transfer relayed in the last block interval is already in its recipient's
balance even though no block holds it yet).

Every wallet is checked, not only the miners', because the same sum catches a
distribution transfer that never arrived. Amounts are atomic units throughout, so a
match is exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

import attrs

from monerosim_core.records.layout import FINAL_STATE_FILE
from monerosim_core.records.registry import Registry
from monerosim_core.records.schema import BlockRecord, FinalState
from monerosim_core.report.forks import main_chain_hashes
from monerosim_core.report.records import Transfer

WalletStatus = Literal["match", "mismatch", "unknown"]


@attrs.frozen
class WalletCheck:
    """One wallet's reconciliation; ``difference`` is balance - expected."""

    agent_id: str
    is_miner: bool
    blocks_won: int
    rewards: int
    sent: int
    fees: int
    received: int
    expected: int
    balance: int | None
    difference: int | None
    status: WalletStatus
    note: str  # why the status is "unknown", or a caveat on the expected figure


@attrs.frozen
class PayoutMismatch:
    """A block whose reward went to an address other than its winner's registered one."""

    height: int
    winner: str
    paid_to: str
    registered: str | None


@attrs.frozen
class WalletSection:
    final_state_recorded: bool
    transfers_recorded: bool
    wallets: tuple[WalletCheck, ...]
    payout_mismatches: tuple[PayoutMismatch, ...]

    def count(self, status: WalletStatus) -> int:
        return sum(1 for w in self.wallets if w.status == status)


def analyse_wallets(
    registry: Registry,
    blocks: Sequence[BlockRecord],
    transfers: Sequence[Transfer] | None,
    final_state: FinalState | None,
) -> WalletSection:
    known = [m.agent_id for m in registry.miners]
    known += [a.id for a in registry.agents if a.has_wallet and a.id not in known]
    if final_state is not None:
        known += sorted(set(final_state.wallets) - set(known))
    miners = {m.agent_id for m in registry.miners}
    # Grouped once, so a large run costs one pass over the records, not one per wallet.
    # Only the main chain's blocks pay: an orphaned block's reward exists nowhere.
    chain = main_chain_hashes(final_state) if final_state is not None else frozenset()
    won: dict[str, list[BlockRecord]] = defaultdict(list)
    for b in blocks:
        if not chain or b.hash in chain:
            won[b.winner].append(b)
    outgoing: dict[str, list[Transfer]] = defaultdict(list)
    incoming: dict[str, list[Transfer]] = defaultdict(list)
    for t in transfers or ():
        if t.sent:
            outgoing[t.record.sender].append(t)
            incoming[t.record.recipient].append(t)
    return WalletSection(
        final_state_recorded=final_state is not None,
        transfers_recorded=transfers is not None,
        wallets=tuple(
            _check(
                agent, agent in miners, won[agent], outgoing[agent], incoming[agent], final_state
            )
            for agent in known
        ),
        payout_mismatches=_payout_mismatches(registry, blocks),
    )


def _check(
    agent: str,
    is_miner: bool,
    won: Sequence[BlockRecord],
    outgoing: Sequence[Transfer],
    incoming: Sequence[Transfer],
    final_state: FinalState | None,
) -> WalletCheck:
    rewards = sum(b.reward or 0 for b in won)
    sent = sum(t.record.amount for t in outgoing)
    fees = sum(t.record.fee or 0 for t in outgoing)
    received = sum(t.record.amount for t in incoming)
    expected = rewards - sent - fees + received
    unknown_fees = sum(1 for t in outgoing if t.record.fee is None)
    unknown_rewards = sum(1 for b in won if b.reward is None)
    caveats = [
        f"{unknown_fees} sent transfer(s) without a recorded fee" if unknown_fees else "",
        f"{unknown_rewards} block(s) without a recorded reward" if unknown_rewards else "",
    ]
    caveat = "; ".join(c for c in caveats if c)

    balance, reason = _balance(agent, final_state)
    if balance is None:
        status: WalletStatus = "unknown"
        note = reason
    else:
        status = "match" if balance == expected else "mismatch"
        note = caveat
    return WalletCheck(
        agent_id=agent,
        is_miner=is_miner,
        blocks_won=len(won),
        rewards=rewards,
        sent=sent,
        fees=fees,
        received=received,
        expected=expected,
        balance=balance,
        difference=None if balance is None else balance - expected,
        status=status,
        note=note,
    )


def _balance(agent: str, final_state: FinalState | None) -> tuple[int | None, str]:
    if final_state is None:
        return None, f"{FINAL_STATE_FILE} not recorded"
    reading = final_state.wallets.get(agent)
    if reading is None:
        return None, f"wallet not in {FINAL_STATE_FILE}"
    if reading.error is not None:
        return None, f"wallet unreadable at the end: {reading.error}"
    return reading.balance, ""


def _payout_mismatches(
    registry: Registry, blocks: Sequence[BlockRecord]
) -> tuple[PayoutMismatch, ...]:
    registered = {a.id: a.wallet_address for a in registry.agents}
    return tuple(
        PayoutMismatch(
            height=b.height,
            winner=b.winner,
            paid_to=b.wallet_address,
            registered=registered.get(b.winner),
        )
        for b in sorted(blocks, key=lambda b: b.height)
        if b.wallet_address is not None and b.wallet_address != registered.get(b.winner)
    )
