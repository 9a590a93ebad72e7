"""The campaign directory, every file name in it, and ``campaign.json``.

Layout::

    CAMPAIGN_DIR/campaign.yaml              the campaign file as last run
    CAMPAIGN_DIR/campaign.json              CampaignState: every run, its outcome and time
    CAMPAIGN_DIR/campaign.json.lock         held by the campaign process running it
    CAMPAIGN_DIR/cells/CELL/scenario.yaml   the base scenario with the cell's overrides
    CAMPAIGN_DIR/cells/CELL/seed-N/         one run directory per seed
    CAMPAIGN_DIR/cells/CELL/seed-N.attempt-K/   a failed attempt, kept for its logs
    CAMPAIGN_DIR/report.md, summary.json, runs.csv, plots/*.png

``campaign.json`` is rewritten (atomically) after every run, so a campaign that is
interrupted or killed knows on its next start what is done.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

import attrs

from monerosim_core.records.codec import RecordFormatError, decode, encode
from monerosim_core.records.files import (
    JournalLockTimeout,
    RecordFileError,
    locked,
    read_json,
    write_json_atomic,
)

STATE_FILE = "campaign.json"
CAMPAIGN_COPY = "campaign.yaml"
CELLS_DIR = "cells"
CELL_SCENARIO = "scenario.yaml"
REPORT_MD = "report.md"
SUMMARY_JSON = "summary.json"
RUNS_CSV = "runs.csv"
PLOTS_DIR = "plots"
STATE_SCHEMA = 1

# pending: not started; running: started and not finished (a campaign killed
# mid-run leaves this); the rest as a run ends.
RunStatus = Literal["pending", "running", "completed", "failed", "interrupted"]


class CampaignError(Exception):
    """A campaign directory that cannot be used as it is; the message says why."""


@attrs.frozen
class RunEntry:
    """One run of a cell with a seed. ``run_dir`` is relative to the campaign
    directory; ``scenario_digest`` is the SHA-256 of the cell scenario it ran (a
    finished run of another scenario must not count as this one)."""

    cell: str
    seed: int
    run_dir: str
    scenario_digest: str
    status: RunStatus = "pending"
    attempts: int = 0
    exit_code: int | None = None
    reason: str | None = None  # why the last attempt failed
    wall_seconds: float | None = None
    started_wall: float | None = None
    ended_wall: float | None = None


@attrs.frozen
class CellEntry:
    """A cell: its name, directory (relative) and each parameter's value as text."""

    name: str
    directory: str
    settings: Mapping[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class CampaignState:
    """What ``campaign.json`` holds: the campaign as planned and every run's outcome."""

    schema: int
    campaign_file: str
    scenario: str
    parameters: Mapping[str, str] = attrs.field(hash=False)  # short name -> dotted path
    seeds: tuple[int, ...]
    cells: tuple[CellEntry, ...]
    runs: tuple[RunEntry, ...]

    def counts(self) -> dict[str, int]:
        found = {status: 0 for status in ("completed", "failed", "interrupted", "running")}
        for run in self.runs:
            if run.status in found:
                found[run.status] += 1
        found["pending"] = len(self.runs) - sum(found.values())
        return found


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(path).absolute()


@attrs.frozen
class CampaignDir:
    # Absolute, like a run directory: the runs' daemons resolve paths elsewhere.
    root: Path = attrs.field(converter=_absolute)

    @property
    def state_path(self) -> Path:
        return self.root / STATE_FILE

    def cell_dir(self, directory: str) -> Path:
        return self.root / CELLS_DIR / directory

    def scenario_path(self, directory: str) -> Path:
        return self.cell_dir(directory) / CELL_SCENARIO

    @staticmethod
    def run_dir_name(cell_directory: str, seed: int) -> str:
        """A run's directory relative to the campaign directory."""
        return f"{CELLS_DIR}/{cell_directory}/seed-{seed}"

    @staticmethod
    def attempt_dir_name(run_dir: str, attempt: int) -> str:
        return f"{run_dir}.attempt-{attempt}"

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the directory for one campaign process: two running the same campaign
        would run its runs twice and overwrite each other's ``campaign.json``.

        :raises CampaignError: when another process holds it.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(locked(self.state_path, timeout=0))
            except JournalLockTimeout:
                raise CampaignError(
                    f"another monerosim campaign is running in {self.root}; "
                    "wait for it, or stop it first"
                ) from None
            yield

    def read_state(self) -> CampaignState | None:
        """``campaign.json``, ``None`` for a new campaign.

        :raises CampaignError: when it is unreadable or of another shape.
        """
        try:
            doc = read_json(self.state_path)
        except FileNotFoundError:
            return None
        except RecordFileError as exc:
            raise CampaignError(str(exc)) from None
        try:
            state = decode(CampaignState, doc, str(self.state_path))
        except RecordFormatError as exc:
            raise CampaignError(f"{exc}; move it away to start the campaign afresh") from None
        if state.schema != STATE_SCHEMA:
            raise CampaignError(
                f"{self.state_path}: written by another monerosim version (schema "
                f"{state.schema}, this one reads {STATE_SCHEMA}); use a new campaign directory"
            )
        return state

    def write_state(self, state: CampaignState) -> None:
        write_json_atomic(self.state_path, encode(state))
