"""A comparison as markdown text, as ``monerosim compare`` prints it."""

from __future__ import annotations

from collections.abc import Callable

from monerosim_core.analysis.compare import (
    ALPHA,
    DELAYS_TEST,
    INTERVALS_TEST,
    OUTCOMES_TEST,
    SHARES_TEST,
    Comparison,
)
from monerosim_core.analysis.groups import RunGroup
from monerosim_core.analysis.stats import Contingency, Distributions
from monerosim_core.report.render.fmt import NOT_RECORDED, count, md_cell, md_table, pct

# Contingency tables with expected counts under this are flagged as rough.
_ROUGH_EXPECTED = 5.0


def render_comparison(c: Comparison) -> str:
    tests = len(c.q_values)
    lines = [
        "# monerosim compare",
        "",
        f"- A: {_group(c.a)}",
        f"- B: {_group(c.b)}",
        "",
        f"A difference is called where q < {ALPHA:g}: q is the Benjamini-Hochberg "
        f"adjusted p-value over the {count(tests, 'test')} below. Pooled tests take every "
        "block, gap or transfer as independent.",
        "",
        *_shares(c),
        *_intervals(c),
        *_transfers(c),
        *_sync(c),
        *_metrics(c),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _group(g: RunGroup) -> str:
    runs = len(g.observations)
    seeds = ", ".join(str(s) for s in g.seeds)
    text = f"`{g.path}`: {runs} run{'s' if runs > 1 else ''} (seed{'s' if runs > 1 else ''} "
    text += f"{seeds}), config `{g.observations[0].config}`"
    if g.skipped:
        text += f"; left out: {'; '.join(g.skipped)}"
    return text


def _p(value: float) -> str:
    return f"{value:.3g}" if value > 0 else "< 1e-300"


def _verdict(c: Comparison, test: str, what: str) -> str:
    differs = c.differs(test)
    if differs is None:
        return "no test."
    q = f"q = {_p(c.q_values[test])}"
    return f"**{what} differ** ({q})." if differs else f"no evidence that {what} differ ({q})."


def _contingency(c: Comparison, test: str, result: Contingency | None, what: str) -> str:
    if result is None:
        return f"Chi-square test: none (fewer than two categories with counts); {what}."
    rough = (
        f" Some expected counts are under {_ROUGH_EXPECTED:g} "
        f"(smallest {result.min_expected:.2f}): the p-value is rough."
        if result.min_expected < _ROUGH_EXPECTED
        else ""
    )
    return (
        f"Chi-square test of independence: chi2 = {result.statistic:.3f}, dof {result.dof}, "
        f"p = {_p(result.p_value)}, Cramér's V = {result.cramers_v:.3f}: "
        f"{_verdict(c, test, what)}{rough}"
    )


def _shares(c: Comparison) -> list[str]:
    rows = [
        [
            r.miner,
            pct(r.weight_a),
            pct(r.weight_b),
            str(r.blocks_a),
            pct(r.share_a),
            str(r.blocks_b),
            pct(r.share_b),
        ]
        for r in c.shares
    ]
    return [
        "## Block shares",
        "",
        *md_table(
            ["miner", "weight A", "weight B", "blocks A", "share A", "blocks B", "share B"], rows
        ),
        "",
        _contingency(c, SHARES_TEST, c.shares_test, "the shares"),
        "",
    ]


def _distribution_table(d: Distributions, unit: str, show: Callable[[float], str]) -> list[str]:
    def opt(value: float | None) -> str:
        return "" if value is None else show(value)

    return md_table(
        ["", "A", "B"],
        [
            ["count", str(d.n_a), str(d.n_b)],
            [f"mean ({unit})", opt(d.mean_a), opt(d.mean_b)],
            [f"median ({unit})", opt(d.median_a), opt(d.median_b)],
        ],
    )


def _ks(c: Comparison, test: str, d: Distributions, what: str) -> str:
    if d.statistic is None:
        return "Kolmogorov-Smirnov test: none (a side is empty, or both are one constant)."
    return (
        f"Kolmogorov-Smirnov test: D = {d.statistic:.3f}, p = {_p(d.p_value or 0.0)}: "
        f"{_verdict(c, test, what)}"
    )


def _intervals(c: Comparison) -> list[str]:
    return [
        "## Inter-block times",
        "",
        *_distribution_table(c.intervals, "simulated s", lambda v: f"{v:.2f}"),
        "",
        _ks(c, INTERVALS_TEST, c.intervals, "the inter-block times"),
        "",
    ]


def _transfers(c: Comparison) -> list[str]:
    if c.outcomes is None:
        return ["## Transfers", "", f"Transfers {NOT_RECORDED} in one or both groups.", ""]
    out = [
        "## Transfers",
        "",
        *md_table(
            ["outcome", "A", "B"], [[md_cell(r.label), str(r.a), str(r.b)] for r in c.outcomes]
        ),
        "",
        _contingency(c, OUTCOMES_TEST, c.outcomes_test, "the outcomes"),
        "",
    ]
    if c.delays is not None:
        out += [
            "Confirmation delay (blocks from sending to the confirming block):",
            "",
            *_distribution_table(c.delays, "blocks", lambda v: f"{v:.2f}"),
            "",
            _ks(c, DELAYS_TEST, c.delays, "the delays"),
            "",
        ]
    return out


def _sync(c: Comparison) -> list[str]:
    def show(value: float | None) -> str:
        return NOT_RECORDED if value is None else f"{value:g}"

    return [
        "## Sync (mean per run)",
        "",
        *md_table(["", "A", "B"], [[r.metric, show(r.a), show(r.b)] for r in c.sync]),
        "",
    ]


def _metrics(c: Comparison) -> list[str]:
    if len(c.a.observations) < 2 or len(c.b.observations) < 2:
        return [
            "## Metrics across runs",
            "",
            "Needs at least two runs on each side (e.g. two campaign cells); with single "
            "runs only the pooled tests above apply.",
            "",
        ]
    rows = []
    for m in c.metrics:
        t = m.test
        interval = (
            f"[{t.difference_low:.4g}, {t.difference_high:.4g}]"
            if t.difference_low is not None and t.difference_high is not None
            else ""
        )
        q = c.q_values.get(m.metric)
        differs = c.differs(m.metric)
        rows.append(
            [
                m.metric,
                f"{t.mean_a:.4g}",
                f"{t.mean_b:.4g}",
                f"{t.difference:+.4g} {interval}".strip(),
                "" if t.effect is None else f"{t.effect:+.2f}",
                "" if t.p_value is None else _p(t.p_value),
                "" if q is None else _p(q),
                "" if t.mw_p_value is None else _p(t.mw_p_value),
                t.note or ("**yes**" if differs else "no"),
            ]
        )
    return [
        "## Metrics across runs",
        "",
        "One value per run; Welch's t-test, the difference B - A with its 95 % interval, "
        "Hedges' g, and Mann-Whitney's p beside it.",
        "",
        *md_table(
            ["metric", "mean A", "mean B", "B - A [95% CI]", "g", "p", "q", "MW p", "differs"],
            rows,
        ),
        "",
    ]
