"""Two groups of runs side by side, with a test of each difference.

Pooled over each group's runs (every event taken as independent):

* block shares: chi-square test of independence on the 2 x miners table of block
  counts (do the two groups' winners follow one distribution?), with Cramér's V;
* inter-block times and confirmation delays: two-sample Kolmogorov-Smirnov;
* transfer outcomes (confirmed, pending, failed by cause): chi-square on the
  2 x outcomes table.

Across runs (when both groups have at least two): every metric of
:mod:`.observation`, one value per run, by Welch's t-test with the difference's
95 % interval and Hedges' g, and Mann-Whitney's U beside it. The run is the
independent unit here, so this is the test a campaign relies on.

Many tests at once flag some differences by chance, so each p-value gets a
Benjamini-Hochberg q-value over every test of the comparison (or of a campaign,
see :func:`q_values_of`) and a difference is called at q < :data:`ALPHA`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from monerosim_core.analysis.groups import RunGroup
from monerosim_core.analysis.observation import Observation
from monerosim_core.analysis.stats import (
    Contingency,
    Distributions,
    TwoSamples,
    adjust,
    contingency,
    distributions,
    two_samples,
)

ALPHA = 0.05
# Names of the pooled tests, as q-values are keyed.
SHARES_TEST = "block shares"
INTERVALS_TEST = "inter-block times"
OUTCOMES_TEST = "transfer outcomes"
DELAYS_TEST = "confirmation delays"
SYNC_METRICS = ("sync.divergences", "sync.diverged_seconds", "sync.unresolved", "chain.out_of_sync")


@attrs.frozen
class ShareRow:
    """One miner in both groups; a weight is ``None`` where the miner is not configured."""

    miner: str
    weight_a: float | None
    weight_b: float | None
    blocks_a: int
    blocks_b: int
    share_a: float | None
    share_b: float | None


@attrs.frozen
class CountRow:
    label: str
    a: int
    b: int


@attrs.frozen
class SyncRow:
    """A sync figure as a mean per run (``None``: not recorded)."""

    metric: str
    a: float | None
    b: float | None


@attrs.frozen
class MetricComparison:
    metric: str
    test: TwoSamples


@attrs.frozen
class Comparison:
    """Everything :func:`compare_groups` found. ``q_values`` maps each test name
    (the pooled tests' names, or a metric's name) to its q-value; a test missing
    from it had no p-value."""

    a: RunGroup
    b: RunGroup
    shares: tuple[ShareRow, ...]
    shares_test: Contingency | None
    intervals: Distributions
    outcomes: tuple[CountRow, ...] | None
    outcomes_test: Contingency | None
    delays: Distributions | None
    sync: tuple[SyncRow, ...]
    metrics: tuple[MetricComparison, ...]
    q_values: Mapping[str, float] = attrs.field(factory=dict, hash=False)

    def p_values(self) -> dict[str, float]:
        """Every test's p-value by name."""
        found = {
            SHARES_TEST: self.shares_test.p_value if self.shares_test else None,
            INTERVALS_TEST: self.intervals.p_value,
            OUTCOMES_TEST: self.outcomes_test.p_value if self.outcomes_test else None,
            DELAYS_TEST: self.delays.p_value if self.delays else None,
            **{m.metric: m.test.p_value for m in self.metrics},
        }
        return {name: p for name, p in found.items() if p is not None}

    def differs(self, test: str) -> bool | None:
        return differs(self.q_values, test)


class Judged(Protocol):
    """A set of named tests: their p-values, and the q-values :func:`q_values_of` computes."""

    @property
    def q_values(self) -> Mapping[str, float]: ...

    def p_values(self) -> dict[str, float]: ...


def differs(q_values: Mapping[str, float], test: str) -> bool | None:
    """Whether ``test`` found a difference (q < ALPHA); ``None``: there was no test."""
    q = q_values.get(test)
    return None if q is None else q < ALPHA


def compare(a: RunGroup, b: RunGroup) -> Comparison:
    """Compare two groups, with q-values over this comparison's own tests."""
    comparison = compare_groups(a, b)
    return attrs.evolve(comparison, q_values=q_values_of([comparison])[0])


