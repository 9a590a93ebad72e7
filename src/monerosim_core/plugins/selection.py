"""Calling one named strategy: the context core hands it, and the typed selector."""

from __future__ import annotations

import random
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.records.registry import Agent, Miner

T = TypeVar("T", Miner, Agent)


def _no_balances(_agent_id: str) -> int | None:
    return None


@attrs.define
class StrategyContext:
    """The :class:`~monerosim_core.plugins.hookspecs.SelectionContext` core hands to
    strategies: balances from ``balance_reader`` and a private scratch ``state``."""

    balance_reader: Callable[[str], int | None] = _no_balances
    state: MutableMapping[str, Any] = attrs.field(factory=dict)

    def unlocked_balance(self, agent_id: str) -> int | None:
        return self.balance_reader(agent_id)


@attrs.define
class Selector(Generic[T]):
    """One named strategy bound to its plugin, with its own seeded RNG and state."""

    name: str
    purpose: str
    _call: Any  # a pluggy subset hook caller that reaches only the named plugin
    rng: random.Random
    context: StrategyContext

    def select(self, candidates: Sequence[T], **extra: Any) -> T:
        """Ask the strategy; raises ``SelectionError`` if it cannot choose soundly."""
        if not candidates:
            raise SelectionError(f"{self.purpose}: no candidates to choose from")
        choice = self._call(candidates=candidates, rng=self.rng, context=self.context, **extra)
        if choice is None or not any(choice is c or choice == c for c in candidates):
            raise SelectionError(
                f"strategy {self.name!r} returned {choice!r}, which is not one of the candidates"
            )
        return choice  # type: ignore[no-any-return]
