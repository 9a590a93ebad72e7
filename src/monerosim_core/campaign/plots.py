"""The campaign's PNG plots (the optional ``plots`` extra, matplotlib).

* ``shares.png``: each cell's block shares across seeds against the configured
  weights: one dot per seed, the mean with its 95 % interval, the weight in red;
* ``vs_<parameter>.png``: the plotted metrics against each swept parameter, the
  mean with its 95 % interval, one line per setting of the other parameters;
* ``distributions.png``: the plotted metrics per cell, a box plot of the seeds'
  values with the values on top.

As in the run report (:mod:`monerosim_core.report.plots`), figures are drawn on an
explicit Agg canvas, never through pyplot.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from monerosim_core.campaign.cells import Cell, show_value
from monerosim_core.campaign.spec import Parameter
from monerosim_core.campaign.summary import CampaignSummary, CellSummary
from monerosim_core.report.plots import PlotOutcome, matplotlib_missing, png_saver

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SHARES_PNG = "shares.png"
DISTRIBUTIONS_PNG = "distributions.png"
# What the metric plots show unless the campaign file names its own plot_metrics:
# the outcomes researchers compare strategies and settings by.
DEFAULT_PLOT_METRICS = (
    "transfers.confirmed",
    "transfers.failed",
    "confirmation.mean_blocks",
    "fees.mean",
    "intervals.mean",
    "sync.divergences",
)
_MOST_CELLS = 12  # subplots of shares.png; more would be unreadable
_COLUMNS = 3


def vs_png(parameter: str) -> str:
    return f"vs_{re.sub(r'[^A-Za-z0-9_.-]', '_', parameter)}.png"


def cell_label(cell: Cell) -> str:
    """A cell as axis ticks show it: its values (the axis title names the parameters)."""
    return ", ".join(show_value(s.value) for s in cell.settings) or cell.name


def write_campaign_plots(
    out_dir: Path, summary: CampaignSummary, plot_metrics: Sequence[str]
) -> PlotOutcome:
    """Draw every plot the campaign's data allows into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.png"):
        stale.unlink()  # a plot the data no longer allows must not linger
    missing = matplotlib_missing()
    if missing is not None:
        return missing
    files: list[str] = []
    skipped: list[str] = []
    save = png_saver(out_dir, files)

    with_runs = [c for c in summary.cells if c.observations]
    if not with_runs:
        return PlotOutcome((), ("every plot: no completed run",))
    shown = [c for c in with_runs if c.shares][:_MOST_CELLS]
    if shown:
        save(SHARES_PNG, _shares_figure(shown))
        if len(with_runs) > _MOST_CELLS:
            skipped.append(f"{SHARES_PNG}: only the first {_MOST_CELLS} cells are drawn")
    else:
        skipped.append(f"{SHARES_PNG}: no miners")
    wanted = list(plot_metrics) or list(DEFAULT_PLOT_METRICS)
    metrics = [m for m in wanted if any(c.metric(m) is not None for c in with_runs)]
    skipped += [f"metric {m}: no run has a value of it" for m in wanted if m not in metrics]
    if not metrics:
        return PlotOutcome(tuple(files), tuple(skipped))
    for parameter in summary.parameters:
        if len(parameter.values) > 1:
            save(vs_png(parameter.name), _versus_figure(summary, parameter, metrics))
    save(DISTRIBUTIONS_PNG, _distributions_figure(with_runs, metrics))
    return PlotOutcome(tuple(files), tuple(skipped))


def _panels(count: int, width: float = 5.0, height: float = 3.8) -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels, up to three a row."""
    from matplotlib.figure import Figure

    columns = min(_COLUMNS, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    return figure, [figure.add_subplot(rows, columns, i + 1) for i in range(count)]


def _spread(count: int, width: float = 0.3) -> list[float]:
    """Evenly spaced offsets around 0, so the seeds' dots do not hide each other."""
    if count <= 1:
        return [0.0] * count
    return [-width / 2 + width * i / (count - 1) for i in range(count)]


