"""The race model and the referee: which parent each choice means, how the branch
settles, and that honest miners alone never fork. No daemons."""

from __future__ import annotations

import random

import pytest

from monerosim_core import Parent, RaceEvent, RaceView, Reveal, hookimpl
from monerosim_core.agents.race import BlockRef, Race, Referee
from monerosim_core.config import ConfigError
from monerosim_core.plugins.behaviour import BehaviourError
from monerosim_core.testing import load_behaviour

GENESIS = BlockRef("g", 0)


def block(name: str, parent: BlockRef) -> BlockRef:
    return BlockRef(name, parent.height + 1)


def race_with_branch(own: int, public: int, gamma: float = 0.0) -> Race:
    """A race in which the withholding miner holds ``own`` blocks (none published)
    and the others mined ``public`` blocks since the fork point ``GENESIS``."""
    race = Race(GENESIS, gamma=gamma)
    tip = GENESIS
    for n in range(own):
        mined = block(f"w{n}", tip)
        race.add_block(mined, tip, withholding=True)
        tip = mined
    tip = GENESIS
    for n in range(public):
        mined = block(f"h{n}", tip)
        race.add_block(mined, tip, withholding=False)
        tip = mined
    return race


def test_without_a_branch_the_fork_point_follows_the_public_tip() -> None:
    race = race_with_branch(own=0, public=3)
    assert race.fork.hash == "h2" and race.public == [] and not race.tie
    assert race.parent_block(Parent.RIVAL, withholding=False) == race.fork


def test_publishing_to_equal_length_is_a_tie_and_rival_means_the_branch() -> None:
    race = race_with_branch(own=2, public=1)
    assert race.reveal(1) == [BlockRef("w0", 1)]
    assert race.tie
    assert race.public_tip.hash == "h0"  # the network saw the honest block first
    assert race.parent_block(Parent.RIVAL, withholding=False).hash == "w0"
    assert race.parent_block(Parent.PUBLIC, withholding=False).hash == "h0"
    assert race.parent_block(Parent.PUBLIC, withholding=True).hash == "h0"
    assert race.parent_block(Parent.OWN, withholding=True).hash == "w1"


def test_an_honest_block_on_the_rival_branch_settles_the_published_blocks() -> None:
    race = race_with_branch(own=2, public=1)
    race.reveal(1)
    rival = race.parent_block(Parent.RIVAL, withholding=False)
    race.add_block(block("h1", rival), rival, withholding=False)
    assert race.fork.hash == "w0"
    assert [b.hash for b in race.own] == ["w1"] and race.published == 0
    assert [b.hash for b in race.public] == ["h1"]
    assert race.view(withholding=True).lead == 0


def test_publishing_a_longer_branch_overrides_the_public_one() -> None:
    race = race_with_branch(own=3, public=2)
    race.reveal(3)
    assert race.fork.hash == "w2" and race.own == [] and race.public == []
    assert race.public_tip.hash == "w2"


def test_abandoning_gives_the_whole_branch_up() -> None:
    race = race_with_branch(own=1, public=2)
    assert [b.hash for b in race.abandon()] == ["w0"]
    assert race.fork.hash == "h1" and race.own == [] and race.view(withholding=True) == RaceView()


def test_a_miner_named_honest_builds_one_chain_with_the_others() -> None:
    referee = Referee(Race(GENESIS, gamma=0.5), load_behaviour("honest"), random.Random(7))
    parent_of: dict[str, str] = {}
    draws = random.Random(8)
    for n in range(500):
        withholding = draws.random() < 0.3
        parent = referee.parent(withholding=withholding)
        mined = block(f"b{n}", parent)
        parent_of[mined.hash] = parent.hash
        referee.race.add_block(mined, parent, withholding=withholding)
        reaction = referee.after_block(withholder_won=withholding)
        assert reaction.published == ((mined,) if withholding else ())
        assert reaction.abandoned == ()
    assert list(parent_of.values()) == ["g", *(f"b{n}" for n in range(499))]


class Answers:
    """A behaviour with fixed answers, or none for the reveal hook."""

    def __init__(self, parent: object) -> None:
        self.answer = parent

    @hookimpl
    def monerosim_mining_parent(self, view: RaceView) -> object:
        return self.answer


def test_a_behaviour_without_a_reveal_hook_publishes_like_an_honest_miner() -> None:
    behaviour = load_behaviour("partial", Answers(Parent.OWN))
    rng = random.Random(1)
    assert behaviour.reveal(RaceView(own=2), RaceEvent.WON, rng) == Reveal(publish=2)
    assert behaviour.parent(RaceView(own=2), rng) is Parent.OWN


def test_rival_outside_a_tie_is_the_public_tip() -> None:
    behaviour = load_behaviour("rival", Answers(Parent.RIVAL))
    assert behaviour.parent(RaceView(), random.Random(1)) is Parent.PUBLIC


def test_a_wrong_answer_names_the_behaviour() -> None:
    behaviour = load_behaviour("confused", Answers("own"))
    with pytest.raises(BehaviourError, match="mining behaviour 'confused' answered 'own'"):
        behaviour.parent(RaceView(), random.Random(1))


def test_an_unknown_behaviour_is_a_config_error_with_the_likely_name() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'selfish'\?"):
        load_behaviour("selfsh")
