"""Writing a campaign's report: ``report.md``, ``summary.json``, ``runs.csv``, plots."""

from __future__ import annotations

from collections.abc import Sequence

from monerosim_core.campaign.cells import Cell
from monerosim_core.campaign.layout import (
    PLOTS_DIR,
    REPORT_MD,
    RUNS_CSV,
    SUMMARY_JSON,
    CampaignDir,
    CampaignState,
)
from monerosim_core.campaign.markdown import render_campaign
from monerosim_core.campaign.plots import write_campaign_plots
from monerosim_core.campaign.results import CampaignResults, collect
from monerosim_core.campaign.spec import CampaignSpec
from monerosim_core.campaign.summary_json import campaign_json
from monerosim_core.campaign.table import write_runs_csv
from monerosim_core.records.files import write_json_atomic


def write_campaign_report(
    spec: CampaignSpec, cells: Sequence[Cell], directory: CampaignDir, state: CampaignState
) -> CampaignResults:
    """Summarise the completed runs and write every output file of the campaign."""
    results = collect(spec, cells, directory, state)
    write_runs_csv(results, directory.root / RUNS_CSV)
    plots = write_campaign_plots(
        directory.root / PLOTS_DIR, results.summary, results.spec.plot_metrics
    )
    write_json_atomic(directory.root / SUMMARY_JSON, campaign_json(results))
    (directory.root / REPORT_MD).write_text(render_campaign(results, plots), encoding="utf-8")
    return results


def terminal_summary(results: CampaignResults) -> str:
    """A few lines for the end of ``monerosim campaign``."""
    counts = results.state.counts()
    lines = [
        f"campaign report: {results.directory.root / REPORT_MD} "
        f"({counts['completed']} of {len(results.state.runs)} runs completed)"
    ]
    for cell in results.summary.cells:
        if not cell.shares or not cell.observations:
            continue
        misses = [s.miner for s in cell.shares if s.contains is False]
        fit = cell.fit
        p = "" if fit is None else f"; pooled chi-square p = {fit.p_value:.3g}"
        lines.append(
            f"  {cell.cell.name}: {len(cell.observations)} seeds; block-share CIs containing "
            f"the weight: {len(cell.shares) - len(misses)}/{len(cell.shares)}{p}"
        )
    for pair in results.summary.pairs:
        found = [m.metric for m in pair.metrics if pair.differs(m.metric)]
        lines.append(
            f"  {pair.a.name} vs {pair.b.name}: "
            + (f"differ in {', '.join(found)}" if found else "no metric differs")
        )
    return "\n".join(lines)
