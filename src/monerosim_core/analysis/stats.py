"""The statistics of comparisons between runs, computed by SciPy.

SciPy is the optional ``campaign`` extra: the core installs without it, so it is
imported where a test is computed, and :func:`require_scipy` turns its absence
into one clear error that names the ``pip install`` (a campaign checks it before
its first run, not after its last).

Conventions: every interval is 95 %; a test that cannot be computed (too few
values, no variation) returns ``None`` or says why in ``note``, never NaN.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

CONFIDENCE = 0.95
INSTALL_HINT = "pip install 'monerosim-core[campaign]'"


class MissingScipyError(Exception):
    """SciPy (the ``campaign`` extra) is not installed."""


def require_scipy() -> None:
    """Raise :class:`MissingScipyError`, naming the install command, without SciPy."""
    _stats()


def _stats() -> Any:
    try:
        import scipy.stats
    except ImportError as exc:
        raise MissingScipyError(
            f"campaign statistics need SciPy, which is not importable ({exc}); "
            f"install it with `{INSTALL_HINT}`"
        ) from None
    return scipy.stats


@contextmanager
def _quiet() -> Iterator[None]:
    # SciPy warns about near-identical samples ("catastrophic cancellation"); the
    # callers below handle exactly-constant samples themselves, and a warning
    # printed in the middle of a report helps no one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@attrs.frozen
class Estimate:
    """A mean over runs with its Student-t confidence interval.

    ``low`` and ``high`` are ``None`` for a single value (no spread to estimate);
    with no variation they equal the mean.
    """

    n: int
    mean: float
    sd: float | None
    low: float | None
    high: float | None

    def contains(self, value: float) -> bool | None:
        if self.low is None or self.high is None:
            return None
        # A share printed with many digits can differ from its own interval's
        # edge in the last bit; that is not a miss.
        slack = 1e-12 * max(1.0, abs(value))
        return self.low - slack <= value <= self.high + slack


def estimate(
    values: Sequence[float], within: tuple[float, float] = (-math.inf, math.inf)
) -> Estimate | None:
    """The mean of ``values`` with a 95 % Student-t interval, cut to ``within`` (the
    values the quantity can take: a t-interval on a few shares near 0 reaches below
    0); ``None`` if empty."""
    if not values:
        return None
    mean = statistics.fmean(values)
    if len(values) == 1:
        return Estimate(1, mean, None, None, None)
    sd = statistics.stdev(values)
    if sd == 0:
        return Estimate(len(values), mean, 0.0, mean, mean)
    with _quiet():
        ci = _stats().ttest_1samp(values, 0.0).confidence_interval(CONFIDENCE)
    low, high = max(within[0], float(ci.low)), min(within[1], float(ci.high))
    return Estimate(len(values), mean, sd, low, high)


@attrs.frozen
class TwoSamples:
    """Welch's t-test of two samples of per-run values, and Mann-Whitney's U beside it.

    ``difference`` is ``mean(b) - mean(a)`` with Welch's 95 % interval; ``effect``
    is Hedges' g (the difference over the pooled standard deviation, corrected for
    small samples); ``rank_biserial`` is Mann-Whitney's effect size in [-1, 1]
    (positive: b tends to be larger). ``p_value`` is Welch's; ``None`` with a
    ``note`` when there is no test (fewer than two values on a side, or no
    variation at all).
    """

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    difference_low: float | None
    difference_high: float | None
    effect: float | None
    p_value: float | None
    mw_p_value: float | None
    rank_biserial: float | None
    note: str = ""


def two_samples(a: Sequence[float], b: Sequence[float]) -> TwoSamples | None:
    """Compare two samples; ``None`` when either side is empty."""
    if not a or not b:
        return None
    mean_a, mean_b = statistics.fmean(a), statistics.fmean(b)
    base = TwoSamples(len(a), len(b), mean_a, mean_b, mean_b - mean_a, *(None,) * 6)
    if len(a) < 2 or len(b) < 2:
        return attrs.evolve(base, note="fewer than two runs on a side")
    sd_a, sd_b = statistics.stdev(a), statistics.stdev(b)
    if sd_a == 0 and sd_b == 0:
        if mean_a == mean_b:
            return attrs.evolve(base, note="the same value in every run")
        # Every run of each side gave one value and the two differ: the difference
        # is certain, but Welch's statistic is infinite and its interval undefined.
        return attrs.evolve(base, p_value=0.0, note="no variation within either side")
    stats = _stats()
    with _quiet():
        welch = stats.ttest_ind(b, a, equal_var=False)
        ci = welch.confidence_interval(CONFIDENCE)
        mw = stats.mannwhitneyu(b, a, alternative="two-sided")
    return attrs.evolve(
        base,
        difference_low=float(ci.low),
        difference_high=float(ci.high),
        effect=_hedges_g(mean_b - mean_a, sd_a, sd_b, len(a), len(b)),
        p_value=float(welch.pvalue),
        mw_p_value=float(mw.pvalue),
        rank_biserial=2.0 * float(mw.statistic) / (len(a) * len(b)) - 1.0,
    )


def _hedges_g(difference: float, sd_a: float, sd_b: float, n_a: int, n_b: int) -> float:
    dof = n_a + n_b - 2
    pooled = math.sqrt(((n_a - 1) * sd_a**2 + (n_b - 1) * sd_b**2) / dof)
    correction = 1.0 - 3.0 / (4.0 * dof - 1.0)  # Hedges' small-sample correction
    return correction * difference / pooled


@attrs.frozen
class Contingency:
    """Pearson's chi-square test of independence of a table of counts, with Cramér's V.

    ``min_expected`` is the smallest expected count: under about 5 the chi-square
    approximation is rough, and the report says so.
    """

    statistic: float
    dof: int
    p_value: float
    cramers_v: float
    min_expected: float


def contingency(rows: Sequence[Sequence[int]]) -> Contingency | None:
    """Test whether the rows (e.g. two runs' block counts per miner) share one
    distribution over the columns. Columns that are empty in every row carry no
    information and are dropped; ``None`` when fewer than two columns or two rows
    have counts."""
    kept = [i for i in range(len(rows[0])) if any(r[i] for r in rows)] if rows else []
    table = [[r[i] for i in kept] for r in rows if any(r[i] for i in kept)]
    if len(kept) < 2 or len(table) < 2:
        return None
    stats = _stats()
    with _quiet():
        result = stats.chi2_contingency(table, correction=False)
        v = stats.contingency.association(table, method="cramer", correction=False)
    return Contingency(
        statistic=float(result.statistic),
        dof=int(result.dof),
        p_value=float(result.pvalue),
        cramers_v=float(v),
        min_expected=float(result.expected_freq.min()),
    )


@attrs.frozen
class GoodnessOfFit:
    """Pearson's chi-square of counts against configured probabilities."""

    statistic: float
    dof: int
    p_value: float
    min_expected: float


def goodness_of_fit(counts: Sequence[int], probabilities: Sequence[float]) -> GoodnessOfFit | None:
    """Test ``counts`` against ``probabilities`` (normalised here); ``None`` without
    two categories of positive probability or without counts."""
    total_p = sum(probabilities)
    n = sum(counts)
    pairs = [(c, p / total_p) for c, p in zip(counts, probabilities, strict=True) if p > 0]
    if n == 0 or len(pairs) < 2 or total_p <= 0:
        return None
    expected = [n * p for _, p in pairs]
    with _quiet():
        result = _stats().chisquare([c for c, _ in pairs], f_exp=expected)
    return GoodnessOfFit(
        float(result.statistic), len(pairs) - 1, float(result.pvalue), min(expected)
    )


@attrs.frozen
class Distributions:
    """Two samples of events (inter-block gaps, confirmation delays) side by side.

    ``p_value`` is the two-sample Kolmogorov-Smirnov test of whether they come from
    one distribution; ``None`` when a side is empty or both are one and the same
    constant.
    """

    n_a: int
    n_b: int
    mean_a: float | None
    mean_b: float | None
    median_a: float | None
    median_b: float | None
    statistic: float | None
    p_value: float | None


def distributions(a: Sequence[float], b: Sequence[float]) -> Distributions:
    def mean(x: Sequence[float]) -> float | None:
        return statistics.fmean(x) if x else None

    def median(x: Sequence[float]) -> float | None:
        return float(statistics.median(x)) if x else None

    statistic = p_value = None
    if a and b and not (len(set(a)) == 1 and set(a) == set(b)):
        with _quiet():
            ks = _stats().ks_2samp(a, b)
        statistic, p_value = float(ks.statistic), float(ks.pvalue)
    return Distributions(len(a), len(b), mean(a), mean(b), median(a), median(b), statistic, p_value)


def adjust(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the same order.

    Many metrics are tested at once; at a 5 % level on raw p-values one in twenty
    identical metrics would be flagged. Controlling the false discovery rate keeps
    the flagged differences mostly real.
    """
    if not p_values:
        return []
    return [float(q) for q in _stats().false_discovery_control(list(p_values), method="bh")]
