"""A regular user (and a solo miner's user side): pays other agents now and then.

Every ``transaction_interval`` simulated seconds it sends a seeded random amount
in [min, max] to another agent with a wallet, chosen by the recipient strategy.
When its unlocked balance is short it skips the turn and says so; users get their
first coins from the miner distributor, solo miners from their own blocks.
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
from monerosim_core.planning.strategies import recipient_strategy
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.plugins.selection import Selector, StrategyContext
from monerosim_core.records.registry import Agent
from monerosim_core.records.schema import TransferRecord


@attrs.define
class RegularUser:
    rt: AgentRuntime
    spec: UserAgentSpec
    recipients: Selector[Agent]
    sender: TransferSender

    @classmethod
    def create(cls, rt: AgentRuntime, spec: UserAgentSpec) -> RegularUser:
        return cls(
            rt=rt,
            spec=spec,
            recipients=rt.plugins.recipient_selector(
                recipient_strategy(spec),
                rt.rng(RngPurpose.RECIPIENT_SELECTION),
                StrategyContext(balance_reader(rt)),
            ),
            sender=TransferSender(rt, "user", spec.transaction_priority, spec.max_retries),
        )

    def run(self) -> None:
        me = self.rt.discovery.get_agent(self.rt.agent_id)
        amounts = self.rt.rng(RngPurpose.AMOUNTS)
        # Stagger the first turn so users do not all send at the same instant.
        next_time = self.rt.now() + amounts.uniform(0, self.spec.transaction_interval)
        while self.rt.sleep_until(next_time):
            amount = to_atomic(
                amounts.uniform(self.spec.min_transaction_amount, self.spec.max_transaction_amount)
            )
            self.take_turn(me, amount)
            self.sender.confirm(me)
            next_time += self.spec.transaction_interval
        self.sender.confirm(me)

    def take_turn(self, me: Agent, amount: int) -> TransferRecord | None:
        balance = unlocked_balance(self.rt, me)
        if balance is None:
            self.rt.fault("turn_skipped", me.id, "its wallet's balance cannot be read")
            return None
        if balance <= amount:
            self.rt.log.info(
                "skipping this turn: unlocked balance %.6f XMR, wanted to send %.6f XMR",
                balance / ATOMIC_PER_XMR,
                amount / ATOMIC_PER_XMR,
            )
            return None
        others = [a for a in self.rt.discovery.get_wallet_agents() if a.id != me.id]
        try:
            recipient = self.recipients.select(others, sender_id=me.id)
        except SelectionError as exc:
            self.rt.log.warning("no recipient this turn: %s", exc)
            return None
        return self.sender.send(me, recipient, amount)
