"""How far apart the blocks came, against the configured spacing and schedule.

Simulated time is exact on every engine, so a run's inter-block times must fit what
the config asked for: with ``fixed`` block times every gap is the interval (the
check: the mean within 1 % of it); with ``exponential`` ones the gaps are drawn with
the interval as mean (the check: a Kolmogorov-Smirnov test, p >= 0.001). The
blocks themselves are checked against the schedule, replayed from the run's seed:
every block due before the run ended must be there, at its time.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence

import attrs

from monerosim_core.config.model import BlockTimes
from monerosim_core.planning.schedule import blocks_due
from monerosim_core.records.layout import RunInfo
from monerosim_core.records.schema import BlockRecord
from monerosim_core.report.stats import KolmogorovSmirnov, ks_exponential

ALPHA = 0.001
MEAN_TOLERANCE = 0.01  # fixed block times: the mean gap within 1 % of the interval
SHOWN = 10  # times listed in a finding


@attrs.frozen
class IntervalFit:
    """Whether the gaps fit the configured distribution; ``consistent`` is None
    when there are too few gaps to judge."""

    kind: str
    consistent: bool | None
    verdict: str
    mean_error: float | None = None  # (mean - interval) / interval
    ks: KolmogorovSmirnov | None = None


@attrs.frozen
class IntervalSection:
    """Simulated seconds between consecutive non-bootstrap blocks, and the schedule.

    ``due`` counts the scheduled block times before the run ended; ``missing`` lists
    those without a block, ``unscheduled`` the blocks at no scheduled time.
    """

    configured: float
    count: int
    mean: float | None
    median: float | None
    stdev: float | None  # sample standard deviation; None under two intervals
    minimum: float | None
    maximum: float | None
    fit: IntervalFit
    due: int
    missing: tuple[float, ...]
    unscheduled: tuple[float, ...]


def inter_block_times(blocks: Sequence[BlockRecord]) -> list[float]:
    """Simulated seconds between consecutive non-bootstrap blocks, in chain order."""
    times = sorted((b.sim_time, b.height) for b in blocks if not b.bootstrap)
    return [later[0] - earlier[0] for earlier, later in itertools.pairwise(times)]


def analyse_intervals(blocks: Sequence[BlockRecord], run: RunInfo) -> IntervalSection:
    gaps = inter_block_times(blocks)
    kind = BlockTimes(run.block_times)
    mined = {b.sim_time for b in blocks if not b.bootstrap}
    ended = run.stop_time if run.sim_elapsed is None else min(run.stop_time, run.sim_elapsed)
    due = blocks_due(run.block_interval, kind, run.seed, ended) if run.block_interval > 0 else []
    # A run interrupted at the instant of a block may have mined it: that block is
    # not due (the run ended at its time) but it is on the schedule.
    last = max(mined, default=0.0)
    scheduled = set(
        blocks_due(run.block_interval, kind, run.seed, math.nextafter(last, math.inf))
        if last >= ended and run.block_interval > 0
        else due
    )
    return IntervalSection(
        configured=run.block_interval,
        count=len(gaps),
        mean=statistics.fmean(gaps) if gaps else None,
        median=statistics.median(gaps) if gaps else None,
        stdev=statistics.stdev(gaps) if len(gaps) > 1 else None,
        minimum=min(gaps) if gaps else None,
        maximum=max(gaps) if gaps else None,
        fit=fit_intervals(gaps, run.block_interval, kind),
        due=len(due),
        missing=tuple(t for t in due if t not in mined),
        unscheduled=tuple(sorted(t for t in mined if t not in scheduled)),
    )


def fit_intervals(gaps: Sequence[float], interval: float, kind: BlockTimes) -> IntervalFit:
    if len(gaps) < 2 or interval <= 0:
        return IntervalFit(kind.value, None, "Too few intervals to judge.")
    mean = statistics.fmean(gaps)
    error = (mean - interval) / interval
    if kind is BlockTimes.FIXED:
        ok = abs(error) <= MEAN_TOLERANCE
        verdict = (
            f"Mean {mean:.3f} s is {'within' if ok else 'NOT within'} "
            f"{MEAN_TOLERANCE:.0%} of the configured {interval:g} s."
        )
        return IntervalFit(kind.value, ok, verdict, mean_error=error)
    ks = ks_exponential(gaps, interval)
    ok = ks.p_value >= ALPHA
    verdict = (
        f"{'Consistent' if ok else 'NOT consistent'} with exponential gaps of mean "
        f"{interval:g} s (Kolmogorov-Smirnov D = {ks.statistic:.3f}, p = {ks.p_value:.3g})."
    )
    return IntervalFit(kind.value, ok, verdict, mean_error=error, ks=ks)
