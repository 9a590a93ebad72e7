"""The README's main job, end to end: the quickstart on real daemons and wallets.

Miners win blocks by hashrate, the distributor pays users from miner wallets,
users and the solo miner pay each other, transfers confirm on chain, and every
wallet's final balance matches what the records say flowed in and out of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_helpers import finish, processes_of_run, records, start_run

from monerosim_core.records.layout import (
    BLOCKS_FILE,
    CONFIRMATIONS_FILE,
    NODE_STATUS_FILE,
    SYNC_EVENTS_FILE,
    TRANSFERS_FILE,
)

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

QUICKSTART = Path(__file__).resolve().parent.parent / "configs" / "quickstart.yaml"


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("quickstart") / "run"
    code, out = finish(start_run(QUICKSTART, run_dir), timeout=900)
    assert code == 0, out[-5000:]
    assert processes_of_run(run_dir) == []
    return run_dir


def confirmed(run_dir: Path, kind: str, sender: str, recipient: str) -> list[dict[str, object]]:
    in_blocks = {c["tx_hash"] for c in records(run_dir, CONFIRMATIONS_FILE)}
    return [
        t
        for t in records(run_dir, TRANSFERS_FILE)
        if t["kind"] == kind
        and str(t["sender"]).startswith(sender)
        and str(t["recipient"]).startswith(recipient)
        and t["tx_hash"] in in_blocks
    ]


def test_blocks_come_exactly_every_interval_after_the_bootstrap(quickstart_run: Path) -> None:
    blocks = records(quickstart_run, BLOCKS_FILE)
    assert sum(b["bootstrap"] for b in blocks) == 100
    mined = [b["sim_time"] for b in blocks if not b["bootstrap"]]
    assert mined == [120.0 * k for k in range(1, 60)]  # t < 7200, exact
    summary = json.loads((quickstart_run / "report" / "summary.json").read_text())
    assert all(n["in_sync"] for n in summary["chain"]["nodes"])
    assert summary["intervals"]["fit"]["consistent"] is True
    assert summary["intervals"]["missing"] == []
    on_chain = summary["records_on_chain"]
    assert (on_chain["off_chain"], on_chain["timestamp_mismatches"], on_chain["unrecorded"]) == (
        [],
        [],
        [],
    )
    assert summary["faults"]["orphans"] == []


def test_honest_miners_never_fork_the_chain(quickstart_run: Path) -> None:
    """The default mining behaviour is honest: no orphan, no node ever reorganised."""
    forks = json.loads((quickstart_run / "report" / "summary.json").read_text())["forks"]
    assert forks["withholder"] is None and forks["publications"] == 0
    assert all(m["orphaned_published"] == m["never_published"] == 0 for m in forks["miners"])
    assert len(forks["reorgs"]) == 9 and all(r["count"] == 0 for r in forks["reorgs"])
    assert forks["main_chain_blocks"] == 59
    assert "No forks" in (quickstart_run / "report" / "summary.md").read_text()


def test_miners_pay_users_and_users_pay_each_other_on_chain(quickstart_run: Path) -> None:
    assert confirmed(quickstart_run, "distribution", "miner-", "user-")
    assert confirmed(quickstart_run, "user", "user-", "user-")
    assert confirmed(quickstart_run, "user", "miner-05", "")  # the solo miner transacts
    for t in records(quickstart_run, TRANSFERS_FILE):
        assert t["sender"] != t["recipient"]


def test_every_wallet_balance_matches_the_records(quickstart_run: Path) -> None:
    """Rewards won - sent - fees + received, against the wallets' real balances."""
    summary = json.loads((quickstart_run / "report" / "summary.json").read_text())
    wallets = summary["wallets"]["wallets"]
    assert len(wallets) == 9
    assert {w["agent_id"]: w["status"] for w in wallets} == {
        w["agent_id"]: "match" for w in wallets
    }
    users = [w for w in wallets if w["agent_id"].startswith("user-")]
    assert all(w["received"] > 0 for w in users)


def test_monitor_and_sync_check_watched_the_network(quickstart_run: Path) -> None:
    samples = records(quickstart_run, NODE_STATUS_FILE)
    assert [s["sim_time"] for s in samples] == [60.0 * k for k in range(120)]
    nodes = {f"miner-0{i}" for i in range(1, 6)} | {"user-01", "user-02", "user-03"}
    nodes.add("distributor-01")
    assert set(samples[-1]["nodes"]) == nodes
    assert all(n["height"] is not None and n["peers"] >= 1 for n in samples[-1]["nodes"].values())
    assert all(w["balance"] is not None for w in samples[-1]["wallets"].values())
    heights = [
        s["nodes"]["miner-01"]["height"]
        for s in samples
        if s["nodes"]["miner-01"]["height"] is not None
    ]
    assert heights == sorted(heights) and heights[-1] > heights[0]
    events = records(quickstart_run, SYNC_EVENTS_FILE)
    assert not [e for e in events if e["detail"].startswith("fork")]
