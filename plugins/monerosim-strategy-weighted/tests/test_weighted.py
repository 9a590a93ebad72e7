"""The weighted strategy: hashrate-proportional draws, renormalised, cached, reproducible."""

from __future__ import annotations

import collections
import importlib.metadata
import random
from collections.abc import Sequence
from typing import Any

import monerosim_strategy_weighted as weighted
import pytest
from scipy.stats import chisquare

from monerosim_core import Miner, SelectionError
from monerosim_core.testing import StubContext, load_strategy, make_miners

DRAWS = 100_000
SEED = 12345


class FixedRandom(random.Random):
    """An rng pinned to one value of random(), to hit the ends of the interval."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def select(candidates: Sequence[Miner], rng: random.Random, context: StubContext) -> Miner:
    chosen = weighted.monerosim_select_miner(candidates=candidates, rng=rng, context=context)
    assert chosen is not None
    return chosen


def draw_counts(candidates: Sequence[Miner], seed: int, draws: int) -> collections.Counter[str]:
    rng = random.Random(seed)
    context = StubContext()
    return collections.Counter(select(candidates, rng, context).agent_id for _ in range(draws))


def test_draws_follow_hashrate_shares() -> None:
    miners = make_miners([25, 25, 10, 10, 10, 5, 5])  # shares of 90
    counts = draw_counts(miners, SEED, DRAWS)
    observed = [counts[m.agent_id] for m in miners]
    expected = [DRAWS * m.hashrate / 90 for m in miners]
    assert sum(observed) == DRAWS
    assert chisquare(observed, expected).pvalue > 0.001


def test_subset_is_renormalised_over_the_candidates() -> None:
    miners = make_miners([25, 25, 10, 10, 10, 5, 5])
    # Miner.weight is each one's share of ALL miners; the draw must ignore it and
    # weigh the three candidates 10:10:5 among themselves.
    subset = (miners[2], miners[4], miners[6])
    counts = draw_counts(subset, SEED, DRAWS)
    assert set(counts) == {m.agent_id for m in subset}
    observed = [counts[m.agent_id] for m in subset]
    expected = [DRAWS * 10 / 25, DRAWS * 10 / 25, DRAWS * 5 / 25]
    assert chisquare(observed, expected).pvalue > 0.001


def test_same_seed_reproduces_the_sequence() -> None:
    miners = make_miners([25, 25, 10, 10, 10, 5, 5])

    def sequence(seed: int) -> list[str]:
        rng, context = random.Random(seed), StubContext()
        return [select(miners, rng, context).agent_id for _ in range(500)]

    assert sequence(SEED) == sequence(SEED)
    assert sequence(SEED) != sequence(SEED + 1)


def test_one_rng_draw_per_selection() -> None:
    # Other consumers of the same rng (amounts, intervals) must see the same stream
    # whichever miner was chosen.
    miners = make_miners([3, 2, 1])
    rng, reference = random.Random(SEED), random.Random(SEED)
    context = StubContext()
    for _ in range(10):
        select(miners, rng, context)
        reference.random()
    assert rng.random() == reference.random()


def test_table_is_cached_and_rebuilt_only_when_candidates_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds: list[tuple[Miner, ...]] = []
    real_build = weighted._build_table

    def counting_build(candidates: tuple[Miner, ...]) -> Any:
        builds.append(candidates)
        return real_build(candidates)

    monkeypatch.setattr(weighted, "_build_table", counting_build)
    miners = make_miners([25, 25, 10, 10, 10, 5, 5])
    rng, context = random.Random(SEED), StubContext()

    for _ in range(1_000):
        select(miners, rng, context)
    assert len(builds) == 1

    # An equal candidate set in a new container is still the same set.
    select(list(miners), rng, context)
    select(make_miners([25, 25, 10, 10, 10, 5, 5]), rng, context)
    assert len(builds) == 1

    # Fewer candidates: rebuilt, and draws only come from the new set.
    subset = miners[:3]
    assert {select(subset, rng, context).agent_id for _ in range(200)} <= {
        m.agent_id for m in subset
    }
    assert len(builds) == 2

    # Same ids, one hashrate changed: the old table would be wrong, so rebuilt.
    changed = make_miners([0, 25, 10, 10, 10, 5, 5])
    assert all(select(changed, rng, context).agent_id != "miner-01" for _ in range(500))
    assert len(builds) == 3


def test_zero_hashrate_miners_are_never_chosen_at_either_end() -> None:
    miners = make_miners([0, 10, 20, 0])
    context = StubContext()
    # A draw of 0.0 must not land on the leading zero-hashrate miner (a "<=" scan does).
    assert select(miners, FixedRandom(0.0), context).agent_id == "miner-02"
    # The largest draw random() can return stays with the last positive miner.
    assert select(miners, FixedRandom(1.0 - 2.0**-53), context).agent_id == "miner-03"
    # Even an out-of-contract 1.0 maps inside the table instead of past its end.
    assert select(miners, FixedRandom(1.0), context).agent_id == "miner-03"
    counts = draw_counts(miners, SEED, 10_000)
    assert set(counts) == {"miner-02", "miner-03"}


def test_zero_total_hashrate_is_an_error() -> None:
    miners = make_miners([0, 0, 0])
    with pytest.raises(SelectionError, match="total hashrate of 0") as excinfo:
        select(miners, random.Random(SEED), StubContext())
    assert "'miner-01'" in str(excinfo.value)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_invalid_hashrate_is_an_error(bad: float) -> None:
    miners = make_miners([10, 10]) + make_miners([bad], prefix="bad")
    with pytest.raises(SelectionError, match="'bad-01'"):
        select(miners, random.Random(SEED), StubContext())


def test_works_by_name_through_the_installed_entry_point() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="monerosim") if ep.name == "weighted"
    ]
    assert entry_point.load() is weighted
    miners = make_miners([1, 0])
    assert load_strategy("weighted").select_miner(miners, rng=random.Random(SEED)) is miners[0]
