"""A campaign on real daemons: 2 distributor strategies x 3 seeds of a small network
(3 miners and a distributor, 20 simulated minutes: configs/campaigns/strategies.yaml).
Every run completes, the campaign's files are written, each seed mines its bootstrap
once, nothing is left running, and running the campaign again does no work."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import CLI, finish, processes_of_run

from monerosim_core.records.layout import RunDir

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

# The sample campaign in configs/campaigns, so the README's command is the one tested.
CAMPAIGNS = Path(__file__).resolve().parents[1] / "configs" / "campaigns"
STRATEGIES = ("weighted", "balance")
# Six runs of about a minute each on an idle 2-core machine; generous for a busy one.
TIMEOUT = 3600


def start(base: Path) -> tuple[int, str]:
    proc = subprocess.Popen(
        [
            *CLI,
            "campaign",
            str(base / "campaign.yaml"),
            "--dir",
            str(base / "campaign"),
            "--cache-dir",
            str(base / "cache"),
            "--progress",
            "lines",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return finish(proc, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("campaign")
    shutil.copyfile(CAMPAIGNS / "small-network.yaml", base / "small-network.yaml")
    shutil.copyfile(CAMPAIGNS / "strategies.yaml", base / "campaign.yaml")
    code, out = start(base)
    assert code == 0, out[-5000:]
    return base / "campaign", out


def runs_of(directory: Path) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = json.loads((directory / "campaign.json").read_text())["runs"]
    return runs


def test_every_run_completes_and_leaves_nothing_running(campaign: tuple[Path, str]) -> None:
    directory, out = campaign
    runs = runs_of(directory)
    assert [(r["cell"].split("=")[1], r["seed"], r["status"]) for r in runs] == [
        (s, seed, "completed") for seed in (1, 2, 3) for s in STRATEGIES
    ]
    assert processes_of_run(directory) == []
    assert "[6/6]" in out and "about" in out  # progress with an estimate of time left


def test_each_seed_mines_its_bootstrap_once(campaign: tuple[Path, str]) -> None:
    directory, _ = campaign
    for seed in (1, 2, 3):
        sources = sorted(
            RunDir(directory / r["run_dir"]).read_info().bootstrap_source or ""
            for r in runs_of(directory)
            if r["seed"] == seed
        )
        assert sources == ["cache", "mined"], seed


def test_the_csv_report_and_plots_are_written(campaign: tuple[Path, str]) -> None:
    directory, _ = campaign
    with (directory / "runs.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 6
    for row in rows:
        assert row["status"] == "completed"
        assert float(row["blocks.counted"]) == 9  # blocks at 120 s ... 1080 s
        assert float(row["transfers.sent"]) > 0
        assert float(row["findings"]) == 0
    # The seed draws the blocks, whatever the distributor does: the two cells of a
    # seed have the same winners.
    for seed in ("1", "2", "3"):
        shares = {r["share.miner-01"] for r in rows if r["seed"] == seed}
        assert len(shares) == 1
    summary = json.loads((directory / "summary.json").read_text())
    assert [c["seeds"] for c in summary["cells"]] == [[1, 2, 3], [1, 2, 3]]
    assert summary["pairs"][0]["parameter"] == "miner_selection_strategy"
    report = (directory / "report.md").read_text()
    assert "6 completed, 0 failed" in report
    plots = sorted(p.name for p in (directory / "plots").iterdir())
    assert plots == ["distributions.png", "shares.png", "vs_miner_selection_strategy.png"]


def test_running_it_again_does_no_work(campaign: tuple[Path, str]) -> None:
    directory, _ = campaign
    before = runs_of(directory)
    dirs_before = sorted(p.name for p in directory.glob("cells/*/*"))
    code, out = start(directory.parent)
    assert code == 0, out[-3000:]
    assert "6 runs; 6 done, 0 to run" in out
    assert "[1/6]" not in out
    assert runs_of(directory) == before
    assert sorted(p.name for p in directory.glob("cells/*/*")) == dirs_before
