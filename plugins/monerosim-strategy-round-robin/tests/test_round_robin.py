"""The round-robin strategy: every other agent once per cycle, in id order, never the sender."""

from __future__ import annotations

import importlib.metadata
import random
from collections.abc import Sequence

import monerosim_strategy_round_robin as round_robin
import pytest

from monerosim_core import Agent, SelectionError
from monerosim_core.testing import StubContext, load_strategy, make_agents


def agents(*ids: str) -> tuple[Agent, ...]:
    return make_agents(ids)


def pick(sender_id: str, candidates: Sequence[Agent], context: StubContext) -> str:
    chosen = round_robin.monerosim_select_recipient(
        sender_id=sender_id, candidates=candidates, rng=random.Random(0), context=context
    )
    assert chosen is not None
    assert chosen in candidates
    return chosen.id


def test_each_cycle_visits_every_other_agent_once_in_id_order() -> None:
    # Registry order is shuffled and includes the sender; neither may matter.
    candidates = agents("user3", "user0", "user4", "user1", "user2")
    context = StubContext()
    chosen = [pick("user2", candidates, context) for _ in range(3 * 4)]
    cycle = ["user0", "user1", "user3", "user4"]
    assert chosen == cycle * 3


def test_continues_after_the_candidate_set_changes() -> None:
    context = StubContext()
    assert [pick("s", agents("a", "b", "c", "d", "e"), context) for _ in range(2)] == ["a", "b"]
    # "c" left and "bb" joined: the walk goes on after "b", so "bb" is next.
    assert pick("s", agents("a", "b", "bb", "d", "e"), context) == "bb"
    # The last recipient itself left: continue from where it would sort.
    assert pick("s", agents("a", "b", "d", "e"), context) == "d"
    # Wrap around past a newcomer at the end.
    later = agents("a", "b", "d", "e", "z")
    assert [pick("s", later, context) for _ in range(4)] == ["e", "z", "a", "b"]


def test_never_returns_the_sender_when_the_sender_changes_every_call() -> None:
    candidates = agents("a", "b", "c", "d")
    context = StubContext()
    rng = random.Random(12345)
    for _ in range(1_000):
        # Often the sender is exactly the agent that would be next in turn.
        sender = rng.choice([a.id for a in candidates])
        assert pick(sender, candidates, context) != sender
    # Deterministic case: after "a" the turn is "b", but "b" is paying.
    context = StubContext()
    assert pick("d", candidates, context) == "a"
    assert pick("b", candidates, context) == "c"


def test_state_is_per_caller() -> None:
    candidates = agents("a", "b", "c")
    first, second = StubContext(), StubContext()
    assert [pick("x", candidates, first) for _ in range(2)] == ["a", "b"]
    assert pick("x", candidates, second) == "a"


def test_only_the_sender_is_an_error() -> None:
    with pytest.raises(SelectionError, match=r"'a'.*only candidate"):
        pick("a", agents("a"), StubContext())


def test_works_by_name_through_the_installed_entry_point() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="monerosim") if ep.name == "round_robin"
    ]
    assert entry_point.load() is round_robin
    candidates = agents("b", "a")
    chosen = load_strategy("round_robin").select_recipient("a", candidates)
    assert chosen is candidates[0]
