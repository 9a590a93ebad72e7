"""The random strategy: uniform miners, uniform recipients that are never the sender."""

from __future__ import annotations

import collections
import importlib.metadata
import random

import monerosim_strategy_random as uniform
import pytest
from scipy.stats import chisquare

from monerosim_core import Agent, SelectionError
from monerosim_core.testing import StubContext, load_strategy, make_agents, make_miners

SEED = 12345


def pick_recipient(sender_id: str, candidates: list[Agent], rng: random.Random) -> Agent:
    chosen = uniform.monerosim_select_recipient(
        sender_id=sender_id, candidates=candidates, rng=rng, context=StubContext()
    )
    assert chosen is not None
    return chosen


def test_miners_are_chosen_uniformly_whatever_their_hashrate() -> None:
    miners = make_miners([50, 20, 10, 10, 5, 4, 1])
    rng, context, draws = random.Random(SEED), StubContext(), 70_000
    counts: collections.Counter[str] = collections.Counter()
    for _ in range(draws):
        chosen = uniform.monerosim_select_miner(candidates=miners, rng=rng, context=context)
        assert chosen is not None
        counts[chosen.agent_id] += 1
    observed = [counts[m.agent_id] for m in miners]
    assert chisquare(observed).pvalue > 0.001  # default expectation: all equal


def test_recipients_are_uniform_over_everyone_but_the_sender() -> None:
    agents = list(make_agents(f"user{i}" for i in range(6)))
    rng, draws = random.Random(SEED), 50_000
    # The sender is left in on purpose: the strategy must not rely on the caller.
    counts = collections.Counter(pick_recipient("user3", agents, rng).id for _ in range(draws))
    assert "user3" not in counts
    others = [a.id for a in agents if a.id != "user3"]
    assert chisquare([counts[i] for i in others]).pvalue > 0.001


def test_recipient_is_never_the_sender_for_any_sender() -> None:
    agents = list(make_agents(f"user{i}" for i in range(4)))
    rng = random.Random(SEED)
    for step in range(2_000):
        sender = agents[step % len(agents)].id
        assert pick_recipient(sender, agents, rng).id != sender


def test_only_the_sender_left_is_an_error() -> None:
    with pytest.raises(SelectionError, match=r"'user0'.*only candidate"):
        pick_recipient("user0", list(make_agents(["user0"])), random.Random(SEED))


def test_same_seed_reproduces_the_sequence() -> None:
    agents = list(make_agents(f"user{i}" for i in range(10)))

    def sequence(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [pick_recipient("user0", agents, rng).id for _ in range(200)]

    assert sequence(SEED) == sequence(SEED)
    assert sequence(SEED) != sequence(SEED + 1)


def test_works_by_name_through_the_installed_entry_point() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="monerosim") if ep.name == "random"
    ]
    assert entry_point.load() is uniform
    strategy = load_strategy("random")
    agents = make_agents(["user0", "user1"])
    assert strategy.select_recipient("user0", agents, rng=random.Random(SEED)) is agents[1]
    miners = make_miners([1.0])
    assert strategy.select_miner(miners, context=StubContext()) is miners[0]
