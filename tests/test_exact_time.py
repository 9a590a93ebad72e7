"""Simulated time is exact at full pace, whatever the machine does: real runs.

Each run goes as fast as the machine allows (no --speed). Every fixed interval must
be exact, an exponential schedule must be the one replayed from the seed (and pass
the Kolmogorov-Smirnov test), every block's on-chain timestamp must equal its
record, and an agent that takes seconds per action must not cost simulated time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from engine_helpers import finish, processes_of_run, records, start_run

from monerosim_core.config.model import BlockTimes
from monerosim_core.planning.schedule import blocks_due, bootstrap_times, chain_timestamp
from monerosim_core.records.layout import BLOCKS_FILE, NODE_STATUS_FILE, RunDir
from monerosim_core.report import build_report

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

BOOTSTRAP = 5
SEED = 17

CONFIG = """\
general:
  stop_time: "{stop_time}"
  seed: {seed}
  bootstrap_blocks: {bootstrap}
agents:
  user_agents:
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "50"}}}}
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "30"}}}}
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "20"}}}}
  block_controller:
    script: agents.block_controller
    arguments: [{arguments}]
  pure_script_agents:
    - {{script: scripts.monitor, arguments: ["--interval 300"]}}
"""

SLEEPY_MODULE = """\
import time

from monerosim_core import hookimpl


@hookimpl
def monerosim_select_miner(candidates, rng):
    time.sleep(2.0)  # a slow strategy: every block's action takes two wall seconds
    return rng.choice(candidates)
"""


def run(base: Path, stop_time: str, arguments: str, env: dict[str, str] | None = None) -> Path:
    config = base / "scenario.yaml"
    config.write_text(
        CONFIG.format(stop_time=stop_time, seed=SEED, bootstrap=BOOTSTRAP, arguments=arguments)
    )
    run_dir = base / "run"
    code, out = finish(start_run(config, run_dir, env=env), timeout=600)
    assert code == 0, out[-4000:]
    assert processes_of_run(run_dir) == []
    return run_dir


def mined_times(run_dir: Path) -> list[float]:
    return [b["sim_time"] for b in records(run_dir, BLOCKS_FILE) if not b["bootstrap"]]


def assert_timestamps_are_the_records(run_dir: Path) -> None:
    info = RunDir(run_dir).read_info()
    assert info.chain_epoch is not None
    blocks = records(run_dir, BLOCKS_FILE)
    for b in blocks:
        assert b["timestamp"] == chain_timestamp(info.chain_epoch, b["sim_time"]), b
    report = build_report(run_dir)
    on_chain = report.records_on_chain
    assert on_chain is not None
    assert on_chain.checked == len(blocks) == on_chain.chain_tip
    assert (on_chain.off_chain, on_chain.timestamp_mismatches, on_chain.unrecorded) == ((), (), ())


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(tmp_path_factory.mktemp("fixed"), "1h", '"--interval 60"')


def test_fixed_intervals_are_exact(fixed_run: Path) -> None:
    assert mined_times(fixed_run) == [60.0 * k for k in range(1, 60)]  # to the bit
    bootstrap = [b["sim_time"] for b in records(fixed_run, BLOCKS_FILE) if b["bootstrap"]]
    assert bootstrap == bootstrap_times(BOOTSTRAP, 60.0)
    samples = [s["sim_time"] for s in records(fixed_run, NODE_STATUS_FILE)]
    assert samples == [300.0 * k for k in range(12)]


def test_fixed_run_block_timestamps_equal_their_records(fixed_run: Path) -> None:
    assert_timestamps_are_the_records(fixed_run)


def test_fixed_run_report_has_no_findings(fixed_run: Path) -> None:
    report = build_report(fixed_run)
    assert report.findings == ()
    assert report.intervals.fit.consistent is True
    assert report.intervals.mean == 60.0
    assert report.timing.pace is not None and report.timing.pace > 1


def test_exponential_times_are_the_seeded_schedule_and_pass_ks(tmp_path: Path) -> None:
    run_dir = run(tmp_path, "3h", '"--interval 60", "--block-times exponential"')
    expected = blocks_due(60.0, BlockTimes.EXPONENTIAL, SEED, 3 * 3600.0)
    assert mined_times(run_dir) == expected
    report = build_report(run_dir)
    assert report.intervals.fit.ks is not None
    assert report.intervals.fit.ks.p_value >= 0.001
    assert report.findings == ()
    assert_timestamps_are_the_records(run_dir)


def test_a_slow_agent_costs_wall_time_not_simulated_time(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "sleepy_strategy.py").parent.mkdir()
    (site / "sleepy_strategy.py").write_text(SLEEPY_MODULE)
    info = site / "sleepy_strategy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sleepy-strategy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[monerosim]\nsleepy = sleepy_strategy\n")

    started = time.monotonic()
    run_dir = run(
        tmp_path, "630s", '"--interval 60", "--strategy sleepy"', env={"PYTHONPATH": str(site)}
    )

    # 10 blocks, each waiting 2 s of wall time in its strategy, and not a millisecond
    # of simulated time lost or gained.
    assert mined_times(run_dir) == [60.0 * k for k in range(1, 11)]
    assert time.monotonic() - started >= 10 * 2.0
    timing = json.loads((run_dir / "shared" / "timing.json").read_text())
    controller = timing["agents"]["block-controller"]
    assert controller["busy_wall"] >= 10 * 2.0
    assert controller["longest_action"] >= 2.0
    report = build_report(run_dir)
    assert report.findings == ()
    assert_timestamps_are_the_records(run_dir)
