"""The ``monerosim`` command line as a user meets it: what each command prints, what it
writes, and that every expected failure is one clear message and a non-zero exit.

Commands that succeed run in-process through ``cli.main``; failures run as a real
subprocess, because there the exit status and the absence of a traceback are the point.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import attrs
import pytest

from monerosim_core.cli import main
from monerosim_core.plugins.host import AUTOLOAD_ENV, TRACE_ENV
from monerosim_core.records.layout import RunDir, RunInfo
from monerosim_core.records.registry import read_registry

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
QUICKSTART = CONFIGS / "quickstart.yaml"
CLI = (sys.executable, "-m", "monerosim_core.cli")


@pytest.fixture(autouse=True)
def _every_installed_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    monkeypatch.delenv(TRACE_ENV, raising=False)


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONEROSIM_")}
    return subprocess.run(
        [*CLI, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        check=False,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *, exit_code: int) -> str:
    """The command failed with ``exit_code`` and said why in plain words; returns stderr."""
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.stderr.startswith("monerosim:") or ": INVALID" in result.stderr
    return result.stderr


# --- validate -------------------------------------------------------------------------


@attrs.frozen
class Row:
    """One agent as ``validate`` lists it."""

    agent: str
    share: str = ""  # hashrate percentage, miners only
    probability: str = ""  # chance of finding a block, miners only
    strategies: str = "-"


def table(output: str) -> list[Row]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["agent", "role"])
    rows = []
    for line in lines[start + 1 :]:
        if line.strip().startswith("solo miners:"):
            break
        tokens = line.split()
        rows.append(
            Row(
                agent=tokens[0],
                share=next((t for t in tokens if t.endswith("%")), ""),
                probability=next((t for t in tokens if t[:2] == "0." and len(t) == 6), ""),
                strategies=line.rsplit("  ", 1)[1],
            )
        )
    return rows


def solo_miners(output: str) -> str:
    [line] = [line for line in output.splitlines() if line.strip().startswith("solo miners:")]
    return line.split(":", 1)[1].strip()


VALIDATE_CASES = {
    "quickstart.yaml": (
        "OK — 12 agents, 5 miners",
        [
            Row("miner-01", "35%", "0.3500"),
            Row("miner-02", "30%", "0.3000"),
            Row("miner-03", "20%", "0.2000"),
            Row("miner-04", "10%", "0.1000"),
            Row("miner-05", "5%", "0.0500", "recipient=random"),  # solo: pays others too
            Row("user-01", strategies="recipient=random"),
            Row("user-02", strategies="recipient=random"),
            Row("user-03", strategies="recipient=random"),
            Row("distributor-01", strategies="miner=balance, recipient=round_robin"),
            Row("block-controller", strategies="miner=weighted"),
            Row("monitor-01"),
            Row("sync-check-01"),
        ],
        "miner-05",
    ),
    "mining_architecture.yaml": (
        "OK — 9 agents, 7 miners",
        [
            Row("miner-01", "25%", "0.2778"),
            Row("miner-02", "25%", "0.2778"),
            Row("miner-03", "10%", "0.1111"),
            Row("miner-04", "10%", "0.1111"),
            Row("miner-05", "10%", "0.1111"),
            Row("miner-06", "5%", "0.0556"),
            Row("miner-07", "5%", "0.0556"),
            Row("user-01", strategies="recipient=random"),
            Row("block-controller", strategies="miner=weighted"),
        ],
        "none",
    ),
    "miner_distributor.yaml": (
        "OK — 6 agents, 2 miners",
        [
            Row("miner-01", "25%", "0.5000"),
            Row("miner-02", "25%", "0.5000"),
            Row("distributor-01", strategies="miner=weighted, recipient=random"),
            Row("block-controller", strategies="miner=weighted"),
            Row("monitor-01"),
            Row("sync-check-01"),
        ],
        "none",
    ),
}


@pytest.mark.parametrize("name", sorted(VALIDATE_CASES))
def test_validate_shows_agents_shares_probabilities_and_strategies(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    summary, rows, solo = VALIDATE_CASES[name]
    assert main(["validate", str(CONFIGS / name)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{CONFIGS / name}: {summary}"
    assert table(out) == rows
    assert sum(float(r.probability) for r in rows if r.probability) == pytest.approx(1, abs=1e-3)
    assert solo_miners(out) == solo


def test_validate_warns_when_hashrates_do_not_add_up_to_100(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", str(CONFIGS / "mining_architecture.yaml")]) == 0
    assert "miner hashrates add up to 90, not 100" in capsys.readouterr().out


def test_validate_reports_every_mistake_with_its_position(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        dedent(
            """\
            general:
              stop_time: "soon"
            agents:
              user_agents:
                - daemon: monerod
                  wallet: monero-wallet-rpc
                  is_miner: true
                  attributes:
                    hashrate: "abc"
                - daemon: monerod
                  wallet: monero-wallet-rpc
                  user_script: agents.nosuch_user
              block_controller:
                script: agents.block_controller
            """
        )
    )
    (tmp_path / "strategies.yaml").write_text(
        dedent(
            """\
            general: {stop_time: 600}
            agents:
              user_agents:
                - daemon: monerod
                  wallet: monero-wallet-rpc
                  is_miner: true
                  attributes: {hashrate: "100"}
                - daemon: monerod
                  wallet: monero-wallet-rpc
                  user_script: agents.miner_distributor
                  attributes: {recipient_selection: round_robbin}
              block_controller:
                script: agents.block_controller
                arguments: ["--strategy nosuch"]
            """
        )
    )
    result = cli("validate", "bad.yaml", "strategies.yaml", QUICKSTART, cwd=tmp_path)

    stderr = assert_clean_failure(result, exit_code=2)
    lines = stderr.splitlines()
    assert "bad.yaml: INVALID" in lines and "strategies.yaml: INVALID" in lines
    problems = [
        line
        for line in lines
        if line.startswith(("bad.yaml:", "strategies.yaml:")) and not line.endswith(": INVALID")
    ]
    expected = [
        ("bad.yaml:2:14", "general.stop_time", 'found "soon"'),
        ("bad.yaml:9:19", "agents.user_agents[0].attributes.hashrate", 'found "abc"'),
        ("bad.yaml:12:20", "agents.user_agents[1].user_script", 'found "agents.nosuch_user"'),
        (
            "strategies.yaml:11:41",
            "agents.user_agents[1].attributes.recipient_selection",
            "did you mean 'round_robin'?",
        ),
        (
            "strategies.yaml:14:17",
            "agents.block_controller.arguments --strategy",
            "unknown miner selection strategy 'nosuch'",
        ),
    ]
    for problem, (where, key, what) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{where}: {key}: ") and what in problem, problem
    # One bad file does not stop the others from being checked.
    assert result.stdout.startswith(f"{QUICKSTART}: OK")


@pytest.mark.parametrize(
    "command", [("validate", "nope.yaml"), ("registry", "nope.yaml", "--run-dir", "run")]
)
def test_missing_config_file_is_a_clear_error(command: tuple[str, ...], tmp_path: Path) -> None:
    stderr = assert_clean_failure(cli(*command, cwd=tmp_path), exit_code=2)
    assert 'cannot read config file "nope.yaml": No such file or directory' in stderr
    assert not (tmp_path / "run").exists()


# --- registry -------------------------------------------------------------------------

AGENT_KEYS = {
    "id",
    "ip_addr",
    "daemon_rpc_port",
    "wallet_rpc_port",
    "wallet_address",
    "is_miner",
    "hashrate",
    "user_script",
    "attributes",
}
MINER_KEYS = {"agent_id", "ip_addr", "wallet_address", "hashrate", "weight", "is_solo_miner"}


def test_registry_writes_the_design_shapes_into_a_private_shared_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    assert main(["registry", str(QUICKSTART), "--run-dir", str(run_dir)]) == 0
    shared = run_dir / "shared"
    assert str(shared / "agent_registry.json") in capsys.readouterr().out
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700

    agents = json.loads((shared / "agent_registry.json").read_text())
    miners = json.loads((shared / "miners.json").read_text())
    assert list(agents) == ["agents"] and list(miners) == ["miners"]
    assert all(set(a) == AGENT_KEYS for a in agents["agents"])
    assert all(set(m) == MINER_KEYS for m in miners["miners"])
    assert len(agents["agents"]) == 12

    by_id = {a["id"]: a for a in agents["agents"]}
    assert len(by_id) == 12
    assert [m["agent_id"] for m in miners["miners"]] == [
        a["id"] for a in agents["agents"] if a["is_miner"]
    ]
    for miner in miners["miners"]:
        agent = by_id[miner["agent_id"]]
        assert (miner["ip_addr"], miner["hashrate"]) == (agent["ip_addr"], agent["hashrate"])
    assert sum(m["weight"] for m in miners["miners"]) == pytest.approx(1)
    assert {m["agent_id"]: m["weight"] for m in miners["miners"]} == pytest.approx(
        {"miner-01": 0.35, "miner-02": 0.30, "miner-03": 0.20, "miner-04": 0.10, "miner-05": 0.05}
    )
    assert [m["agent_id"] for m in miners["miners"] if m["is_solo_miner"]] == ["miner-05"]

    ports = [a[k] for a in agents["agents"] for k in ("daemon_rpc_port", "wallet_rpc_port")]
    assert len([p for p in ports if p is not None]) == len({p for p in ports if p is not None})
    # What agents will discover is what was written.
    assert {a.id for a in read_registry(shared).agents} == set(by_id)


# --- plugins --------------------------------------------------------------------------

SHIPPED = {
    "balance": ("monerosim-strategy-balance", "monerosim_select_miner"),
    "random": (
        "monerosim-strategy-random",
        "monerosim_select_miner, monerosim_select_recipient",
    ),
    "round_robin": ("monerosim-strategy-round-robin", "monerosim_select_recipient"),
    "weighted": ("monerosim-strategy-weighted", "monerosim_select_miner"),
    "selfish": ("monerosim-behaviour-selfish", "monerosim_mining_parent, monerosim_mining_reveal"),
    "lead_stubborn": (
        "monerosim-behaviour-selfish",
        "monerosim_mining_parent, monerosim_mining_reveal",
    ),
}


def test_plugins_lists_the_shipped_plugins_with_their_distributions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plugins"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    for strategy, (distribution, hooks) in SHIPPED.items():
        version = importlib.metadata.version(distribution)
        assert rows[strategy].split()[:3] == [strategy, distribution, version]
        assert rows[strategy].endswith(f" {hooks}")


# --- report and agent on what is not a run --------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d.mkdir(), "is not a monerosim run directory"),
        (lambda d: None, "not a directory"),
    ],
    ids=["empty-dir", "missing-dir"],
)
def test_report_on_what_is_not_a_run_is_a_clear_error(
    make: Callable[[Path], object], message: str, tmp_path: Path
) -> None:
    make(tmp_path / "somewhere")
    stderr = assert_clean_failure(cli("report", "somewhere", cwd=tmp_path), exit_code=1)
    assert "somewhere" in stderr and message in stderr


def test_agent_in_an_empty_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = cli("agent", "nosuch", "--run-dir", "empty", cwd=tmp_path)
    stderr = assert_clean_failure(result, exit_code=1)
    assert "empty is not a monerosim run directory" in stderr


def write_run(run_dir: Path, *, clock_started: bool) -> None:
    """A run directory as the engine leaves it before any agent starts (no daemons)."""
    run = RunDir.create(run_dir, QUICKSTART)
    now = time.time()
    run.write_info(
        RunInfo(
            config=str(QUICKSTART),
            seed=42,
            engine="local",
            stop_time=7200.0,
            block_interval=120.0,
            block_times="fixed",
            tx_propagation=5.0,
            solo_miner_threshold=6.0,
            started_wall=now,
            conductor=str(run_dir / "gone.sock") if clock_started else None,
        )
    )


@pytest.mark.parametrize(
    ("agent", "clock_started", "message"),
    [
        ("nosuch", True, "no agent 'nosuch' in this run"),
        ("miner-01", False, "the run has not started simulated time yet"),
        ("miner-01", True, "cannot reach the conductor at"),
    ],
    ids=["unknown-agent", "time-not-started", "conductor-gone"],
)
def test_agent_that_cannot_start_in_a_run_is_a_clear_error(
    agent: str, clock_started: bool, message: str, tmp_path: Path
) -> None:
    write_run(tmp_path / "run", clock_started=clock_started)
    result = cli("agent", agent, "--run-dir", "run", cwd=tmp_path)
    assert message in assert_clean_failure(result, exit_code=1)


def test_agent_in_a_run_with_a_damaged_run_json_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{")
    result = cli("agent", "miner-01", "--run-dir", "run", cwd=tmp_path)
    assert "run.json" in assert_clean_failure(result, exit_code=1)


def test_run_dir_paths_are_absolute_even_when_given_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Daemons run in their own data directories: a relative path would point elsewhere."""
    monkeypatch.chdir(tmp_path)
    run = RunDir.create(Path("runs") / "r1", QUICKSTART)
    assert run.root.is_absolute() and run.root == tmp_path / "runs" / "r1"
    assert run.node_dir("miner-01").is_absolute()


