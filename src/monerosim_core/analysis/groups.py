"""A group of runs taken together: one run directory, or a directory of runs (a
campaign cell holds one run per seed).

In a directory of runs, every subdirectory with a ``run.json`` is a run; those that
did not complete (a failed attempt a campaign kept for its logs, an interrupted
run) are left out and listed, because their records stop part-way.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from monerosim_core.analysis.observation import Observation, observe
from monerosim_core.records.layout import RUN_INFO_FILE, RunDir, RunDirError


class GroupError(Exception):
    """A path that is neither a run directory nor a directory of runs."""


@attrs.frozen
class RunGroup:
    """``observations`` in seed order; ``skipped`` says which runs were left out and why."""

    path: Path
    observations: tuple[Observation, ...]
    skipped: tuple[str, ...] = ()

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(o.seed for o in self.observations)


def load_group(path: Path) -> RunGroup:
    """Read a run directory, or every completed run directly under ``path``.

    :raises GroupError: when ``path`` holds no run.
    :raises ReportError: when a run directory cannot be read.
    """
    if not path.is_dir():
        raise GroupError(f"{path}: not a directory")
    if (path / RUN_INFO_FILE).is_file():
        return RunGroup(path, (observe(path),))
    observations: list[Observation] = []
    skipped: list[str] = []
    for child in sorted(p for p in path.iterdir() if (p / RUN_INFO_FILE).is_file()):
        try:
            ended = RunDir(child).read_info().end_reason
        except RunDirError as exc:
            skipped.append(f"{child.name}: {exc}")
            continue
        if ended != "completed":
            skipped.append(f"{child.name}: ended {ended or 'without an end record'}")
            continue
        observations.append(observe(child))
    if not observations:
        why = f" ({'; '.join(skipped)})" if skipped else ""
        raise GroupError(
            f"{path}: holds no completed run{why}; expected a run directory (with "
            f"{RUN_INFO_FILE}) or a directory of them, such as a campaign cell"
        )
    observations.sort(key=lambda o: (o.seed, str(o.run_dir)))
    return RunGroup(path, tuple(observations), tuple(skipped))
