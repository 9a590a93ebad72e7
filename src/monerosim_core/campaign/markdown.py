"""The campaign report as markdown, as written to ``CAMPAIGN_DIR/report.md``."""

from __future__ import annotations

from collections.abc import Sequence

from monerosim_core.analysis.compare import ALPHA, SHARES_TEST
from monerosim_core.analysis.stats import Estimate
from monerosim_core.campaign.cells import show_value
from monerosim_core.campaign.layout import PLOTS_DIR
from monerosim_core.campaign.plots import DISTRIBUTIONS_PNG, SHARES_PNG, vs_png
from monerosim_core.campaign.results import CampaignResults
from monerosim_core.campaign.summary import CellPair, CellSummary
from monerosim_core.report.plots import PlotOutcome
from monerosim_core.report.render.fmt import count, md_cell, md_table, pct

_COLUMNS_PER_TABLE = 6  # cells side by side in one metrics table


def estimate_text(e: Estimate | None, show: str = ".4g") -> str:
    """``mean [low, high]``, as every table of the report shows an estimate."""
    if e is None:
        return ""
    if e.low is None or e.high is None:
        return f"{e.mean:{show}} (1 run)"
    return f"{e.mean:{show}} [{e.low:{show}}, {e.high:{show}}]"


def _p(value: float) -> str:
    return f"{value:.3g}" if value > 0 else "< 1e-300"


def render_campaign(results: CampaignResults, plots: PlotOutcome) -> str:
    state, summary = results.state, results.summary
    counts = state.counts()
    took = [r.wall_seconds for r in state.runs if r.wall_seconds is not None]
    lines = [
        "# monerosim campaign report",
        "",
        f"Campaign `{state.campaign_file}` on the base scenario `{state.scenario}`: "
        f"{len(results.cells)} cell(s) x {len(state.seeds)} seed(s) = {len(state.runs)} runs; "
        f"{counts['completed']} completed, {counts['failed']} failed, "
        f"{counts['interrupted'] + counts['running']} interrupted, {counts['pending']} not run.",
        "",
    ]
    if took:
        lines += [
            f"Wall time of the runs: {sum(took) / 60:.1f} min in all, "
            f"{sum(took) / len(took):.0f} s per run on average.",
            "",
        ]
    lines += _not_completed(results)
    lines += _cells(results)
    lines += _shares(summary.cells)
    lines += _metrics(summary.cells, summary.metrics)
    lines += _differences(summary.pairs)
    lines += _plots(results, plots)
    lines += _reading()
    return "\n".join(lines).rstrip() + "\n"


def _not_completed(results: CampaignResults) -> list[str]:
    rows = [
        [r.cell, str(r.seed), r.status, str(r.attempts), md_cell(r.reason or "")]
        for r in results.state.runs
        if r.status != "completed"
    ]
    rows += [
        [r.cell, str(r.seed), "unreadable", str(r.attempts), md_cell(results.unreadable[r.run_dir])]
        for r in results.state.runs
        if r.run_dir in results.unreadable
    ]
    if not rows:
        return []
    return [
        "## Runs left out",
        "",
        "Not in the figures below; running the campaign again retries them.",
        "",
        *md_table(["cell", "seed", "status", "attempts", "why"], rows),
        "",
    ]


def _cells(results: CampaignResults) -> list[str]:
    parameters = results.spec.parameters
    if not parameters:
        return []
    rows = []
    for cell in results.summary.cells:
        rows.append(
            [
                cell.cell.name,
                *(md_cell(show_value(s.value)) for s in cell.cell.settings),
                str(len(cell.observations)),
            ]
        )
    return [
        "## Cells",
        "",
        "Parameters: " + "; ".join(f"`{p.name}` is `{p.path}`" for p in parameters) + ".",
        "",
        *md_table(["cell", *(p.name for p in parameters), "runs"], rows),
        "",
    ]


def _shares(cells: Sequence[CellSummary]) -> list[str]:
    out = [
        "## Block shares against the configured weights",
        "",
        "Each miner's share of the non-bootstrap blocks, mean over seeds with its 95 % "
        "interval, against its configured weight (hashrate / total). The chi-square test "
        f"pools every seed's blocks; p < {ALPHA:g} says the winners do not follow the weights.",
        "",
    ]
    for cell in cells:
        if not cell.observations or not cell.shares:
            continue
        misses = sum(1 for s in cell.shares if s.contains is False)
        rows = [
            [
                s.miner,
                pct(s.weight),
                estimate_text(_as_percent(s.estimate), ".2f"),
                {True: "yes", False: "**no**", None: ""}[s.contains],
            ]
            for s in cell.shares
        ]
        out += [
            f"### {cell.cell.name}"
            if cell.cell.settings
            else f"### {len(cell.observations)} seeds",
            "",
            *md_table(["miner", "weight", "share % [95% CI]", "weight in CI"], rows),
            "",
            _fit_line(cell, misses),
            "",
        ]
    return out


def _as_percent(e: Estimate | None) -> Estimate | None:
    if e is None:
        return None
    scale = 100.0
    return Estimate(
        e.n,
        e.mean * scale,
        None if e.sd is None else e.sd * scale,
        None if e.low is None else e.low * scale,
        None if e.high is None else e.high * scale,
    )