# --- run directories ------------------------------------------------------------------


def test_a_run_into_a_non_empty_directory_is_refused_and_nothing_is_touched(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(QUICKSTART.read_text())
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("earlier results")

    for run_dir in ("old", "."):
        result = cli("run", "config.yaml", "--run-dir", run_dir, cwd=tmp_path)
        stderr = assert_clean_failure(result, exit_code=1)
        assert "exists and is not empty" in stderr and "--force" in stderr
    assert (tmp_path / "old" / "keep.txt").read_text() == "earlier results"
    assert config.read_text() == QUICKSTART.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "old"]


def test_force_moves_the_old_run_aside_and_the_new_one_is_private(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "run.json").write_text("{}")
    run = RunDir.create(tmp_path / "r", QUICKSTART, force=True)
    assert stat.S_IMODE(run.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(run.shared.stat().st_mode) == 0o700
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("r.old-")]
    assert (aside / "run.json").read_text() == "{}"
    assert run.config.read_text() == QUICKSTART.read_text()


@pytest.mark.parametrize("speed", ["0", "-1", "nan", "1e-300", "1e99", "fast"])
def test_an_absurd_speed_cap_is_refused(tmp_path: Path, speed: str) -> None:
    result = cli("run", QUICKSTART, "--speed", speed, "--run-dir", "r", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--speed: expected a number from 0.001 to 1e+06" in result.stderr
    assert not (tmp_path / "r").exists()


def test_a_reader_that_goes_away_ends_output_quietly(tmp_path: Path) -> None:
    result = subprocess.run(
        f"{sys.executable} -m monerosim_core.cli plugins | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.startswith("plugin")
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


# --- damaged run directories: one clear line each -------------------------------------


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("agent_registry.json", b"\xff\xfe{}", "not UTF-8 text"),
        ("agent_registry.json", b"[" * 100_000, "JSON nested too deeply"),
        ("miners.json", b'{"miners": [{"agent_id": 5}]}', "field 'agent_id': expected a string"),
    ],
    ids=["registry-not-utf8", "registry-too-deep", "miner-id-not-a-string"],
)
def test_a_damaged_registry_is_one_clear_line(
    tmp_path: Path, file: str, content: bytes, message: str
) -> None:
    from test_report import make_run, mined

    run_dir = make_run(tmp_path, mined({"m1": 2, "m2": 1}))
    (run_dir / "shared" / file).write_bytes(content)
    stderr = assert_clean_failure(cli("report", run_dir, cwd=tmp_path), exit_code=1)
    assert message in stderr and file in stderr, stderr


