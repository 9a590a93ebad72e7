"""The balance strategy: richest readable wallet wins, ties by seed, never a guess."""

from __future__ import annotations

import importlib.metadata
import random

import monerosim_strategy_balance as balance
import pytest

from monerosim_core import Miner, SelectionError
from monerosim_core.testing import StubContext, load_strategy, make_miners

XMR = 10**12  # atomic units


def miners(*ids: str) -> list[Miner]:
    return list(make_miners([10.0] * len(ids), ids=ids))


def select(candidates: list[Miner], balances: dict[str, int | None], seed: int = 0) -> Miner:
    chosen = balance.monerosim_select_miner(
        candidates=candidates, rng=random.Random(seed), context=StubContext(balances)
    )
    assert chosen is not None
    return chosen


def test_highest_unlocked_balance_wins() -> None:
    candidates = miners("a", "b", "c")
    balances: dict[str, int | None] = {"a": 3 * XMR, "b": 7 * XMR + 1, "c": 7 * XMR}
    assert {select(candidates, balances, seed).agent_id for seed in range(20)} == {"b"}


def test_each_balance_is_read_once() -> None:
    candidates = miners("a", "b", "c")
    context = StubContext({"a": 1, "b": 2, "c": 3})
    balance.monerosim_select_miner(candidates=candidates, rng=random.Random(0), context=context)
    assert context.reads == ["a", "b", "c"]


def test_ties_are_broken_by_the_rng_reproducibly() -> None:
    candidates = miners("low", "tied1", "tied2")
    balances: dict[str, int | None] = {"low": XMR, "tied1": 5 * XMR, "tied2": 5 * XMR}
    winners = {seed: select(candidates, balances, seed).agent_id for seed in range(50)}
    # Same seed, same winner.
    assert all(select(candidates, balances, seed).agent_id == winners[seed] for seed in winners)
    # Both tied miners can win, the poorer one never does.
    assert set(winners.values()) == {"tied1", "tied2"}


def test_unreadable_balances_are_skipped() -> None:
    candidates = miners("gone", "a", "b")
    balances: dict[str, int | None] = {"gone": None, "a": XMR, "b": 2 * XMR}
    assert select(candidates, balances).agent_id == "b"
    # Unreadable is not "rich": a lone readable miner with funds wins over it.
    assert select(miners("gone", "a"), {"gone": None, "a": 1}).agent_id == "a"


def test_no_readable_balance_is_an_error_naming_the_miners() -> None:
    with pytest.raises(SelectionError) as excinfo:
        select(miners("a", "b"), {"a": None, "b": None})
    message = str(excinfo.value)
    assert "could not read the unlocked balance" in message
    assert "'a'" in message and "'b'" in message


def test_no_unlocked_funds_is_an_error() -> None:
    with pytest.raises(SelectionError, match="no miner has unlocked funds") as excinfo:
        select(miners("a", "b", "gone"), {"a": 0, "b": 0, "gone": None})
    assert "unreadable: 'gone'" in str(excinfo.value)


def test_works_by_name_through_the_installed_entry_point() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="monerosim") if ep.name == "balance"
    ]
    assert entry_point.load() is balance
    candidates = miners("a", "b")
    chosen = load_strategy("balance").select_miner(
        candidates, context=StubContext({"a": 1, "b": 0})
    )
    assert chosen is candidates[0]
