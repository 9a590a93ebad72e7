"""The miner distributor: moves XMR from miner wallets to the other participants.

Every ``transaction_frequency`` simulated seconds it picks a paying miner with
the configured miner strategy (``balance`` reads the real unlocked balances), a
recipient with the recipient strategy among every agent with a wallet except
that miner, and sends a seeded random amount in [min, max]. A miner without
enough unlocked money is passed over for another in the same round.
"""

from __future__ import annotations

import attrs

from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.agents.transfers import (
    ATOMIC_PER_XMR,
    TransferSender,
    balance_reader,
    to_atomic,
    unlocked_balance,
)
from monerosim_core.config.model import UserAgentSpec
from monerosim_core.planning.seeding import RngPurpose
from monerosim_core.planning.strategies import miner_strategy, recipient_strategy
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.plugins.selection import Selector, StrategyContext
from monerosim_core.records.registry import Agent, Miner
from monerosim_core.records.schema import TransferRecord


@attrs.define
class MinerDistributor:
    rt: AgentRuntime
    spec: UserAgentSpec
    miners: Selector[Miner]
    recipients: Selector[Agent]
    sender: TransferSender

    @classmethod
    def create(cls, rt: AgentRuntime, spec: UserAgentSpec) -> MinerDistributor:
        return cls(
            rt=rt,
            spec=spec,
            miners=rt.plugins.miner_selector(
                miner_strategy(spec),
                rt.rng(RngPurpose.MINER_SELECTION),
                StrategyContext(balance_reader(rt)),
            ),
            recipients=rt.plugins.recipient_selector(
                recipient_strategy(spec),
                rt.rng(RngPurpose.RECIPIENT_SELECTION),
                StrategyContext(balance_reader(rt)),
            ),
            sender=TransferSender(rt, "distribution", spec.transaction_priority, spec.max_retries),
        )

    def run(self) -> None:
        if not self.wait_for_funds():
            return
        amounts = self.rt.rng(RngPurpose.AMOUNTS)
        next_time = self.rt.now()
        while self.rt.running():
            amount = to_atomic(
                amounts.uniform(self.spec.min_transaction_amount, self.spec.max_transaction_amount)
            )
            self.distribute(amount)
            self.sender.confirm(self.own_node())
            next_time += self.spec.transaction_frequency
            if not self.rt.sleep_until(next_time):
                break
        self.sender.confirm(self.own_node())

    def own_node(self) -> Agent:
        return self.rt.discovery.get_agent(self.rt.agent_id)

    def wait_for_funds(self) -> bool:
        """Wait until some miner holds unlocked XMR, saying so while waiting."""
        minimum = to_atomic(self.spec.min_transaction_amount)
        next_time = self.rt.now()
        while self.rt.running():
            balances = {
                m.agent_id: unlocked_balance(self.rt, self.rt.discovery.get_agent(m.agent_id))
                for m in self.rt.discovery.get_miner_agents()
            }
            if any(b is not None and b > minimum for b in balances.values()):
                return True
            self.rt.log.info(
                "waiting for miners' coinbase outputs to unlock (bootstrap, 60-block lock)"
            )
            next_time += self.spec.transaction_frequency
            if not self.rt.sleep_until(next_time):
                return False
        return False

    def distribute(self, amount: int) -> TransferRecord | None:
        """One round: the transfer record, or None when no miner could pay."""
        candidates = self.rt.discovery.get_miner_agents()
        unreadable = []
        while candidates:
            try:
                miner = self.miners.select(candidates)
                payer = self.rt.discovery.get_agent(miner.agent_id)
                others = [a for a in self.rt.discovery.get_wallet_agents() if a.id != payer.id]
                recipient = self.recipients.select(others, sender_id=payer.id)
            except SelectionError as exc:
                self.rt.log.warning("no transfer this round: %s", exc)
                return None
            balance = unlocked_balance(self.rt, payer)
            if balance is None:
                unreadable.append(payer.id)
            if balance is None or balance <= amount:
                self.rt.log.info(
                    "miner %s has %s unlocked, needs more than %.6f XMR; trying another miner",
                    payer.id,
                    "unknown" if balance is None else f"{balance / ATOMIC_PER_XMR:.6f} XMR",
                    amount / ATOMIC_PER_XMR,
                )
                candidates = [m for m in candidates if m.agent_id != miner.agent_id]
                continue
            record = self.sender.send(payer, recipient, amount)
            if not record.sent and record.cause in (
                "not_enough_unlocked",
                "not_enough_money",
            ):
                candidates = [m for m in candidates if m.agent_id != miner.agent_id]
                continue
            return record
        if unreadable:
            # Not only short of funds: wallets that could not be read cost the round.
            detail = f"no miner could pay; unreadable wallets: {', '.join(unreadable)}"
            self.rt.fault("turn_skipped", self.rt.agent_id, detail)
        else:
            self.rt.log.warning(
                "no miner has %.6f XMR unlocked this round", amount / ATOMIC_PER_XMR
            )
        return None
