"""When blocks are due: fixed spacing or exponential gaps, bootstrap before t=0, and
on-chain timestamps that stay inside Monero's rules."""

from __future__ import annotations

import itertools
import math

from scipy import stats

from monerosim_core.config.model import BlockTimes
from monerosim_core.planning.schedule import (
    EPOCH_MARGIN,
    block_schedule,
    blocks_due,
    bootstrap_times,
    chain_epoch,
    chain_timestamp,
    schedule_rng,
)


def gaps(interval: float, kind: BlockTimes, n: int, seed: int = 2024) -> list[float]:
    times = list(itertools.islice(block_schedule(interval, kind, schedule_rng(seed)), n))
    return [b - a for a, b in itertools.pairwise([0.0, *times])]


def test_fixed_blocks_come_every_interval_from_t0() -> None:
    assert gaps(120.0, BlockTimes.FIXED, 5) == [120.0] * 5


def test_exponential_gaps_are_exponential_with_the_interval_as_mean() -> None:
    sample = gaps(120.0, BlockTimes.EXPONENTIAL, 20_000)
    # Kolmogorov-Smirnov against Exp(mean=120), fixed seed.
    assert stats.kstest(sample, "expon", args=(0, 120.0)).pvalue > 0.001
    assert math.isclose(sum(sample) / len(sample), 120.0, rel_tol=0.03)


def test_the_schedule_replays_from_the_seed() -> None:
    assert gaps(60.0, BlockTimes.EXPONENTIAL, 50, seed=5) == gaps(
        60.0, BlockTimes.EXPONENTIAL, 50, seed=5
    )
    assert gaps(60.0, BlockTimes.EXPONENTIAL, 50, seed=5) != gaps(
        60.0, BlockTimes.EXPONENTIAL, 50, seed=6
    )


def test_blocks_due_are_the_schedule_before_stop_time() -> None:
    assert blocks_due(120.0, BlockTimes.FIXED, 1, 7200.0) == [120.0 * k for k in range(1, 60)]
    due = blocks_due(120.0, BlockTimes.EXPONENTIAL, 9, 7200.0)
    assert due == sorted(due) and due[-1] < 7200.0
    replay = itertools.islice(block_schedule(120.0, BlockTimes.EXPONENTIAL, schedule_rng(9)), 500)
    assert due == [t for t in replay if t < 7200.0]


def test_bootstrap_blocks_end_at_t0_one_interval_apart() -> None:
    assert bootstrap_times(4, 120.0) == [-360.0, -240.0, -120.0, 0.0]
    assert bootstrap_times(0, 120.0) == []


def test_every_timestamp_of_a_run_is_in_the_past_and_non_decreasing() -> None:
    wall_start, stop_time = 1_800_000_000.5, 6 * 3600.0
    epoch = chain_epoch(wall_start, stop_time)
    times = [*bootstrap_times(100, 120.0), *blocks_due(120.0, BlockTimes.EXPONENTIAL, 3, stop_time)]
    stamps = [chain_timestamp(epoch, t) for t in times]
    assert stamps == sorted(stamps)  # never below the median of the last 60
    assert stamps[-1] <= wall_start - EPOCH_MARGIN  # never ahead of any node's clock
    assert chain_timestamp(epoch, 0.0) == epoch
    assert chain_timestamp(epoch, 119.999) == epoch + 119
