"""When blocks are due, in simulated time and on the chain.

Simulated time counts from the run's t=0. Blocks after the bootstrap follow the
controller's schedule (:func:`block_schedule`); the bootstrap blocks come before
t=0, one interval apart, the last one at t=0 (:func:`bootstrap_times`). A block's
on-chain timestamp is the run's chain epoch (Unix seconds at t=0) plus its simulated
time, rounded down to the second (:func:`chain_timestamp`).

Monero refuses a block timestamped more than 2 hours ahead of the node's clock, and
one below the median of the last 60 blocks. :func:`chain_epoch` puts t=0 far enough
in the past that the whole run, bootstrap included, is timestamped before the
wall clock at its start, and every schedule here is non-decreasing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from monerosim_core.config.model import BlockTimes
from monerosim_core.planning.plan import BLOCK_CONTROLLER_ID
from monerosim_core.planning.seeding import RngPurpose, rng_for

# Seconds between the end of the simulated span and the wall clock at the start:
# room for a slow start-up, which happens in real time.
EPOCH_MARGIN = 600


def block_schedule(interval: float, kind: BlockTimes, rng: random.Random) -> Iterator[float]:
    """Simulated times of the blocks after the bootstrap, endless and increasing.

    ``fixed``: every ``interval``. ``exponential``: gaps drawn with mean ``interval``,
    as proof-of-work's memoryless search gives.
    """
    block_time = 0.0
    while True:
        if kind is BlockTimes.EXPONENTIAL:
            block_time += rng.expovariate(1.0 / interval)
        else:
            block_time += interval
        yield block_time


def schedule_rng(seed: int) -> random.Random:
    """The stream :func:`block_schedule` draws from in a run with ``seed``."""
    return rng_for(seed, BLOCK_CONTROLLER_ID, RngPurpose.BLOCK_TIMES)


def blocks_due(interval: float, kind: BlockTimes, seed: int, stop_time: float) -> list[float]:
    """Every scheduled block time of a run before ``stop_time`` (replayed from the seed)."""
    due: list[float] = []
    for block_time in block_schedule(interval, kind, schedule_rng(seed)):
        if block_time >= stop_time:
            break
        due.append(block_time)
    return due


def bootstrap_times(count: int, interval: float) -> list[float]:
    """Simulated times of ``count`` bootstrap blocks: one interval apart, the last at 0."""
    return [-(count - 1 - i) * interval for i in range(count)]


def chain_epoch(wall_now: float, stop_time: float) -> int:
    """The Unix time of simulated t=0 for a run starting at ``wall_now``."""
    return math.floor(wall_now - stop_time) - EPOCH_MARGIN


def chain_timestamp(epoch: int, sim_time: float) -> int:
    """The on-chain timestamp of a block at ``sim_time``."""
    return epoch + math.floor(sim_time)
