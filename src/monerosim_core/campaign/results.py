"""A campaign's results: the completed runs read back and summarised, with the runs
that could not be read, as the report, the CSV and the plots use them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from monerosim_core.analysis.observation import Observation, observe
from monerosim_core.campaign.cells import Cell
from monerosim_core.campaign.layout import CampaignDir, CampaignState
from monerosim_core.campaign.spec import CampaignSpec
from monerosim_core.campaign.summary import CampaignSummary, summarise
from monerosim_core.report import ReportError


@attrs.frozen
class CampaignResults:
    """``observations`` maps a run's directory (as in ``campaign.json``) to what it
    measured; ``unreadable`` a completed run's directory to why it could not be read."""

    spec: CampaignSpec
    directory: CampaignDir
    state: CampaignState
    cells: tuple[Cell, ...]
    summary: CampaignSummary
    observations: Mapping[str, Observation] = attrs.field(hash=False)
    unreadable: Mapping[str, str] = attrs.field(hash=False)


def collect(
    spec: CampaignSpec, cells: Sequence[Cell], directory: CampaignDir, state: CampaignState
) -> CampaignResults:
    """Read every completed run of ``state`` and summarise the campaign."""
    observations: dict[str, Observation] = {}
    unreadable: dict[str, str] = {}
    for run in state.runs:
        if run.status != "completed":
            continue
        try:
            observations[run.run_dir] = observe(directory.root / run.run_dir)
        except ReportError as exc:
            unreadable[run.run_dir] = str(exc)
    per_cell = [
        (
            cell,
            [
                observations[r.run_dir]
                for r in state.runs
                if r.cell == cell.name and r.run_dir in observations
            ],
        )
        for cell in cells
    ]
    return CampaignResults(
        spec=spec,
        directory=directory,
        state=state,
        cells=tuple(cells),
        summary=summarise(spec.parameters, per_cell),
        observations=observations,
        unreadable=unreadable,
    )
