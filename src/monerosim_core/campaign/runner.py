"""Running a campaign: every cell with every seed, one run after another, resumable.

Before the first run, every cell's scenario is written and validated, so a grid
value that makes a scenario invalid stops the campaign at once rather than hours
in. Runs go seed by seed (every cell with seed 1, then seed 2...): the first run
of a seed builds its bootstrap cache entry and the other cells of that seed reuse
it (when the grid does not change the bootstrap), and an early stop leaves
comparable cells.

``campaign.json`` is written before and after every run. Started again, a campaign
skips the runs that completed and retries the rest; a failed attempt's directory
is renamed (``seed-N.attempt-K``) and kept for its logs.
"""

from __future__ import annotations

import hashlib
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import attrs

from monerosim_core.campaign.cells import (
    Cell,
    expand,
    show_value,
    validate_cells,
    write_cell_scenarios,
)
from monerosim_core.campaign.layout import (
    CAMPAIGN_COPY,
    STATE_SCHEMA,
    CampaignDir,
    CampaignError,
    CampaignState,
    CellEntry,
    RunEntry,
    RunStatus,
)
from monerosim_core.campaign.spec import CampaignSpec
from monerosim_core.config import ConfigError
from monerosim_core.engine.bootstrap_cache import BootstrapCache, CacheError
from monerosim_core.engine.local import run_local
from monerosim_core.exit_codes import ExitCode
from monerosim_core.plugins.host import get_plugin_manager
from monerosim_core.records.layout import RunDir, RunDirError

# What can stop one run before the engine takes over (it handles the rest itself);
# the campaign records it against the run and goes on with the next.
_RUN_START_ERRORS = (ConfigError, CacheError, RunDirError, OSError)


def prepare_campaign(
    spec: CampaignSpec, directory: CampaignDir
) -> tuple[tuple[Cell, ...], CampaignState]:
    """Write and validate every cell's scenario and plan the runs against what
    ``campaign.json`` says is done (which it does not rewrite).

    :raises ConfigError: an override or a cell scenario that is invalid.
    :raises CampaignError: a finished run that ran another scenario than its cell's now.
    """
    cells = expand(spec)
    directory.root.mkdir(parents=True, exist_ok=True)
    write_cell_scenarios(spec, cells, directory)
    validate_cells(spec, cells, directory, get_plugin_manager())
    return cells, plan_state(spec, cells, directory, directory.read_state())


def plan_state(
    spec: CampaignSpec,
    cells: Sequence[Cell],
    directory: CampaignDir,
    previous: CampaignState | None,
) -> CampaignState:
    """Every run of the campaign, seed by seed, carrying over what ``previous`` knew."""
    known = {(r.cell, r.seed): r for r in (previous.runs if previous else ())}
    digests = {
        c.name: hashlib.sha256(directory.scenario_path(c.directory).read_bytes()).hexdigest()
        for c in cells
    }
    runs = []
    for seed in spec.seeds:
        for cell in cells:
            entry = RunEntry(
                cell=cell.name,
                seed=seed,
                run_dir=CampaignDir.run_dir_name(cell.directory, seed),
                scenario_digest=digests[cell.name],
            )
            before = known.get((cell.name, seed))
            runs.append(entry if before is None else _carried_over(before, entry, directory))
    return CampaignState(
        schema=STATE_SCHEMA,
        campaign_file=str(spec.source),
        scenario=str(spec.scenario),
        parameters={p.name: p.path.text for p in spec.parameters},
        seeds=spec.seeds,
        cells=tuple(
            CellEntry(
                c.name, c.directory, {s.parameter.name: show_value(s.value) for s in c.settings}
            )
            for c in cells
        ),
        runs=tuple(runs),
    )


def _carried_over(before: RunEntry, fresh: RunEntry, directory: CampaignDir) -> RunEntry:
    if before.status != "completed":
        # Kept as it ended (failed, interrupted, or running when the campaign was
        # killed): every run that did not complete is run again.
        return attrs.evolve(before, run_dir=fresh.run_dir, scenario_digest=fresh.scenario_digest)
    if before.scenario_digest != fresh.scenario_digest:
        raise CampaignError(
            f"{directory.root}: cell {fresh.cell}, seed {fresh.seed} ran another scenario "
            "than the cell's now (the base scenario or an override changed); "
            "give the campaign a new directory, or remove this one"
        )
    if _ended(directory, before.run_dir) != "completed":
        return attrs.evolve(fresh, attempts=before.attempts)  # its directory went away
    return before


def _ended(directory: CampaignDir, run_dir: str) -> str | None:
    try:
        return RunDir(directory.root / run_dir).read_info().end_reason
    except RunDirError:
        return None


