"""The block controller's schedule: fixed spacing, or exponential gaps around the interval."""

from __future__ import annotations

import itertools
import math

from scipy import stats

from monerosim_core.agents.block_controller import block_schedule
from monerosim_core.config.model import BlockControllerSpec, BlockTimes, SourcePos
from monerosim_core.planning.plan import BLOCK_CONTROLLER_ID
from monerosim_core.planning.seeding import RngPurpose, rng_for

POS = SourcePos("x.yaml", 1, 1)


def gaps(spec: BlockControllerSpec, n: int, seed: int = 2024) -> list[float]:
    times = list(
        itertools.islice(
            block_schedule(spec, rng_for(seed, BLOCK_CONTROLLER_ID, RngPurpose.BLOCK_TIMES)), n
        )
    )
    return [b - a for a, b in itertools.pairwise([0.0, *times])]


def test_fixed_blocks_come_every_interval_from_t0() -> None:
    spec = BlockControllerSpec(POS, "agents.block_controller", interval=120.0)
    assert gaps(spec, 5) == [120.0] * 5


def test_exponential_gaps_are_exponential_with_the_interval_as_mean() -> None:
    spec = BlockControllerSpec(
        POS, "agents.block_controller", interval=120.0, block_times=BlockTimes.EXPONENTIAL
    )
    sample = gaps(spec, 20_000)
    # Kolmogorov-Smirnov against Exp(mean=120), fixed seed.
    assert stats.kstest(sample, "expon", args=(0, 120.0)).pvalue > 0.001
    mean = sum(sample) / len(sample)
    assert math.isclose(mean, 120.0, rel_tol=0.03)


def test_the_schedule_replays_from_the_seed() -> None:
    spec = BlockControllerSpec(
        POS, "agents.block_controller", interval=60.0, block_times=BlockTimes.EXPONENTIAL
    )
    assert gaps(spec, 50, seed=5) == gaps(spec, 50, seed=5)
    assert gaps(spec, 50, seed=5) != gaps(spec, 50, seed=6)
