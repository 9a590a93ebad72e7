"""Campaign files and their grids: what a researcher writes, what each cell's scenario
becomes, and how every mistake is reported (file, line, column, cell, override)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from monerosim_core.campaign.cells import expand, validate_cells, write_cell_scenarios
from monerosim_core.campaign.layout import CampaignDir
from monerosim_core.campaign.overrides import OverridePath, apply_override
from monerosim_core.campaign.spec import load_campaign
from monerosim_core.config import ConfigError, load_scenario
from monerosim_core.config.model import BlockTimes
from monerosim_core.plugins.host import get_plugin_manager

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CLI = (sys.executable, "-m", "monerosim_core.cli")
DISTRIBUTOR = "agents.user_agents[8].attributes.miner_selection_strategy"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """The quickstart scenario, copied so a campaign file can sit beside it."""
    path = tmp_path / "quickstart.yaml"
    shutil.copyfile(CONFIGS / "quickstart.yaml", path)
    return path


def write(tmp_path: Path, text: str, name: str = "campaign.yaml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text))
    return path


def problems(exc: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --- the campaign file ------------------------------------------------------------------


def test_seeds_as_a_count_or_a_list_and_a_grid_of_dotted_paths(tmp_path: Path, base: Path) -> None:
    counted = load_campaign(
        write(
            tmp_path,
            f"""\
            scenario: {base.name}
            seeds: 3
            grid:
              {DISTRIBUTOR}: [weighted, balance, random]
              agents.block_controller.interval: [60, 120]
            """,
        )
    )
    assert counted.scenario == base
    assert counted.seeds == (1, 2, 3)
    assert [(p.name, p.path.text, p.values) for p in counted.parameters] == [
        ("miner_selection_strategy", DISTRIBUTOR, ("weighted", "balance", "random")),
        ("interval", "agents.block_controller.interval", (60, 120)),
    ]
    listed = load_campaign(write(tmp_path, f"scenario: {base.name}\nseeds: [11, 3, 7]\n"))
    assert listed.seeds == (11, 3, 7)
    assert listed.parameters == ()


def test_two_paths_ending_alike_get_names_that_tell_them_apart(tmp_path: Path, base: Path) -> None:
    spec = load_campaign(
        write(
            tmp_path,
            f"""\
            scenario: {base.name}
            seeds: 1
            grid:
              agents.user_agents[0].attributes.hashrate: [35, 50]
              agents.user_agents[1].attributes.hashrate: [30, 15]
            """,
        )
    )
    assert [p.name for p in spec.parameters] == [
        "user_agents[0].attributes.hashrate",
        "user_agents[1].attributes.hashrate",
    ]


def test_every_mistake_in_the_campaign_file_is_reported_at_its_line_and_column(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        """\
        scenario: missing.yaml
        seeds: [1, 1]
        grid:
          agents..user_agents: [1]
          general.seed: [1, 2]
          agents.block_controller.interval: []
          agents.user_agents[0].attributes.hashrate: [10, 10]
        sedes: 3
        """,
    )
    with pytest.raises(ConfigError) as exc:
        load_campaign(path)
    found = problems(exc)
    where = [p.split(": ")[0] for p in found]
    assert where == [
        f"{path}:{line}:{col}"
        for line, col in [(1, 11), (2, 8), (4, 3), (5, 3), (6, 37), (7, 51), (8, 1)]
    ]
    assert "no such file" in found[0]
    assert "seed 1 is listed twice" in found[1]
    assert "is not a dotted path" in found[2]
    assert "seeds are given by the campaign's seeds key" in found[3]
    assert "found an empty list" in found[4]
    assert "10 is listed twice" in found[5]
    assert "unknown key 'sedes'; did you mean 'seeds'?" in found[6]


# --- overrides --------------------------------------------------------------------------


def cell_scenarios(tmp_path: Path, base: Path, grid: str) -> dict[str, Path]:
    spec = load_campaign(write(tmp_path, f"scenario: {base.name}\nseeds: 1\ngrid:\n{grid}"))
    directory = CampaignDir(tmp_path / "campaign")
    cells = expand(spec)
    write_cell_scenarios(spec, cells, directory)
    return {c.name: directory.scenario_path(c.directory) for c in cells}


def test_each_cell_is_the_base_scenario_with_its_overrides(tmp_path: Path, base: Path) -> None:
    scenarios = cell_scenarios(
        tmp_path,
        base,
        f"  {DISTRIBUTOR}: [weighted, random]\n  agents.user_agents[0].attributes.hashrate: [70]\n",
    )
    assert list(scenarios) == [
        "miner_selection_strategy=weighted,hashrate=70",
        "miner_selection_strategy=random,hashrate=70",
    ]
    original = load_scenario(base)
    for name, path in scenarios.items():
        scenario = load_scenario(path)
        distributor = scenario.user_agents[8].miner_selection_strategy
        assert distributor is not None and distributor.name == name.split(",")[0].split("=")[1]
        assert scenario.user_agents[0].hashrate == 70.0
        # everything else as in the base scenario
        assert [(a.role, a.hashrate) for a in scenario.user_agents[1:]] == [
            (a.role, a.hashrate) for a in original.user_agents[1:]
        ]
        assert scenario.general == original.general


def test_a_script_option_is_set_by_its_name_and_replaced_where_it_was(
    tmp_path: Path, base: Path
) -> None:
    scenarios = cell_scenarios(
        tmp_path,
        base,
        "  agents.block_controller.interval: [60]\n"
        "  agents.block_controller.block_times: [exponential]\n"
        "  agents.pure_script_agents[0].interval: [300]\n",
    )
    (path,) = scenarios.values()
    scenario = load_scenario(path)
    controller = scenario.block_controller
    assert controller is not None
    assert controller.interval == 60.0  # replaced "--interval 120"
    assert controller.solo_miner_threshold == 6.0  # the other option kept
    assert controller.block_times is BlockTimes.EXPONENTIAL  # added
    assert scenario.script_agents[0].interval == 300.0


def test_options_written_as_separate_items_or_with_equals_are_replaced_too() -> None:
    from ruamel.yaml import YAML

    document = YAML(typ="rt").load(
        "controller:\n"
        "  script: x\n"
        '  arguments: ["--interval", "120", "--strategy=weighted", "--keep 1"]\n'
    )
    apply_override(document, OverridePath.parse("controller.interval"), 60)
    apply_override(document, OverridePath.parse("controller.strategy"), "random")
    assert list(document["controller"]["arguments"]) == [
        "--keep 1",
        "--interval 60",
        "--strategy random",
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "agents.user_agents[12].attributes.hashrate",
            "agents.user_agents has 9 items; [12] is out of range",
        ),
        ("general.stop_time.unit", "general.stop_time is not a mapping"),
        ("agents[0]", "agents is not a list"),
    ],
)
def test_an_override_path_that_does_not_fit_says_where_it_breaks(
    tmp_path: Path, base: Path, path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        cell_scenarios(tmp_path, base, f"  {path}: [1]\n")
    (problem,) = problems(exc)
    assert problem.startswith(f"{tmp_path / 'campaign.yaml'}:4:3: grid.{path}: ")
    assert message in problem


def test_a_relative_gml_path_still_finds_its_file_from_the_cell(tmp_path: Path) -> None:
    (tmp_path / "net.gml").write_text(  # one node, as Shadow's rules (checked at load) want
        'graph [\n  node [\n    id 0\n    host_bandwidth_up "1 Gbit"\n'
        '    host_bandwidth_down "1 Gbit"\n  ]\n  edge [\n    source 0\n    target 0\n'
        '    latency "1 ms"\n  ]\n]\n'
    )
    base = write(
        tmp_path,
        """\
        general: {stop_time: 1h}
        network: {gml: net.gml}
        agents:
          user_agents:
            - daemon: monerod
              wallet: monero-wallet-rpc
              is_miner: true
              attributes: {hashrate: 50}
          block_controller: {script: agents.block_controller}
        """,
        name="base.yaml",
    )
    (path,) = cell_scenarios(tmp_path, base, "  general.stop_time: [2h]\n").values()
    assert load_scenario(path).network.gml == str(tmp_path / "net.gml")


# --- validation of the cells ------------------------------------------------------------


def test_an_override_that_breaks_the_scenario_names_the_cell_and_the_override(
    tmp_path: Path, base: Path
) -> None:
    spec = load_campaign(
        write(
            tmp_path,
            f"""\
            scenario: {base.name}
            seeds: 1
            grid:
              {DISTRIBUTOR}: [weighted, no_such_strategy]
              agents.user_agents[0].attributes.hashrate: [35, -5]
            """,
        )
    )
    directory = CampaignDir(tmp_path / "campaign")
    cells = expand(spec)
    write_cell_scenarios(spec, cells, directory)
    with pytest.raises(ConfigError) as exc:
        validate_cells(spec, cells, directory, get_plugin_manager())
    found = problems(exc)
    bad_strategy = [p for p in found if "unknown miner selection strategy" in p]
    assert len(bad_strategy) == 1
    cell_file = directory.scenario_path("miner_selection_strategy=no_such_strategy,hashrate=35")
    assert bad_strategy[0].startswith(f"{cell_file}:")
    assert (
        f"[in cell miner_selection_strategy=no_such_strategy,hashrate=35, set by {DISTRIBUTOR} "
        f"= no_such_strategy (campaign {tmp_path / 'campaign.yaml'}:4:3)]"
    ) in bad_strategy[0]
    negative = [p for p in found if "found -5" in p]
    assert len(negative) == 2  # both cells with the bad hashrate, blamed on that override
    assert all("set by agents.user_agents[0].attributes.hashrate = -5" in p for p in negative)


def test_a_broken_base_scenario_is_reported_as_itself(tmp_path: Path) -> None:
    base = write(tmp_path, "general: {stop_time: soon}\nagents: {user_agents: []}\n", "base.yaml")
    spec = load_campaign(write(tmp_path, "scenario: base.yaml\nseeds: 1\n"))
    directory = CampaignDir(tmp_path / "campaign")
    cells = expand(spec)
    write_cell_scenarios(spec, cells, directory)
    with pytest.raises(ConfigError) as exc:
        validate_cells(spec, cells, directory, get_plugin_manager())
    assert all(p.startswith(f"{base}:") and "[in cell" not in p for p in problems(exc))


# --- the command ------------------------------------------------------------------------


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONEROSIM_")}
    return subprocess.run(
        [*CLI, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_dry_run_lists_the_runs_and_runs_nothing(tmp_path: Path, base: Path) -> None:
    write(
        tmp_path, f"scenario: {base.name}\nseeds: 2\ngrid:\n  {DISTRIBUTOR}: [weighted, balance]\n"
    )
    result = run_cli("campaign", "campaign.yaml", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 cell(s) x 2 seed(s) = 4 runs; 0 done, 4 to run" in result.stderr
    directory = tmp_path / "runs" / "campaign-campaign"  # the default, fixed so a rerun resumes
    assert sorted(p.name for p in (directory / "cells").iterdir()) == [
        "miner_selection_strategy=balance",
        "miner_selection_strategy=weighted",
    ]
    assert not list(directory.glob("cells/*/seed-*"))


def test_a_bad_campaign_file_is_one_clear_error_and_exit_2(tmp_path: Path, base: Path) -> None:
    write(tmp_path, f"scenario: {base.name}\nseeds: 0\n")
    result = run_cli("campaign", "campaign.yaml", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("monerosim: configuration error:\ncampaign.yaml:2:8: seeds:")
    assert "a count must be at least 1" in result.stderr


@pytest.mark.parametrize("name", ["mining-model.yaml", "strategies.yaml"])
def test_the_sample_campaigns_are_valid(tmp_path: Path, name: str) -> None:
    runs = {"mining-model.yaml": "1 cell(s) x 10 seed(s)", "strategies.yaml": "2 cell(s) x 3"}
    result = run_cli(
        "campaign", CONFIGS / "campaigns" / name, "--dir", tmp_path / "c", "--dry-run", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert runs[name] in result.stderr