def _fit_line(cell: CellSummary, misses: int) -> str:
    blocks = sum(cell.pooled_blocks.values())
    text = f"{misses} of {len(cell.shares)} intervals miss their weight. "
    fit = cell.fit
    if fit is None:
        return text + "No chi-square test (fewer than two miners with blocks)."
    verdict = "consistent with" if fit.p_value >= ALPHA else "**NOT consistent** with"
    rough = (
        f" (some expected counts are under 5, smallest {fit.min_expected:.1f}: rough)"
        if fit.min_expected < 5
        else ""
    )
    return (
        text + f"Pooled over {len(cell.observations)} seeds ({blocks} blocks): chi2 = "
        f"{fit.statistic:.2f}, dof {fit.dof}, p = {_p(fit.p_value)}, {verdict} the weights{rough}."
    )


def _metrics(cells: Sequence[CellSummary], metrics: Sequence[str]) -> list[str]:
    with_runs = [c for c in cells if c.observations]
    if not with_runs:
        return ["## Metrics", "", "No completed run.", ""]
    out = [
        "## Metrics per cell",
        "",
        "Mean over seeds [95 % Student-t interval, cut to the values the metric can take]; "
        "metric names are explained in `monerosim_core/analysis/observation.py`.",
        "",
    ]
    for start in range(0, len(with_runs), _COLUMNS_PER_TABLE):
        chunk = with_runs[start : start + _COLUMNS_PER_TABLE]
        header = ["metric", *(c.cell.name if c.cell.settings else "all seeds" for c in chunk)]
        rows = [[m, *(estimate_text(c.metric(m)) for c in chunk)] for m in metrics]
        out += [*md_table(header, rows), ""]
    return out


def _differences(pairs: Sequence[CellPair]) -> list[str]:
    if not pairs:
        return []
    tests = sum(len(p.q_values) for p in pairs)
    out = [
        "## Differences between cells",
        "",
        "Each pair of cells that differ in one parameter. Per metric: Welch's t-test "
        "over seeds, the difference B - A with its 95 % interval, Hedges' g, and "
        "Mann-Whitney's p beside it. Block counts pooled over seeds: chi-square test of "
        f"independence with Cramér's V. A difference is called at q < {ALPHA:g}, q being "
        f"the Benjamini-Hochberg adjusted p over the campaign's {count(tests, 'test')}. Only "
        "metrics with a difference are listed; summary.json has every test.",
        "",
    ]
    for pair in pairs:
        out += [f"### {pair.parameter}: A = {pair.a.name}, B = {pair.b.name}", ""]
        test = pair.shares_test
        if test is not None:
            q = pair.q_values.get(SHARES_TEST)
            called = "**differ**" if pair.differs(SHARES_TEST) else "no evidence they differ"
            out += [
                f"- Block shares: chi2 = {test.statistic:.2f}, dof {test.dof}, "
                f"p = {_p(test.p_value)}, q = {_p(q) if q is not None else ''}, "
                f"V = {test.cramers_v:.3f}: {called}.",
                "",
            ]
        found = [m for m in pair.metrics if pair.differs(m.metric)]
        if not found:
            out += [f"- No metric differs (of {len(pair.metrics)} compared).", ""]
            continue
        rows = []
        for m in found:
            t = m.test
            ci = (
                f" [{t.difference_low:.4g}, {t.difference_high:.4g}]"
                if t.difference_low is not None and t.difference_high is not None
                else ""
            )
            rows.append(
                [
                    m.metric,
                    f"{t.mean_a:.4g}",
                    f"{t.mean_b:.4g}",
                    f"{t.difference:+.4g}{ci}",
                    "" if t.effect is None else f"{t.effect:+.2f}",
                    "" if t.p_value is None else _p(t.p_value),
                    _p(pair.q_values[m.metric]),
                    "" if t.mw_p_value is None else _p(t.mw_p_value),
                ]
            )
        out += [
            *md_table(
                ["metric", "mean A", "mean B", "B - A [95% CI]", "g", "p", "q", "MW p"], rows
            ),
            "",
            f"{len(pair.metrics) - len(found)} other metrics show no difference.",
            "",
        ]
    return out


def _plots(results: CampaignResults, plots: PlotOutcome) -> list[str]:
    out = ["## Plots", ""]
    if plots.unavailable is not None:
        return [*out, f"Not drawn: {plots.unavailable}.", ""]
    titles = {
        SHARES_PNG: "Block shares across seeds against the configured weights",
        DISTRIBUTIONS_PNG: "Per-seed values per cell",
        **{vs_png(p.name): f"Metrics against {p.name}" for p in results.spec.parameters},
    }
    for name in plots.files:
        out += [f"![{titles.get(name, name)}]({PLOTS_DIR}/{name})", ""]
    out += [f"- not drawn: {s}" for s in plots.skipped]
    return [*out, ""]


def _reading() -> list[str]:
    return [
        "## Reading the intervals",
        "",
        "A 95 % interval comes from the spread of the seeds: had the campaign been "
        "repeated with other seeds, 95 of 100 such intervals would contain the true mean. "
        "So 1 interval in 20 misses by chance: with 7 miners, at least one miss happens in "
        "about 30 % of campaigns even when the model is right. A miss says more when it is "
        "far, or when the pooled chi-square agrees. Intervals narrow with the square root "
        "of the number of seeds (4x the seeds, half the width).",
        "",
    ]
