"""The report's PNG plots, drawn when the optional ``plots`` extra (matplotlib) is there.

Figures are built with matplotlib's object API on an explicit Agg canvas rather
than through pyplot, so writing a report never touches a display or the pyplot
global state of a process that imported monerosim.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from monerosim_core.records.layout import NODE_STATUS_FILE
from monerosim_core.records.schema import NodeStatusRecord
from monerosim_core.report.blocks import MinerShare

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BLOCKS_PNG = "blocks_per_miner.png"
INTERVALS_PNG = "inter_block_times.png"
HEIGHTS_PNG = "node_heights.png"
ALL_PNGS = (BLOCKS_PNG, INTERVALS_PNG, HEIGHTS_PNG)
# Beyond this many nodes a legend hides the plot; the lines still show the spread.
_MAX_LEGEND = 12


@attrs.frozen
class PlotOutcome:
    """Which plots were written (file names in the report directory) and why others were not.

    ``unavailable`` is set, and nothing drawn, when matplotlib cannot be imported.
    """

    files: tuple[str, ...]
    skipped: tuple[str, ...]
    unavailable: str | None = None


def matplotlib_missing() -> PlotOutcome | None:
    """None when matplotlib can draw; otherwise the outcome that says why nothing was."""
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
    except ImportError as exc:
        return PlotOutcome(
            files=(),
            skipped=(),
            unavailable=f"matplotlib is not importable ({exc}); "
            "install the extra with `pip install 'monerosim-core[plots]'`",
        )
    return None


def png_saver(out_dir: Path, files: list[str]) -> Callable[[str, Figure], None]:
    """A function that writes a figure as ``out_dir/name`` (on an Agg canvas) and
    adds ``name`` to ``files``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def save(name: str, figure: Figure) -> None:
        FigureCanvasAgg(figure)
        figure.savefig(out_dir / name, dpi=100)
        files.append(name)

    return save


def write_plots(
    out_dir: Path,
    *,
    shares: Sequence[MinerShare],
    gaps: Sequence[float],
    configured_interval: float,
    samples: Sequence[NodeStatusRecord] | None,
) -> PlotOutcome:
    """Draw every plot the data allows into ``out_dir``."""
    # A plot from an earlier report of the same run would otherwise sit next to a
    # summary that says it was not drawn.
    for name in ALL_PNGS:
        (out_dir / name).unlink(missing_ok=True)
    missing = matplotlib_missing()
    if missing is not None:
        return missing
    from matplotlib.figure import Figure

    files: list[str] = []
    skipped: list[str] = []
    save = png_saver(out_dir, files)

    if shares:
        save(BLOCKS_PNG, _blocks_figure(Figure(figsize=(8, 4.5), layout="constrained"), shares))
    else:
        skipped.append(f"{BLOCKS_PNG}: no miners")
    if gaps:
        figure = Figure(figsize=(8, 4.5), layout="constrained")
        save(INTERVALS_PNG, _intervals_figure(figure, gaps, configured_interval))
    else:
        skipped.append(f"{INTERVALS_PNG}: fewer than two non-bootstrap blocks")
    if samples is None:
        skipped.append(f"{HEIGHTS_PNG}: {NODE_STATUS_FILE} not recorded")
    elif not any(r.height is not None for s in samples for r in s.nodes.values()):
        skipped.append(f"{HEIGHTS_PNG}: no node height in {NODE_STATUS_FILE}")
    else:
        save(HEIGHTS_PNG, _heights_figure(Figure(figsize=(9, 6), layout="constrained"), samples))
    return PlotOutcome(files=tuple(files), skipped=tuple(skipped))


def _blocks_figure(figure: Figure, shares: Sequence[MinerShare]) -> Figure:
    ax = figure.add_subplot()
    xs = range(len(shares))
    width = 0.4
    ax.bar([x - width / 2 for x in xs], [s.observed for s in shares], width, label="observed")
    ax.bar([x + width / 2 for x in xs], [s.expected for s in shares], width, label="expected")
    ax.set_xticks(list(xs), [s.agent_id for s in shares], rotation=45 if len(shares) > 6 else 0)
    ax.set_ylabel("non-bootstrap blocks")
    ax.set_title("Blocks per miner: observed vs expected from hashrate share")
    ax.legend()
    return figure


def _intervals_figure(figure: Figure, gaps: Sequence[float], configured: float) -> Figure:
    ax = figure.add_subplot()
    bins = max(5, min(40, round(math.sqrt(len(gaps)))))
    ax.hist(gaps, bins=bins, color="tab:blue", alpha=0.8)
    ax.axvline(configured, color="tab:red", linestyle="--", label=f"configured {configured:g} s")
    mean = sum(gaps) / len(gaps)
    ax.axvline(mean, color="black", linestyle=":", label=f"mean {mean:.1f} s")
    ax.set_xlabel("simulated seconds between consecutive blocks")
    ax.set_ylabel("intervals")
    ax.set_title("Inter-block times (non-bootstrap)")
    ax.legend()
    return figure


def _heights_figure(figure: Figure, samples: Sequence[NodeStatusRecord]) -> Figure:
    # Heights alone overlap into one line; the lower panel, blocks behind the highest
    # node at each sample, is where a lagging or forked node shows.
    top, lag = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    ordered = sorted(samples, key=lambda s: s.sim_time)
    highest = {
        s.sim_time: max((r.height for r in s.nodes.values() if r.height is not None), default=0)
        for s in ordered
    }
    agents = sorted({a for s in ordered for a, r in s.nodes.items() if r.height is not None})
    for agent in agents:
        points = [
            (s.sim_time, r.height)
            for s in ordered
            if (r := s.nodes.get(agent)) is not None and r.height is not None
        ]
        times = [t for t, _ in points]
        top.step(times, [h for _, h in points], where="post", label=agent, linewidth=1)
        lag.step(times, [highest[t] - h for t, h in points], where="post", linewidth=1)
    top.set_ylabel("height")
    top.set_title("Node heights over time (monitor samples)")
    lag.set_ylabel("blocks behind")
    lag.set_xlabel("simulated seconds")
    if len(agents) <= _MAX_LEGEND:
        top.legend(fontsize="small")
    return figure