def q_values_of(items: Sequence[Judged]) -> list[dict[str, float]]:
    """Each item's q-values by test name, adjusted over all the items' tests together."""
    keyed = [(i, name, p) for i, item in enumerate(items) for name, p in item.p_values().items()]
    q = adjust([p for _, _, p in keyed])
    per: list[dict[str, float]] = [{} for _ in items]
    for (i, name, _), value in zip(keyed, q, strict=True):
        per[i][name] = value
    return per


def compare_groups(a: RunGroup, b: RunGroup) -> Comparison:
    """Every test of the two groups, with raw p-values only (see :func:`q_values_of`)."""
    obs_a, obs_b = a.observations, b.observations
    shares = share_rows(obs_a, obs_b)
    outcomes = _outcomes(obs_a, obs_b)
    delays_a, delays_b = _delays(obs_a), _delays(obs_b)
    return Comparison(
        a=a,
        b=b,
        shares=shares,
        shares_test=contingency(
            [[r.blocks_a for r in shares], [r.blocks_b for r in shares]] if shares else []
        ),
        intervals=distributions(_pooled_gaps(obs_a), _pooled_gaps(obs_b)),
        outcomes=outcomes,
        outcomes_test=None
        if outcomes is None
        else contingency([[r.a for r in outcomes], [r.b for r in outcomes]]),
        delays=None
        if delays_a is None or delays_b is None
        else distributions([float(d) for d in delays_a], [float(d) for d in delays_b]),
        sync=tuple(
            SyncRow(m, _mean_per_run(obs_a, m), _mean_per_run(obs_b, m)) for m in SYNC_METRICS
        ),
        metrics=compare_metrics(obs_a, obs_b),
    )


def metric_names(observations: Sequence[Observation]) -> list[str]:
    """Every metric any of the runs has, in the order the runs name them."""
    names: dict[str, None] = {}
    for o in observations:
        names.update(dict.fromkeys(o.metrics))
    return list(names)


def compare_metrics(
    a: Sequence[Observation], b: Sequence[Observation]
) -> tuple[MetricComparison, ...]:
    """Welch's test of every metric both sides have values of."""
    found = []
    for name in metric_names([*a, *b]):
        test = two_samples(_values(a, name), _values(b, name))
        if test is not None:
            found.append(MetricComparison(name, test))
    return tuple(found)


def _values(observations: Sequence[Observation], metric: str) -> list[float]:
    return [v for o in observations if (v := o.value(metric)) is not None]


def _mean_per_run(observations: Sequence[Observation], metric: str) -> float | None:
    values = _values(observations, metric)
    return sum(values) / len(values) if values else None


def share_rows(a: Sequence[Observation], b: Sequence[Observation]) -> tuple[ShareRow, ...]:
    """Each miner's blocks pooled over each group's runs, and its weights."""
    blocks_a, blocks_b = _pooled_blocks(a), _pooled_blocks(b)
    weights_a, weights_b = a[0].weights, b[0].weights
    miners = list(dict.fromkeys([*weights_a, *weights_b]))
    total_a, total_b = sum(blocks_a.values()), sum(blocks_b.values())
    return tuple(
        ShareRow(
            miner=m,
            weight_a=weights_a.get(m),
            weight_b=weights_b.get(m),
            blocks_a=blocks_a[m],
            blocks_b=blocks_b[m],
            share_a=blocks_a[m] / total_a if total_a else None,
            share_b=blocks_b[m] / total_b if total_b else None,
        )
        for m in miners
    )


def _pooled_blocks(observations: Sequence[Observation]) -> Counter[str]:
    total: Counter[str] = Counter()
    for o in observations:
        total.update(o.blocks)
    return total


def _pooled_gaps(observations: Sequence[Observation]) -> list[float]:
    return [g for o in observations for g in o.gaps]


def _delays(observations: Sequence[Observation]) -> list[int] | None:
    if any(o.delays is None for o in observations):
        return None
    return [d for o in observations for d in o.delays or ()]


def _outcomes(a: Sequence[Observation], b: Sequence[Observation]) -> tuple[CountRow, ...] | None:
    def pooled(observations: Sequence[Observation]) -> Counter[str] | None:
        total: Counter[str] = Counter()
        for o in observations:
            if o.outcomes is None:
                return None
            total.update(o.outcomes)
        return total

    pooled_a, pooled_b = pooled(a), pooled(b)
    if pooled_a is None or pooled_b is None:
        return None
    labels = list(dict.fromkeys([*pooled_a, *pooled_b]))
    return tuple(CountRow(label, pooled_a[label], pooled_b[label]) for label in labels)