@attrs.define
class CampaignRunner:
    """Runs the campaign's pending runs and keeps ``campaign.json`` up to date."""

    spec: CampaignSpec
    directory: CampaignDir
    cells: tuple[Cell, ...]
    state: CampaignState
    cache: BootstrapCache | None
    progress: str = "auto"
    out: TextIO = sys.stderr
    _scenarios: dict[str, str] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self._scenarios = {c.name: c.directory for c in self.cells}

    def execute(self) -> int:
        """Run what is left; the exit code (interrupted, or failed if any run failed)."""
        self.directory.write_state(self.state)
        copy = self.directory.root / CAMPAIGN_COPY
        if copy.resolve() != self.spec.source.resolve():  # the campaign dir may hold the file
            shutil.copyfile(self.spec.source, copy)
        todo = self._todo()
        total = len(self.state.runs)
        self.say(self._headline())
        for done_now, index in enumerate(todo):
            left = len(todo) - done_now
            entry = self.state.runs[index]
            self.say(
                f"[{total - left + 1}/{total}] cell {entry.cell}, seed {entry.seed} "
                f"({left} left{self._eta(left)})"
            )
            finished = self._run(index)
            self.say(
                f"[{total - left + 1}/{total}] cell {entry.cell}, seed {entry.seed}: "
                f"{finished.status} in {finished.wall_seconds or 0:.0f} s"
                + (f" ({finished.reason})" if finished.reason else "")
            )
            if finished.status == "interrupted":
                self.say(
                    f"interrupted; run the same command again to resume ({self.directory.root})"
                )
                return ExitCode.INTERRUPTED
        counts = self.state.counts()
        return ExitCode.OK if counts["completed"] == total else ExitCode.FAILED

    def describe(self) -> None:
        """Say what the campaign would run, running nothing."""
        self.say(self._headline() + " (dry run: nothing is run)")
        for cell in self.cells:
            self.say(f"  cell {cell.name}: {self.directory.scenario_path(cell.directory)}")

    def _todo(self) -> list[int]:
        return [i for i, r in enumerate(self.state.runs) if r.status != "completed"]

    def _headline(self) -> str:
        total, todo = len(self.state.runs), len(self._todo())
        return (
            f"{len(self.cells)} cell(s) x {len(self.spec.seeds)} seed(s) = {total} runs; "
            f"{total - todo} done, {todo} to run in {self.directory.root}"
        )

    def say(self, line: str) -> None:
        print(f"campaign: {line}", file=self.out, flush=True)

    def _eta(self, left: int) -> str:
        took = [
            r.wall_seconds
            for r in self.state.runs
            if r.wall_seconds is not None and r.status == "completed"
        ]
        if not took:
            return ""
        seconds = statistics.fmean(took) * left
        return f", about {_duration(seconds)} left"

    def _update(self, index: int, entry: RunEntry) -> None:
        runs = list(self.state.runs)
        runs[index] = entry
        self.state = attrs.evolve(self.state, runs=tuple(runs))
        self.directory.write_state(self.state)

    def _run(self, index: int) -> RunEntry:
        entry = self.state.runs[index]
        run_dir = self.directory.root / entry.run_dir
        attempt = entry.attempts + 1
        if run_dir.exists():
            run_dir.rename(self._attempt_dir(entry))
        started, clock = time.time(), time.monotonic()
        entry = attrs.evolve(
            entry, status="running", attempts=attempt, started_wall=started, reason=None,
            exit_code=None, wall_seconds=None, ended_wall=None,
        )  # fmt: skip
        self._update(index, entry)
        scenario = self.directory.scenario_path(self._scenarios[entry.cell])
        try:
            code = run_local(
                scenario, run_dir=run_dir, seed=entry.seed, progress=self.progress,
                cache=self.cache,
            )  # fmt: skip
            reason = self._failure(run_dir, code)
        except _RUN_START_ERRORS as exc:
            code, reason = ExitCode.FAILED, str(exc).replace("\n", "; ")
        except KeyboardInterrupt:
            code, reason = ExitCode.INTERRUPTED, None
        status: RunStatus = "failed"
        if code == ExitCode.INTERRUPTED:
            status = "interrupted"
        elif code == ExitCode.OK and reason is None:
            status = "completed"
        entry = attrs.evolve(
            entry, status=status, exit_code=int(code), reason=reason,
            wall_seconds=round(time.monotonic() - clock, 3), ended_wall=time.time(),
        )  # fmt: skip
        self._update(index, entry)
        return entry

    def _attempt_dir(self, entry: RunEntry) -> str:
        """A free name for the directory of an earlier attempt."""
        attempt = max(entry.attempts, 1)
        while (self.directory.root / CampaignDir.attempt_dir_name(entry.run_dir, attempt)).exists():
            attempt += 1
        return str(self.directory.root / CampaignDir.attempt_dir_name(entry.run_dir, attempt))

    @staticmethod
    def _failure(run_dir: Path, code: int) -> str | None:
        """Why a run that returned ``code`` did not complete, or ``None`` if it did."""
        try:
            info = RunDir(run_dir).read_info()
        except RunDirError as exc:
            return str(exc)
        if info.failure:
            return info.failure
        if info.end_reason != "completed":
            return f"ended {info.end_reason or 'without an end record'}"
        if code != ExitCode.OK:
            return f"exit code {code}: an agent failed (its log is in {run_dir}/logs)"
        return None


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