def _shares_figure(cells: Sequence[CellSummary]) -> Figure:
    figure, axes = _panels(len(cells), width=5.5)
    for ax, cell in zip(axes, cells, strict=True):
        miners = [s.miner for s in cell.shares]
        xs = list(range(len(miners)))
        seeds = cell.observations
        offsets = _spread(len(seeds))
        for offset, observation in zip(offsets, seeds, strict=True):
            values = [observation.value(f"share.{m}") for m in miners]
            points = [(x + offset, v) for x, v in zip(xs, values, strict=True) if v is not None]
            ax.scatter(
                [p[0] for p in points], [p[1] for p in points], s=10, color="tab:gray", alpha=0.6
            )
        for x, share in zip(xs, cell.shares, strict=True):
            e = share.estimate
            if e is not None:
                low = e.mean - e.low if e.low is not None else 0.0
                high = e.high - e.mean if e.high is not None else 0.0
                ax.errorbar([x], [e.mean], yerr=[[low], [high]], fmt="o", color="black", capsize=6)
            ax.plot([x - 0.35, x + 0.35], [share.weight] * 2, color="tab:red", linewidth=2)
        ax.set_xticks(xs, miners, rotation=45 if len(miners) > 4 else 0, fontsize="small")
        # A share lies in [0, 1]; an interval from few seeds can reach past it, and
        # scaling the axis to that would flatten the dots that matter.
        seen = [s.weight for s in cell.shares] + [
            v for o in seeds for m in miners if (v := o.value(f"share.{m}")) is not None
        ]
        ax.set_ylim(0.0, min(1.0, 1.3 * max(seen)))
        ax.set_ylabel("share of blocks")
        ax.set_title(f"{cell.cell.name} ({len(seeds)} seeds)", fontsize="small")
    figure.suptitle(
        "Block shares per seed (gray), mean with 95 % CI (black), configured weight (red)"
    )
    return figure


def _numeric(values: Sequence[object]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _versus_figure(
    summary: CampaignSummary, parameter: Parameter, metrics: Sequence[str]
) -> Figure:
    figure, axes = _panels(len(metrics))
    numeric = _numeric(parameter.values)
    position = {
        v: float(v) if numeric and isinstance(v, int | float) else float(i)
        for i, v in enumerate(parameter.values)
    }
    others = [p.name for p in summary.parameters if p.name != parameter.name]
    series: dict[tuple[str, ...], list[CellSummary]] = {}
    for cell in summary.cells:
        if cell.observations:
            key = tuple(show_value(cell.cell.value_of(o)) for o in others)
            series.setdefault(key, []).append(cell)
    # Lines of several series sit side by side at each x, a fraction of a step apart.
    step = min((b - a for a, b in itertools.pairwise(sorted(position.values()))), default=1.0)
    offsets = _spread(len(series), width=0.15 * step)
    for ax, metric in zip(axes, metrics, strict=True):
        for offset, (key, cells) in zip(offsets, series.items(), strict=True):
            points = []
            for cell in cells:
                e = cell.metric(metric)
                if e is not None:
                    x = position[cell.cell.value_of(parameter.name)] + offset
                    low = e.mean - e.low if e.low is not None else 0.0
                    high = e.high - e.mean if e.high is not None else 0.0
                    points.append((x, e.mean, low, high))
            points.sort()
            label = ", ".join(f"{n}={v}" for n, v in zip(others, key, strict=True)) or None
            ax.errorbar(
                [p[0] for p in points],
                [p[1] for p in points],
                yerr=[[p[2] for p in points], [p[3] for p in points]],
                fmt="o-" if numeric else "o",  # a line only where the values are ordered
                capsize=4,
                label=label,
            )
        ax.set_xticks(list(position.values()), [show_value(v) for v in parameter.values])
        ax.set_xlabel(parameter.name)
        ax.set_title(metric, fontsize="medium")
        if len(series) > 1:
            ax.legend(fontsize="x-small")
    figure.suptitle(f"Metrics against {parameter.path}: mean over seeds with 95 % CI")
    return figure


def _distributions_figure(cells: Sequence[CellSummary], metrics: Sequence[str]) -> Figure:
    figure, axes = _panels(len(metrics))
    for ax, metric in zip(axes, metrics, strict=True):
        data = []
        labels = []
        for cell in cells:
            values = [v for o in cell.observations if (v := o.value(metric)) is not None]
            if values:
                data.append(values)
                labels.append(cell_label(cell.cell))
        positions = list(range(1, len(data) + 1))
        ax.boxplot(data, positions=positions, widths=0.5)
        for x, values in zip(positions, data, strict=True):
            offsets = _spread(len(values), width=0.25)
            ax.scatter(
                [x + o for o in offsets], values, s=10, color="tab:blue", alpha=0.7, zorder=3
            )
        ax.set_xticks(positions, labels, rotation=30 if len(labels) > 3 else 0, fontsize="small")
        ax.set_title(metric, fontsize="medium")
    names = ", ".join(p.name for p in _parameters_of(cells)) or "cell"
    figure.suptitle(f"Per-seed values by {names} (box: quartiles; dots: seeds)")
    return figure


def _parameters_of(cells: Sequence[CellSummary]) -> list[Parameter]:
    return [s.parameter for s in cells[0].cell.settings] if cells else []
