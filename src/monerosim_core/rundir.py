"""The run directory: everything one run writes, in one place.

Layout::

    RUN_DIR/run.json          RunInfo: config, seed, speed, clock epoch, outcome
    RUN_DIR/config.yaml       the scenario as it was when the run started
    RUN_DIR/shared/           private (0700): registries, records, credentials
    RUN_DIR/nodes/ID/         each daemon's and wallet's data and logs
    RUN_DIR/logs/             one log per agent process, plus the engine's
    RUN_DIR/report/           the report
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import attrs

from monerosim_core.config import load_scenario
from monerosim_core.scenario import Scenario
from monerosim_core.state_files import write_json_atomic

RUN_INFO_FILE = "run.json"
CONFIG_COPY = "config.yaml"
CREDENTIALS_FILE = "credentials.json"


class RunDirError(Exception):
    """A run directory that is missing, or whose ``run.json`` is damaged."""


@attrs.frozen
class RunInfo:
    """The contents of ``run.json`` (see the report for who reads which field)."""

    config: str
    seed: int
    speed: float
    engine: str
    stop_time: float
    block_interval: float
    solo_miner_threshold: float
    started_wall: float
    clock_epoch_wall: float | None = None  # wall time at simulated t=0
    ended_wall: float | None = None
    sim_elapsed: float | None = None
    end_reason: str | None = None  # completed | interrupted | failed


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(path).absolute()


@attrs.frozen
class RunDir:
    # Absolute: every path handed to a daemon is resolved in that daemon's own
    # working directory, so a relative run directory (the default runs/...) breaks.
    root: Path = attrs.field(converter=_absolute)

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def config(self) -> Path:
        return self.root / CONFIG_COPY

    def node_dir(self, agent_id: str) -> Path:
        return self.root / "nodes" / agent_id

    @classmethod
    def create(cls, root: Path, config_source: Path) -> RunDir:
        """Make a new run directory; refuses one that already holds a run."""
        run = cls(root)
        if (root / RUN_INFO_FILE).exists():
            raise FileExistsError(f"{root} already holds a run; choose another --run-dir")
        root.mkdir(parents=True, exist_ok=True)
        run.shared.mkdir(mode=0o700, exist_ok=True)
        os.chmod(run.shared, 0o700)  # mkdir's mode is filtered by the umask
        run.logs.mkdir(exist_ok=True)
        shutil.copyfile(config_source, run.config)
        return run

    def load_scenario(self, info: RunInfo) -> Scenario:
        """The run's copy of the config, with relative paths as the original had them."""
        return load_scenario(self.config, relative_to=Path(info.config).parent)

    def read_info(self) -> RunInfo:
        """``run.json``; :class:`RunDirError` when it is missing or damaged."""
        path = self.root / RUN_INFO_FILE
        try:
            with open(path, encoding="utf-8") as f:
                return RunInfo(**json.load(f))
        except FileNotFoundError:
            raise RunDirError(
                f"{self.root} is not a monerosim run directory (no {path.name})"
            ) from None
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
            raise RunDirError(f"{path}: not a valid run description ({exc})") from None

    def write_info(self, info: RunInfo) -> None:
        write_json_atomic(self.root / RUN_INFO_FILE, attrs.asdict(info))

    def update_info(self, **changes: Any) -> RunInfo:
        info = attrs.evolve(self.read_info(), **changes)
        self.write_info(info)
        return info

    def write_credentials(self, credentials: dict[str, tuple[str, str]]) -> None:
        """Wallet RPC logins per agent id, readable by the run's owner only."""
        path = self.shared / CREDENTIALS_FILE
        write_json_atomic(path, {k: list(v) for k, v in credentials.items()}, mode=0o600)

    def read_credentials(self) -> dict[str, tuple[str, str]]:
        path = self.shared / CREDENTIALS_FILE
        if not path.exists():
            return {}
        with open(path, encoding="utf-8") as f:
            return {k: (v[0], v[1]) for k, v in json.load(f).items()}
