"""The random strategy: uniform miners, uniform recipients that are never the sender."""

from __future__ import annotations

import collections
import importlib.metadata
import random
from typing import Any

import monerosim_strategy_random as uniform
import pluggy
import pytest
from scipy.stats import chisquare

from monerosim_core import SelectionError, hookspecs
from monerosim_core.registry import Agent, Miner

SEED = 12345


class StubContext:
    """The documented SelectionContext protocol; this strategy reads nothing from it."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.balances: dict[str, int | None] = {}

    def unlocked_balance(self, agent_id: str) -> int | None:
        return self.balances.get(agent_id)


def miner(agent_id: str, hashrate: float) -> Miner:
    return Miner(
        agent_id=agent_id,
        ip_addr="127.0.0.1",
        wallet_address=None,
        hashrate=hashrate,
        weight=0.0,
        is_solo_miner=False,
    )


def agent(agent_id: str) -> Agent:
    return Agent(
        id=agent_id,
        ip_addr="127.0.0.1",
        daemon_rpc_port=18081,
        wallet_rpc_port=18082,
        wallet_address=None,
        is_miner=False,
        hashrate=0.0,
        user_script=None,
    )


def pick_recipient(sender_id: str, candidates: list[Agent], rng: random.Random) -> Agent:
    chosen = uniform.monerosim_select_recipient(
        sender_id=sender_id, candidates=candidates, rng=rng, context=StubContext()
    )
    assert chosen is not None
    return chosen


def test_miners_are_chosen_uniformly_whatever_their_hashrate() -> None:
    miners = [miner(f"m{i}", h) for i, h in enumerate([50, 20, 10, 10, 5, 4, 1])]
    rng, context, draws = random.Random(SEED), StubContext(), 70_000
    counts: collections.Counter[str] = collections.Counter()
    for _ in range(draws):
        chosen = uniform.monerosim_select_miner(candidates=miners, rng=rng, context=context)
        assert chosen is not None
        counts[chosen.agent_id] += 1
    observed = [counts[m.agent_id] for m in miners]
    assert chisquare(observed).pvalue > 0.001  # default expectation: all equal


def test_recipients_are_uniform_over_everyone_but_the_sender() -> None:
    agents = [agent(f"user{i}") for i in range(6)]
    rng, draws = random.Random(SEED), 50_000
    # The sender is left in on purpose: the strategy must not rely on the caller.
    counts = collections.Counter(pick_recipient("user3", agents, rng).id for _ in range(draws))
    assert "user3" not in counts
    others = [a.id for a in agents if a.id != "user3"]
    assert chisquare([counts[i] for i in others]).pvalue > 0.001


def test_recipient_is_never_the_sender_for_any_sender() -> None:
    agents = [agent(f"user{i}") for i in range(4)]
    rng = random.Random(SEED)
    for step in range(2_000):
        sender = agents[step % len(agents)].id
        assert pick_recipient(sender, agents, rng).id != sender


def test_only_the_sender_left_is_an_error() -> None:
    with pytest.raises(SelectionError, match=r"'user0'.*only candidate"):
        pick_recipient("user0", [agent("user0")], random.Random(SEED))


def test_same_seed_reproduces_the_sequence() -> None:
    agents = [agent(f"user{i}") for i in range(10)]

    def sequence(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [pick_recipient("user0", agents, rng).id for _ in range(200)]

    assert sequence(SEED) == sequence(SEED)
    assert sequence(SEED) != sequence(SEED + 1)


def test_works_through_a_plugin_manager() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(uniform, name="random")
    pm.check_pending()
    agents = [agent("user0"), agent("user1")]
    chosen = pm.hook.monerosim_select_recipient(
        sender_id="user0", candidates=agents, rng=random.Random(SEED), context=StubContext()
    )
    assert chosen is agents[1]
    miners = [miner("m0", 1.0)]
    assert (
        pm.hook.monerosim_select_miner(
            candidates=miners, rng=random.Random(SEED), context=StubContext()
        )
        is miners[0]
    )


def test_entry_point_is_installed() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="monerosim") if ep.name == "random"
    ]
    assert entry_point.value == "monerosim_strategy_random"
    assert entry_point.load() is uniform
