"""Running and resuming a campaign, with the engine replaced by one that writes a
finished (or failed) run directory at once: the bookkeeping a researcher relies on
when a long campaign stops half-way. The real engine is in test_campaign_real."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from run_builder import make_run, mined

from monerosim_core.campaign import CampaignError, run_campaign
from monerosim_core.exit_codes import ExitCode
from monerosim_core.records.files import locked
from monerosim_core.records.layout import RunDir

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DISTRIBUTOR = "agents.user_agents[8].attributes.miner_selection_strategy"


@attrs.define
class FakeEngine:
    """Stands in for ``run_local``: each call writes a run directory and returns
    the exit code ``outcomes`` says for that (cell file, seed), 0 by default."""

    outcomes: dict[tuple[str, int], int] = attrs.field(factory=dict)
    calls: list[tuple[str, int]] = attrs.field(factory=list)

    def __call__(self, config: Path, *, run_dir: Path, seed: int, **_: Any) -> int:
        cell = config.parent.name
        self.calls.append((cell, seed))
        code = self.outcomes.pop((cell, seed), 0)
        ended = {0: "completed", 130: "interrupted"}.get(code, "failed")
        make_run(
            run_dir.parent,
            mined({"m1": 5, "m2": 3, "m3": 2}),
            seed=seed,
            name=run_dir.name,
            end_reason=ended,
        )
        if code not in (0, 130):
            RunDir(run_dir).update_info(failure="monerod exited with code 1")
        return code


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEngine]:
    fake = FakeEngine()
    monkeypatch.setattr("monerosim_core.campaign.runner.run_local", fake)
    yield fake


def campaign_file(tmp_path: Path, seeds: int = 2) -> Path:
    shutil.copyfile(CONFIGS / "quickstart.yaml", tmp_path / "quickstart.yaml")
    path = tmp_path / "campaign.yaml"
    path.write_text(
        f"scenario: quickstart.yaml\nseeds: {seeds}\ngrid:\n  {DISTRIBUTOR}: [weighted, balance]\n"
    )
    return path


def run(path: Path, directory: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run_campaign(path, directory, cache=None, out=out)
    return code, out.getvalue()


def state(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "campaign.json").read_text())


W, B = "miner_selection_strategy=weighted", "miner_selection_strategy=balance"


def test_runs_go_seed_by_seed_and_campaign_json_says_what_ran(
    tmp_path: Path, engine: FakeEngine
) -> None:
    directory = tmp_path / "out"
    code, out = run(campaign_file(tmp_path), directory)
    assert code == ExitCode.OK
    assert engine.calls == [(W, 1), (B, 1), (W, 2), (B, 2)]
    runs = state(directory)["runs"]
    assert [(r["cell"], r["seed"], r["status"], r["attempts"]) for r in runs] == [
        (W, 1, "completed", 1),
        (B, 1, "completed", 1),
        (W, 2, "completed", 1),
        (B, 2, "completed", 1),
    ]
    assert all(
        r["wall_seconds"] >= 0 and r["run_dir"] == f"cells/{r['cell']}/seed-{r['seed']}"
        for r in runs
    )
    # progress: runs done and left, and an estimate once a run has taken time
    assert "campaign: [1/4] cell miner_selection_strategy=weighted, seed 1 (4 left)" in out
    assert "[2/4] cell miner_selection_strategy=balance, seed 1 (3 left, about 0 s left)" in out
    assert (directory / "report.md").is_file() and (directory / "runs.csv").is_file()


def test_a_rerun_retries_the_failed_run_only_and_keeps_the_failed_attempt(
    tmp_path: Path, engine: FakeEngine
) -> None:
    path, directory = campaign_file(tmp_path), tmp_path / "out"
    engine.outcomes[(B, 1)] = ExitCode.FAILED
    code, out = run(path, directory)
    assert code == ExitCode.FAILED
    failed = next(r for r in state(directory)["runs"] if r["status"] == "failed")
    assert (failed["cell"], failed["seed"], failed["reason"]) == (
        B,
        1,
        "monerod exited with code 1",
    )
    assert "seed 1: failed in" in out and "(monerod exited with code 1)" in out

    engine.calls.clear()
    code, out = run(path, directory)
    assert code == ExitCode.OK
    assert engine.calls == [(B, 1)]
    assert "4 runs; 3 done, 1 to run" in out
    retried = next(r for r in state(directory)["runs"] if (r["cell"], r["seed"]) == (B, 1))
    assert (retried["status"], retried["attempts"], retried["reason"]) == ("completed", 2, None)
    kept = directory / "cells" / B / "seed-1.attempt-1"
    assert RunDir(kept).read_info().end_reason == "failed"

    engine.calls.clear()
    code, out = run(path, directory)
    assert (code, engine.calls) == (ExitCode.OK, [])
    assert "4 runs; 4 done, 0 to run" in out


def test_an_interrupted_campaign_stops_and_resumes_where_it_stopped(
    tmp_path: Path, engine: FakeEngine
) -> None:
    path, directory = campaign_file(tmp_path), tmp_path / "out"
    engine.outcomes[(B, 1)] = ExitCode.INTERRUPTED
    code, out = run(path, directory)
    assert code == ExitCode.INTERRUPTED
    assert engine.calls == [(W, 1), (B, 1)]  # nothing after the interrupted run
    assert "run the same command again to resume" in out
    assert [r["status"] for r in state(directory)["runs"]] == [
        "completed", "interrupted", "pending", "pending",
    ]  # fmt: skip

    engine.calls.clear()
    assert run(path, directory)[0] == ExitCode.OK
    assert engine.calls == [(B, 1), (W, 2), (B, 2)]


def test_more_seeds_later_add_runs_and_keep_the_finished_ones(
    tmp_path: Path, engine: FakeEngine
) -> None:
    directory = tmp_path / "out"
    run(campaign_file(tmp_path, seeds=1), directory)
    engine.calls.clear()
    assert run(campaign_file(tmp_path, seeds=2), directory)[0] == ExitCode.OK
    assert engine.calls == [(W, 2), (B, 2)]


def test_a_rerun_from_another_directory_or_by_absolute_path_does_no_work(
    tmp_path: Path, engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, directory = campaign_file(tmp_path), tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    assert run(Path("campaign.yaml"), Path("out"))[0] == ExitCode.OK
    engine.calls.clear()
    monkeypatch.chdir(tmp_path.parent)
    assert run(path, directory)[0] == ExitCode.OK
    assert engine.calls == []


def test_a_changed_base_scenario_does_not_mix_with_finished_runs(
    tmp_path: Path, engine: FakeEngine
) -> None:
    path, directory = campaign_file(tmp_path), tmp_path / "out"
    run(path, directory)
    scenario = tmp_path / "quickstart.yaml"
    scenario.write_text(scenario.read_text().replace('stop_time: "2h"', 'stop_time: "3h"'))
    with pytest.raises(CampaignError, match="ran another scenario than the cell's now"):
        run(path, directory)


def test_a_second_campaign_process_on_the_same_directory_is_refused(
    tmp_path: Path, engine: FakeEngine
) -> None:
    path, directory = campaign_file(tmp_path), tmp_path / "out"
    directory.mkdir()
    with (
        locked(directory / "campaign.json", timeout=0),  # as a running campaign holds it
        pytest.raises(CampaignError, match="another monerosim campaign is running"),
    ):
        run(path, directory)
    assert engine.calls == []