def test_a_registry_port_given_as_text_is_refused_clearly(tmp_path: Path) -> None:
    from test_report import make_run, mined

    run_dir = make_run(tmp_path, mined({"m1": 2, "m2": 1}))
    registry = run_dir / "shared" / "agent_registry.json"
    doc = json.loads(registry.read_text())
    doc["agents"][0]["daemon_rpc_port"] = "28000"
    registry.write_text(json.dumps(doc))
    stderr = assert_clean_failure(cli("report", run_dir, cwd=tmp_path), exit_code=1)
    assert "field 'daemon_rpc_port': expected an integer, found the string '28000'" in stderr


def test_broken_journal_lines_are_findings_not_failures(tmp_path: Path) -> None:
    from test_report import block, make_run

    good = [json.dumps(block(1, "m1", sim_time=120.0)), json.dumps(block(2, "m2", sim_time=240.0))]
    nan_time = good[1].replace("240.0", "NaN").replace('"height": 2', '"height": 3')
    run_dir = make_run(tmp_path, "", stop_time=300.0)
    lines = [good[0].encode(), b"\xff not utf-8", nan_time.encode(), good[1].encode()]
    (run_dir / "shared" / "blocks.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = cli("report", run_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "blocks.jsonl line 2: not UTF-8" in result.stdout
    assert "blocks.jsonl line 3: not valid JSON (NaN" in result.stdout
    assert "2 mined" in result.stdout
