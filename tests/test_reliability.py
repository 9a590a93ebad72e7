"""Faults on real daemons end in a faithful report: nothing lost, nothing hidden.

- A miner's monerod stopped (SIGSTOP) during the run: simulated time waits, the block
  goes to another miner, no block of the stopped node ever forks the chain, every
  scheduled block is there, and the report tells the story.
- The block controller killed between mining a block and recording it: the engine
  starts it again, the lost record is rebuilt from the chain, and the run goes on.
- A user's wallet-rpc killed: its skipped turns are faults in the report.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from engine_helpers import agent_pid, finish, pid_of, records, start_run, wait_for, write_config

from monerosim_core.records.layout import BLOCK_INTENTS_FILE, BLOCKS_FILE, FAULTS_FILE, RunDir
from monerosim_core.report import build_report

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

BLOCKS_ONLY = """\
general: {{stop_time: "{stop_time}", seed: {seed}, bootstrap_blocks: 5}}
agents:
  user_agents:
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "50"}}}}
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "30"}}}}
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "20"}}}}
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 60"]
"""

WITH_A_USER = """\
general: {stop_time: "40m", seed: 31, bootstrap_blocks: 100}
agents:
  user_agents:
    - {daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {hashrate: "60"}}
    - {daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {hashrate: "40"}}
    - daemon: monerod
      wallet: monero-wallet-rpc
      user_script: agents.regular_user
      attributes: {transaction_interval: "60"}
    - daemon: monerod
      wallet: monero-wallet-rpc
      user_script: agents.miner_distributor
      attributes: {transaction_frequency: "120", recipient_selection: round_robin}
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 120"]
"""


def mined_times(run_dir: Path) -> list[float]:
    return [b["sim_time"] for b in records(run_dir, BLOCKS_FILE) if not b["bootstrap"]]


def assert_one_record_per_height(run_dir: Path) -> None:
    heights = Counter(b["height"] for b in records(run_dir, BLOCKS_FILE))
    assert sorted(heights) == list(range(1, max(heights) + 1)), "a height has no record"
    assert set(heights.values()) == {1}, "a height was recorded twice"
    report = build_report(run_dir)
    assert report.records_on_chain is not None
    assert report.records_on_chain.off_chain == ()
    assert report.records_on_chain.unrecorded == ()


def faults(run_dir: Path) -> list[dict[str, object]]:
    return records(run_dir, FAULTS_FILE)


def test_a_stalled_miner_node_costs_no_simulated_time_and_forks_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, BLOCKS_ONLY, stop_time="30m", seed=4)
    run_dir = tmp_path / "run"
    proc = start_run(config, run_dir, "--speed", "20")  # 30 simulated min in ~90 s
    wait_for(lambda: len(mined_times(run_dir)) >= 2, 240, "two blocks after the bootstrap")
    node = pid_of(run_dir, "miner-01")
    os.kill(node, signal.SIGSTOP)
    try:
        # Long enough for the controller to choose it (half the hashrate) and give up
        # on it (10 s RPC timeout) more than once.
        time.sleep(40)
    finally:
        os.kill(node, signal.SIGCONT)
    code, out = finish(proc, timeout=600)
    assert code == 0, out[-4000:]

    # Simulated time waited: every scheduled block is there, at its exact time.
    assert mined_times(run_dir) == [60.0 * k for k in range(1, 30)]
    assert_one_record_per_height(run_dir)
    # (A loaded machine can make another node miss a deadline too: that is recorded
    # the same way, so only miner-01's faults are required here.)
    stalled = [f for f in faults(run_dir) if f["kind"] == "miner_failed"]
    assert [f for f in stalled if f["subject"] == "miner-01" and f["sim_time"] > 0]
    sat_out = [f for f in faults(run_dir) if f["kind"] == "miner_sat_out"]
    assert [f for f in sat_out if f["subject"] == "miner-01"]
    report = build_report(run_dir)
    # No block of the stopped node ended up anywhere, and the report says what happened.
    assert report.faults.orphans == ()
    assert report.blocks.excluded > 0 and "miner-01" in report.blocks.excluded_miners
    assert any("left out of the share test" in f for f in report.findings)
    assert any("fault(s) recorded" in f and "miner_failed" in f for f in report.findings)


def test_a_controller_killed_before_recording_its_block_is_restarted(tmp_path: Path) -> None:
    config = write_config(tmp_path, BLOCKS_ONLY, stop_time="20m", seed=9)
    run_dir = tmp_path / "run"
    marker = tmp_path / "paused-after-submit"
    env = {"MONEROSIM_FAULT_PAUSE": f"after_submit:120:{marker}"}
    proc = start_run(config, run_dir, env=env)
    wait_for(marker.exists, 300, "the controller to pause between mining and recording")
    intents = records(run_dir, BLOCK_INTENTS_FILE)
    in_flight = intents[-1]["height"]
    assert in_flight not in {b["height"] for b in records(run_dir, BLOCKS_FILE)}
    os.kill(agent_pid(run_dir, "block-controller"), signal.SIGKILL)
    code, out = finish(proc, timeout=600)
    assert code == 0, out[-4000:]

    assert mined_times(run_dir) == [60.0 * k for k in range(1, 20)]
    assert_one_record_per_height(run_dir)
    [rebuilt] = [b for b in records(run_dir, BLOCKS_FILE) if b["reconciled"]]
    assert rebuilt["height"] == in_flight
    kinds = Counter(f["kind"] for f in faults(run_dir))
    assert (kinds["agent_lost"], kinds["agent_restarted"], kinds["block_reconciled"]) == (1, 1, 1)
    info = RunDir(run_dir).read_info()
    assert info.end_reason == "completed"
    report = build_report(run_dir)
    assert any("block-controller died and was restarted" in f for f in report.findings)


def test_a_dead_wallet_shows_in_the_report_as_skipped_turns(tmp_path: Path) -> None:
    config = tmp_path / "scenario.yaml"
    config.write_text(WITH_A_USER)
    run_dir = tmp_path / "run"
    proc = start_run(config, run_dir, "--speed", "30")
    wait_for(lambda: len(mined_times(run_dir)) >= 1, 300, "the first block after the bootstrap")
    os.kill(pid_of(run_dir, "user-01-wallet"), signal.SIGKILL)
    code, out = finish(proc, timeout=600)
    assert code == 0, out[-4000:]

    skipped = [f for f in faults(run_dir) if f["kind"] == "turn_skipped"]
    assert skipped and {f["subject"] for f in skipped} == {"user-01"}
    report = build_report(run_dir)
    assert any("fault(s) recorded" in f and "turn_skipped" in f for f in report.findings)
    user = next(w for w in report.wallets.wallets if w.agent_id == "user-01")
    assert user.status == "unknown" and "exited" in user.note
