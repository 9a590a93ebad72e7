"""Campaigns: many runs as one experiment.

A campaign file (:mod:`.spec`) names a base scenario, seeds and a grid of
overrides; every combination of the grid's values (a cell) runs once per seed on
the local engine, one run after another, into one campaign directory
(:mod:`.layout`). The runs' reports are then aggregated per cell, with confidence
intervals, and the cells compared (:mod:`.summary`), into ``report.md``,
``summary.json``, ``runs.csv`` and plots. ``run_campaign`` does all of it and
resumes where an earlier call stopped.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from monerosim_core.analysis.stats import require_scipy
from monerosim_core.campaign.layout import CampaignDir, CampaignError
from monerosim_core.campaign.report import terminal_summary, write_campaign_report
from monerosim_core.campaign.runner import CampaignRunner, prepare_campaign
from monerosim_core.campaign.spec import CampaignSpec, load_campaign
from monerosim_core.engine.bootstrap_cache import BootstrapCache
from monerosim_core.exit_codes import ExitCode

__all__ = ["CampaignError", "CampaignSpec", "default_campaign_dir", "load_campaign", "run_campaign"]


def default_campaign_dir(campaign_file: Path) -> Path:
    """``runs/campaign-<name>``: a fixed name, so running the file again resumes it."""
    return Path("runs") / f"campaign-{campaign_file.stem}"


def run_campaign(
    campaign_file: Path,
    directory: Path | None = None,
    *,
    cache: BootstrapCache | None,
    progress: str = "auto",
    dry_run: bool = False,
    out: TextIO = sys.stderr,
) -> int:
    """Run (or resume) the campaign in ``campaign_file`` and write its report.

    ``dry_run`` validates every cell and says what would run, running nothing.
    Returns the exit code: OK when every run completed, FAILED when some did not
    (the report covers those that did), INTERRUPTED on Ctrl-C.

    :raises ConfigError: the campaign file, the base scenario or a cell is invalid.
    :raises CampaignError: the directory holds runs of another scenario.
    :raises MissingScipyError: SciPy (the ``campaign`` extra) is not installed.
    """
    require_scipy()  # before hours of runs, not after them
    spec = load_campaign(campaign_file)
    where = CampaignDir(directory or default_campaign_dir(campaign_file))
    with where.exclusive():
        cells, state = prepare_campaign(spec, where)
        runner = CampaignRunner(spec, where, cells, state, cache, progress, out)
        if dry_run:
            runner.describe()
            return ExitCode.OK
        code = runner.execute()
        if code == ExitCode.INTERRUPTED:
            return code
        results = write_campaign_report(spec, cells, where, runner.state)
    print(terminal_summary(results), file=out)
    return code
