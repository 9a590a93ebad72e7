"""Weighted miner selection: the ``weighted`` plugin against the design document's loop.

Run with the weighted plugin installed (``pip install -e plugins/monerosim-strategy-weighted``)::

    python benchmarks/bench_selection.py

For 10, 1,000 and 100,000 miners it prints selections per second of

* the plugin's hook function, called directly with one reused context, so its
  cumulative table is built once and every timed draw is a binary search;
* the same function with a fresh context per call (the table rebuilt every time),
  which is what a caller pays if it does not keep its context;
* the linear scan of ``mining_architecture_design.md`` section 3.1 (sum the
  hashrates, ``uniform(0, total)``, walk the cumulative sum), re-implemented below.

All three run in the same process on the same miners with fixed seeds, timed with
``time.perf_counter``; each figure is the median of several repeats.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import attrs

from monerosim_core.records.registry import Miner

try:
    from monerosim_strategy_weighted import monerosim_select_miner
except ImportError:
    sys.exit(
        "bench_selection: the weighted plugin is not installed; run\n"
        "    pip install -e plugins/monerosim-strategy-weighted"
    )

SIZES = (10, 1_000, 100_000)
SEED = 20_240_601
REPEATS = 5
# Fixed work per repeat rather than a time budget, so runs are comparable. The
# O(n) methods get iterations inversely proportional to n (at least 20) so every
# cell takes a similar, measurable time.
WARM_CALLS = 200_000
LINEAR_STEPS = 2_000_000
COLD_STEPS = 1_000_000
MIN_CALLS = 20


class BenchContext:
    """A SelectionContext with state and no wallets: all the weighted strategy needs."""

    def __init__(self) -> None:
        self._state: dict[str, Any] = {}

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state

    def unlocked_balance(self, agent_id: str) -> int | None:
        return None


def design_linear_scan(miners: Sequence[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """The selection loop of mining_architecture_design.md section 3.1, as written there.

    Miners are the dicts of ``miners.json``. Two changes, neither affecting the cost:
    the seeded ``rng.uniform`` replaces the module-level ``random.uniform`` (which is
    the same method on a hidden instance) so the run is reproducible, and the
    discovery call and try/except around the loop are left out.
    """
    total_hashrate = sum(float(miner["hashrate"]) for miner in miners)
    rand_val = rng.uniform(0, total_hashrate)
    cumulative = 0.0
    for miner in miners:
        cumulative += float(miner["hashrate"])
        if rand_val <= cumulative:
            return miner
    return miners[-1]


def make_miners(count: int, rng: random.Random) -> tuple[Miner, ...]:
    hashrates = [float(rng.randint(1, 100)) for _ in range(count)]
    total = sum(hashrates)
    return tuple(
        Miner(
            agent_id=f"miner{i:06d}",
            ip_addr=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
            wallet_address=None,
            hashrate=h,
            weight=h / total,
            is_solo_miner=False,
        )
        for i, h in enumerate(hashrates)
    )


def rate(call: Callable[[], object], iterations: int) -> float:
    """Median calls per second over REPEATS timed runs of ``iterations`` calls."""
    rates = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(iterations):
            call()
        rates.append(iterations / (time.perf_counter() - start))
    return statistics.median(rates)


def bench(count: int) -> tuple[float, float, float]:
    miners = make_miners(count, random.Random(SEED + count))
    as_json = [attrs.asdict(m) for m in miners]

    warm_rng, warm_context = random.Random(SEED), BenchContext()
    monerosim_select_miner(candidates=miners, rng=warm_rng, context=warm_context)
    warm = rate(
        lambda: monerosim_select_miner(candidates=miners, rng=warm_rng, context=warm_context),
        WARM_CALLS,
    )

    cold_rng = random.Random(SEED)
    cold = rate(
        lambda: monerosim_select_miner(candidates=miners, rng=cold_rng, context=BenchContext()),
        max(MIN_CALLS, COLD_STEPS // count),
    )

    linear_rng = random.Random(SEED)
    linear = rate(
        lambda: design_linear_scan(as_json, linear_rng),
        max(MIN_CALLS, LINEAR_STEPS // count),
    )
    return warm, cold, linear


def main() -> None:
    began = time.perf_counter()
    processor = platform.processor() or "(platform.processor() is empty)"
    print("Weighted miner selection, selections per second (median of", REPEATS, "repeats)")
    print(f"machine: {processor}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"python:  {platform.python_implementation()} {platform.python_version()}")
    print()
    header = (
        f"{'miners':>8}  {'plugin, warm cache':>18}  {'plugin, cold':>12}  "
        f"{'design linear scan':>18}  {'warm / linear':>13}"
    )
    print(header)
    print("-" * len(header))
    for count in SIZES:
        warm, cold, linear = bench(count)
        print(
            f"{count:>8,}  {warm:>18,.0f}  {cold:>12,.0f}  {linear:>18,.0f}  "
            f"{warm / linear:>12,.1f}x"
        )
    print()
    print(f"total time {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
