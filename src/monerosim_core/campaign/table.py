"""``runs.csv``: one row per run, one column per variable (tidy data for pandas or R).

Columns: ``cell``, one per grid parameter (its short name), ``seed``, ``status``,
``attempts``, ``wall_seconds``, ``pace``, ``run_dir``, ``reason``, then every
metric (see :mod:`monerosim_core.analysis.observation`). An empty field is a value
the run did not record (or a run that did not complete).
"""

from __future__ import annotations

import csv
from pathlib import Path

from monerosim_core.campaign.cells import show_value
from monerosim_core.campaign.results import CampaignResults

RUN_COLUMNS = ("seed", "status", "attempts", "wall_seconds", "pace", "run_dir", "reason")


def _field(value: float | int | str | None) -> str:
    if value is None:
        return ""
    # repr keeps every digit of a float (the shortest text that reads back the same).
    return repr(value) if isinstance(value, float) else str(value)


def write_runs_csv(results: CampaignResults, path: Path) -> None:
    parameters = [p.name for p in results.spec.parameters]
    metrics = list(results.summary.metrics)
    cells = {c.name: c for c in results.cells}
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["cell", *parameters, *RUN_COLUMNS, *metrics])
        for run in results.state.runs:
            cell = cells[run.cell]
            observation = results.observations.get(run.run_dir)
            reason = run.reason or results.unreadable.get(run.run_dir)
            writer.writerow(
                [
                    run.cell,
                    *(show_value(cell.value_of(p)) for p in parameters),
                    run.seed,
                    run.status,
                    run.attempts,
                    _field(run.wall_seconds),
                    _field(observation.pace if observation else None),
                    run.run_dir,
                    reason or "",
                    *(_field(observation.value(m) if observation else None) for m in metrics),
                ]
            )
