"""A campaign's numbers: each cell's metrics across its seeds, and the cells compared.

Per cell, every metric (see :mod:`monerosim_core.analysis.observation`) is a mean
over the cell's runs with a 95 % Student-t interval: the run, one per seed, is the
independent unit. Block shares are also checked against the configured weights:
whether each interval contains its miner's weight, and a chi-square goodness of
fit of the blocks pooled over the seeds.

Between cells, each pair that differs in exactly one parameter (the effect of
that parameter with the others held) is compared: every metric by Welch's t-test
across seeds (with Mann-Whitney beside it and effect sizes), and the pooled block
counts by a chi-square test of independence. The q-values are adjusted over every
test of the campaign at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from monerosim_core.analysis.compare import (
    SHARES_TEST,
    MetricComparison,
    compare_metrics,
    differs,
    metric_names,
    q_values_of,
    share_rows,
)
from monerosim_core.analysis.observation import Observation, metric_range
from monerosim_core.analysis.stats import (
    Contingency,
    Estimate,
    GoodnessOfFit,
    contingency,
    estimate,
    goodness_of_fit,
)
from monerosim_core.campaign.cells import Cell
from monerosim_core.campaign.spec import Parameter


@attrs.frozen
class MetricEstimate:
    """``estimate`` is ``None`` when no run of the cell has the metric."""

    metric: str
    estimate: Estimate | None


@attrs.frozen
class ShareCheck:
    """A miner's share across seeds against its configured weight (normalised)."""

    miner: str
    weight: float
    estimate: Estimate | None
    contains: bool | None  # does the interval contain the weight? None: no interval


@attrs.frozen
class CellSummary:
    cell: Cell
    observations: tuple[Observation, ...]
    metrics: tuple[MetricEstimate, ...]
    shares: tuple[ShareCheck, ...]
    pooled_blocks: Mapping[str, int] = attrs.field(hash=False)
    fit: GoodnessOfFit | None  # pooled blocks against the weights

    def metric(self, name: str) -> Estimate | None:
        return next((m.estimate for m in self.metrics if m.metric == name), None)


@attrs.frozen
class CellPair:
    """Two cells that differ only in ``parameter``, and the tests between them."""

    a: Cell
    b: Cell
    parameter: str
    shares_test: Contingency | None
    metrics: tuple[MetricComparison, ...]
    q_values: Mapping[str, float] = attrs.field(factory=dict, hash=False)

    def p_values(self) -> dict[str, float]:
        found = {m.metric: m.test.p_value for m in self.metrics}
        if self.shares_test is not None:
            found[SHARES_TEST] = self.shares_test.p_value
        return {name: p for name, p in found.items() if p is not None}

    def differs(self, test: str) -> bool | None:
        return differs(self.q_values, test)


@attrs.frozen
class CampaignSummary:
    parameters: tuple[Parameter, ...]
    metrics: tuple[str, ...]  # every metric any run has, in a stable order
    cells: tuple[CellSummary, ...]
    pairs: tuple[CellPair, ...]


def summarise(
    parameters: Sequence[Parameter], cells: Sequence[tuple[Cell, Sequence[Observation]]]
) -> CampaignSummary:
    """Aggregate each cell's runs and compare the cells (cells without runs are kept,
    empty, so the report still lists them)."""
    every = [o for _, observations in cells for o in observations]
    names = tuple(metric_names(every))
    summaries = tuple(_cell(cell, observations, names) for cell, observations in cells)
    pairs = [
        _pair(a, b, parameter)
        for i, a in enumerate(summaries)
        for b in summaries[i + 1 :]
        if (parameter := _only_difference(a.cell, b.cell)) is not None
        and a.observations
        and b.observations
    ]
    judged = tuple(
        attrs.evolve(pair, q_values=q) for pair, q in zip(pairs, q_values_of(pairs), strict=True)
    )
    return CampaignSummary(tuple(parameters), names, summaries, judged)


def _cell(cell: Cell, observations: Sequence[Observation], names: Sequence[str]) -> CellSummary:
    def estimated(metric: str) -> Estimate | None:
        values = [v for o in observations if (v := o.value(metric)) is not None]
        return estimate(values, within=metric_range(metric))

    metrics = tuple(MetricEstimate(name, estimated(name)) for name in names)
    pooled: dict[str, int] = {}
    weights: dict[str, float] = {}
    for o in observations:
        weights.update(o.weights)
        for miner, blocks in o.blocks.items():
            pooled[miner] = pooled.get(miner, 0) + blocks
    shares = []
    for miner, weight in weights.items():
        found = estimated(f"share.{miner}")
        shares.append(
            ShareCheck(miner, weight, found, None if found is None else found.contains(weight))
        )
    fit = goodness_of_fit([pooled.get(m, 0) for m in weights], list(weights.values()))
    return CellSummary(cell, tuple(observations), metrics, tuple(shares), pooled, fit)


def _only_difference(a: Cell, b: Cell) -> str | None:
    """The one parameter ``a`` and ``b`` differ in, or ``None``."""
    differing = [
        sa.parameter.name
        for sa, sb in zip(a.settings, b.settings, strict=True)
        if sa.value != sb.value
    ]
    return differing[0] if len(differing) == 1 else None


def _pair(a: CellSummary, b: CellSummary, parameter: str) -> CellPair:
    rows = share_rows(a.observations, b.observations)
    return CellPair(
        a=a.cell,
        b=b.cell,
        parameter=parameter,
        shares_test=contingency([[r.blocks_a for r in rows], [r.blocks_b for r in rows]]),
        metrics=compare_metrics(a.observations, b.observations),
    )
