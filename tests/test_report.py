"""The report, on synthetic run directories whose right answers are known."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from run_builder import MINERS, REWARD, USERS, XMR, block, make_run, mined, nodes, tx, wallets

from monerosim_core.records.layout import (
    BLOCKS_FILE,
    FINAL_STATE_FILE,
    NODE_STATUS_FILE,
    SYNC_EVENTS_FILE,
    TRANSFERS_FILE,
)
from monerosim_core.report import (
    Report,
    ReportError,
    build_report,
    render_markdown,
    render_terminal,
    report_json,
    write_report,
)
from monerosim_core.report.plots import ALL_PNGS
from monerosim_core.report.xmr import format_xmr

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def share_of(report: Report, miner: str) -> Any:
    return next(s for s in report.blocks.shares if s.agent_id == miner)


def by_agent(items: Iterable[Any]) -> dict[str, Any]:
    return {item.agent_id: item for item in items}


# ---------------------------------------------------------------- blocks per miner


def test_fair_allocation_is_consistent_with_the_weights(tmp_path: Path) -> None:
    bootstrap = [block(h, "m1", bootstrap=True, sim_time=0.0) for h in range(1, 6)]
    run_dir = make_run(tmp_path, bootstrap + mined({"m1": 50, "m2": 30, "m3": 20}, 6))

    report = build_report(run_dir)

    b = report.blocks
    assert (b.total, b.bootstrap, b.counted) == (105, 5, 100)
    assert [(w.agent_id, w.blocks) for w in b.bootstrap_winners] == [("m1", 5)]
    m2 = share_of(report, "m2")
    assert (m2.observed, m2.observed_share) == (30, pytest.approx(0.3))
    assert (m2.weight, m2.expected) == (pytest.approx(0.3), pytest.approx(30.0))
    assert b.fit.test is not None
    assert b.fit.test.statistic == pytest.approx(0.0, abs=1e-12)
    assert b.fit.test.dof == 2
    assert b.fit.consistent is True
    assert b.fit.small_expected == ()
    assert "Consistent" in b.fit.verdict
    assert report.findings == ()


def test_clearly_biased_allocation_is_flagged(tmp_path: Path) -> None:
    report = build_report(make_run(tmp_path, mined({"m1": 90, "m2": 5, "m3": 5})))

    fit = report.blocks.fit
    assert fit.test is not None
    # (90-50)^2/50 + (5-30)^2/30 + (5-20)^2/20
    assert fit.test.statistic == pytest.approx(32.0 + 625 / 30 + 11.25)
    assert fit.test.p_value < 1e-12
    assert fit.consistent is False
    assert "NOT consistent" in fit.verdict
    assert any("NOT consistent" in f for f in report.findings)


def test_small_expected_counts_are_flagged_and_pooled(tmp_path: Path) -> None:
    # 20 blocks: expected 10, 6, 4; m3 is under 5 and gets pooled with m2.
    report = build_report(make_run(tmp_path, mined({"m1": 10, "m2": 6, "m3": 4})))

    fit = report.blocks.fit
    assert fit.small_expected == ("m3",)
    assert fit.pooled_groups == (("m3", "m2"),)
    assert fit.pooled is not None
    assert fit.pooled.dof == 1
    assert fit.consistent is True
    assert "unreliable" in fit.verdict


def test_too_few_blocks_give_no_verdict(tmp_path: Path) -> None:
    report = build_report(make_run(tmp_path, mined({"m1": 3, "m2": 2, "m3": 1})))

    fit = report.blocks.fit
    assert set(fit.small_expected) == {"m1", "m2", "m3"}
    assert fit.consistent is None
    assert fit.test is not None  # still shown, for reference
    assert "No verdict" in fit.verdict


def test_reselected_winners_are_counted_and_listed(tmp_path: Path) -> None:
    blocks = mined({"m1": 5, "m2": 3, "m3": 2})
    blocks.append(block(11, "m1", reselected_from=["m2", "m3"]))

    report = build_report(make_run(tmp_path, blocks))

    assert report.blocks.counted == 11
    assert share_of(report, "m1").observed == 6
    [reselection] = report.blocks.reselections
    assert (reselection.height, reselection.winner) == (11, "m1")
    assert reselection.reselected_from == ("m2", "m3")
    assert any("reselected" in f for f in report.findings)
    assert "| 11 | m1 | m2, m3 |" in render_markdown(report)


def test_winner_outside_miners_json_is_reported_not_tested(tmp_path: Path) -> None:
    blocks = [*mined({"m1": 5, "m2": 3, "m3": 2}), block(11, "u1")]

    report = build_report(make_run(tmp_path, blocks))

    assert report.blocks.counted == 10
    assert [(w.agent_id, w.blocks) for w in report.blocks.unknown_winners] == [("u1", 1)]
    assert any("'u1'" in f and "miners.json" in f for f in report.findings)


def test_inter_block_times_leave_out_bootstrap_blocks(tmp_path: Path) -> None:
    blocks = [block(h, "m1", bootstrap=True, sim_time=0.0) for h in (1, 2, 3)]
    blocks += [
        block(4, "m1", sim_time=10.0),
        block(5, "m2", sim_time=110.0),
        block(6, "m3", sim_time=260.0),
        block(7, "m1", sim_time=410.0),
    ]

    intervals = build_report(make_run(tmp_path, blocks)).intervals

    assert intervals.count == 3  # 100, 150, 150
    assert intervals.mean == pytest.approx(400 / 3)
    assert intervals.median == pytest.approx(150.0)
    assert intervals.stdev == pytest.approx(math.sqrt(2500 / 3))
    assert (intervals.minimum, intervals.maximum) == (100.0, 150.0)
    assert intervals.configured == 120.0


# ---------------------------------------------------------------- rewards and wallets


def _ledger_run(tmp_path: Path, m2_balance: int = REWARD) -> Path:
    blocks = [
        block(1, "m1", bootstrap=True, sim_time=0.0),
        block(2, "m1"),
        block(3, "m1"),
        block(4, "m2"),
    ]
    transactions = [
        tx("m1", "u1", XMR // 2, kind="distribution", fee=1_000_000, confirmed_height=5),
        tx("m1", "u2", XMR // 5, kind="distribution", fee=2_000_000),  # still in the pool
        tx("u1", "u2", XMR // 10, fee=3_000_000, confirmed_height=6),
        tx("u2", "u1", XMR, outcome="failed", cause="not_enough_unlocked"),
    ]
    balances = {
        "m1": 3 * REWARD - XMR // 2 - 1_000_000 - XMR // 5 - 2_000_000,
        "m2": m2_balance,
        "m3": 0,
        "u1": XMR // 2 - XMR // 10 - 3_000_000,
        "u2": XMR // 10 + XMR // 5,  # wallet-rpc's balance counts incoming pool transfers
    }
    tips = {a: (4, "f" * 64) for a in balances}
    return make_run(
        tmp_path,
        blocks,
        transactions=transactions,
        final_state={"nodes": nodes(tips), "wallets": wallets(balances)},
    )


def test_rewards_and_transfers_reconcile_with_wallet_balances(tmp_path: Path) -> None:
    report = build_report(_ledger_run(tmp_path))

    checks = by_agent(report.wallets.wallets)
    assert {a: c.status for a, c in checks.items()} == dict.fromkeys(
        ["m1", "m2", "m3", "u1", "u2"], "match"
    )
    m1 = checks["m1"]
    assert (m1.blocks_won, m1.rewards) == (3, 3 * REWARD)  # bootstrap block included
    assert (m1.sent, m1.fees, m1.received) == (XMR // 2 + XMR // 5, 3_000_000, 0)
    assert checks["u2"].received == XMR // 10 + XMR // 5  # the pool transfer counts too
    assert report.findings[-1].startswith("1 of 4 transfers failed")


def test_a_wallet_off_by_one_atomic_unit_is_flagged(tmp_path: Path) -> None:
    report = build_report(_ledger_run(tmp_path, m2_balance=REWARD - 1))

    m2 = by_agent(report.wallets.wallets)["m2"]
    assert m2.status == "mismatch"
    assert (m2.expected, m2.balance, m2.difference) == (REWARD, REWARD - 1, -1)
    assert report.wallets.count("match") == 4
    assert any(f.startswith("Wallet m2") and "-0.000000000001" in f for f in report.findings)
    assert "| m2 | yes | 1 | 0.600000000000 |" in render_markdown(report)


def test_unreadable_wallet_is_unknown_not_a_mismatch(tmp_path: Path) -> None:
    final = {"nodes": {}, "wallets": wallets({"m1": REWARD}, m2="connection refused")}
    report = build_report(make_run(tmp_path, [block(1, "m1"), block(2, "m2")], final_state=final))

    checks = by_agent(report.wallets.wallets)
    assert checks["m1"].status == "match"  # no transactions file: rewards only
    assert checks["m2"].status == "unknown"
    assert "connection refused" in checks["m2"].note
    assert checks["m3"].note == "wallet not in final_state.json"


def test_block_paid_to_another_address_is_flagged(tmp_path: Path) -> None:
    blocks = [block(1, "m1"), block(2, "m2", wallet_address="addr-somebody-else")]

    report = build_report(make_run(tmp_path, blocks))

    [payout] = report.wallets.payout_mismatches
    assert (payout.height, payout.winner, payout.registered) == (2, "m2", "addr-m2")
    assert any("Block 2 paid addr-somebody-else" in f for f in report.findings)


def test_xmr_is_shown_exactly() -> None:
    assert format_xmr(REWARD) == "0.600000000000"
    assert format_xmr(12 * XMR + 1) == "12.000000000001"
    assert format_xmr(-1, signed=True) == "-0.000000000001"
    assert format_xmr(5, signed=True) == "+0.000000000005"


# ---------------------------------------------------------------- transfers


def test_transfer_counts_causes_and_confirmation_delays(tmp_path: Path) -> None:
    transactions = [
        tx("m1", "u1", XMR, kind="distribution", sent_height=10, confirmed_height=11),
        tx("m2", "u2", XMR, kind="distribution", sent_height=10, confirmed_height=11),
        tx("u1", "u2", 5, sent_height=12, confirmed_height=14, attempts=3),
        tx("u2", "u1", 5, sent_height=12, confirmed_height=15),
        tx("u2", "u1", 5, sent_height=20),  # pending at the end
        tx("u1", "u2", 5, outcome="failed", cause="not_enough_unlocked"),
        tx("u2", "u1", 5, outcome="failed", cause="not_enough_unlocked"),
        tx("m3", "u1", 5, kind="distribution", outcome="failed", cause="connection"),
        tx("u1", "u1", 5, outcome="failed", cause=None),
    ]

    confirming = [block(h, "m1", sim_time=1060.0) for h in (11, 14, 15)]
    t = build_report(make_run(tmp_path, confirming, transactions=transactions)).transfers

    assert t is not None
    totals = t.totals
    assert (totals.records, totals.sent, totals.confirmed, totals.pending, totals.failed) == (
        9,
        5,
        4,
        1,
        4,
    )
    kinds = {k.kind: k.counts for k in t.by_kind}
    assert (kinds["distribution"].confirmed, kinds["distribution"].failed) == (2, 1)
    assert (kinds["user"].records, kinds["user"].pending) == (6, 1)
    assert {c.cause: c.count for c in t.failed_by_cause} == {
        "not_enough_unlocked": 2,
        "connection": 1,
        "unknown": 1,
    }
    assert t.failed_by_cause[0].example == "wallet said: not_enough_unlocked"
    assert t.retried == 1
    conf = t.confirmation
    assert conf.measured == 4  # delays 1, 1, 2, 3
    assert {w.blocks: w.share for w in conf.within} == {1: 0.5, 2: 0.75, 5: 1.0}
    assert [(d.blocks, d.count) for d in conf.histogram] == [(1, 2), (2, 1), (3, 1)]
    assert conf.mean_blocks == pytest.approx(1.75)
    assert conf.max_blocks == 3
    assert conf.mean_seconds == pytest.approx(60.0)


# ---------------------------------------------------------------- chain heights and sync


def test_out_of_sync_and_unreachable_nodes_are_detected(tmp_path: Path) -> None:
    tip = (10, "a" * 64)
    final = {
        "nodes": nodes({"m1": tip, "m2": tip, "u1": tip, "u2": (9, "b" * 64)}, m3="timeout"),
        "wallets": {},
    }
    events: list[dict[str, Any]] = [
        {"agent": "sync", "change": "diverged", "sim_time": 100.0, "heights": {"m1": 5, "u2": 4}},
        {"agent": "sync", "change": "agreed", "sim_time": 160.0, "heights": {"m1": 6, "u2": 6}},
        {"agent": "sync", "change": "diverged", "sim_time": 900.0, "heights": {"m1": 10, "u2": 9}},
    ]

    report = build_report(make_run(tmp_path, [], final_state=final, sync_events=events))

    chain = report.chain
    assert chain is not None
    assert (chain.majority_height, chain.majority_hash) == tip
    assert chain.out_of_sync == ("u2",)
    assert chain.unreachable == ("m3",)
    assert (chain.in_sync, chain.reachable) == (3, 4)
    assert report.sync is not None
    assert (report.sync.unresolved, report.sync.diverged_seconds) == (1, 60.0)
    assert any("majority tip" in f and "u2" in f for f in report.findings)
    assert any("still open" in f for f in report.findings)
    assert "| u2 | 9 | `bbbbbbbbbbbb` | **no** |" in render_markdown(report)


# ---------------------------------------------------------------- written report


def _full_run(tmp_path: Path) -> Path:
    blocks = [block(1, "m1", bootstrap=True, sim_time=0.0), *mined({"m1": 5, "m2": 3, "m3": 2}, 2)]
    samples = [
        {
            "sim_time": 120.0 * i,
            "wall_time": 1_700_000_000.0 + i,
            "nodes": {
                a: {"height": i + 1, "top_hash": "x", "mempool": 0, "peers": 4}
                for a in [*MINERS, *USERS]
            },
            "wallets": {},
        }
        for i in range(12)
    ]
    tips = {a: (11, "c" * 64) for a in [*MINERS, *USERS]}
    return make_run(
        tmp_path,
        blocks,
        transactions=[tx("m1", "u1", XMR // 10, confirmed_height=11)],
        node_status=samples,
        sync_events=[],
        final_state={"nodes": nodes(tips), "wallets": {}},
    )


def test_write_report_writes_markdown_and_json_with_the_same_figures(tmp_path: Path) -> None:
    run_dir = _full_run(tmp_path)

    report = write_report(run_dir)

    md = (run_dir / "report" / "summary.md").read_text()
    for heading in (
        "## Findings",
        "## Blocks per miner",
        "## Inter-block times",
        "## Rewards and wallet balances",
        "## Transfers",
        "## Chain heights per node",
        "## Plots",
    ):
        assert heading in md
    doc = json.loads((run_dir / "report" / "summary.json").read_text())
    assert doc == json.loads(json.dumps(report_json(report)))
    assert doc["schema"] == 3
    assert doc["blocks"]["counted"] == 10
    assert [s["observed"] for s in doc["blocks"]["shares"]] == [5, 3, 2]
    assert doc["transfers"]["totals"]["confirmed"] == 1
    assert doc["chain"]["in_sync"] == 5
    text = render_terminal(report)
    assert "10 mined + 1 bootstrap" in text
    assert str(run_dir / "report" / "summary.md") in text


def test_plots_are_valid_pngs(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    run_dir = _full_run(tmp_path)

    report = write_report(run_dir)

    assert report.plots is not None
    assert report.plots.files == ALL_PNGS
    for name in ALL_PNGS:
        assert (run_dir / "report" / name).read_bytes().startswith(PNG_MAGIC)
        assert f"]({name})" in (run_dir / "report" / "summary.md").read_text()


def test_plots_are_skipped_with_a_reason_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = _full_run(tmp_path)
    (run_dir / "report").mkdir()
    stale = run_dir / "report" / ALL_PNGS[0]
    stale.write_bytes(PNG_MAGIC)  # from an earlier report, when matplotlib was there
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)

    report = write_report(run_dir)

    assert report.plots is not None
    assert report.plots.files == ()
    assert not stale.exists()
    md = (run_dir / "report" / "summary.md").read_text()
    assert "Plots skipped: matplotlib is not importable" in md
    assert "monerosim-core[plots]" in md


def test_missing_optional_files_read_as_not_recorded(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, mined({"m1": 5, "m2": 3, "m3": 2}), end_reason=None)

    report = write_report(run_dir)

    assert (report.transfers, report.chain, report.sync, report.monitor) == (None,) * 4
    assert {w.status for w in report.wallets.wallets} == {"unknown"}
    md = render_markdown(report)
    for name in (TRANSFERS_FILE, FINAL_STATE_FILE, SYNC_EVENTS_FILE, NODE_STATUS_FILE):
        assert f"{name} not recorded" in md
    assert "no end record" in report.findings[0]
    assert "transfers: not recorded" in render_terminal(report)
    if report.plots is not None and report.plots.unavailable is None:
        assert f"node_heights.png: {NODE_STATUS_FILE} not recorded" in report.plots.skipped


def test_absent_blocks_file_is_a_run_without_blocks(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, [])
    (run_dir / "shared" / BLOCKS_FILE).unlink()

    report = build_report(run_dir)

    assert report.blocks.total == 0
    assert report.blocks.fit.consistent is None
    assert report.intervals.count == 0


# ---------------------------------------------------------------- unreadable records


def _lines(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("[{", "not valid JSON"),
        ('{"height": 1}', "field 'hash' is missing"),
        (json.dumps({**block(2, "m1"), "winner": 5}), "field 'winner': expected a string"),
        (json.dumps({**block(2, "m1"), "reward": 0.6}), "field 'reward': expected an integer"),
        (json.dumps({**block(2, "m1"), "sim_time": None}), "field 'sim_time': expected a number"),
    ],
)
def test_a_malformed_block_record_is_skipped_and_reported(
    tmp_path: Path, bad_line: str, reason: str
) -> None:
    run_dir = make_run(tmp_path, _lines(block(1, "m1"), bad_line, block(3, "m2")))

    report = build_report(run_dir)

    assert report.blocks.total == 2  # the other records still count
    [finding] = [f for f in report.findings if f.startswith("Unreadable record")]
    assert f"{BLOCKS_FILE} line 2" in finding
    assert reason in finding


def test_non_finite_sim_times_are_refused(tmp_path: Path) -> None:
    bad = json.dumps(block(2, "m1")).replace('"sim_time": 240.0', '"sim_time": NaN')
    report = build_report(make_run(tmp_path, _lines(block(1, "m1"), bad)))
    assert report.blocks.total == 1
    assert any("line 2" in f and "NaN" in f for f in report.findings)


def test_malformed_final_state_names_the_file(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, [], final_state={"nodes": {"m1": {"height": "ten"}}})

    with pytest.raises(ReportError, match=r"final_state.json: field 'nodes'.m1: field 'height'"):
        build_report(run_dir)


def test_a_bad_transfer_outcome_is_skipped_and_reported(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, [], transactions=[{**tx("m1", "u1", 5), "outcome": "lost"}])

    report = build_report(run_dir)

    assert report.transfers is not None and report.transfers.totals.records == 0
    assert any(f"{TRANSFERS_FILE} line 1" in f and "outcome" in f for f in report.findings)


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"run\.json does not exist"):
        build_report(tmp_path)
    with pytest.raises(ReportError, match="not a directory"):
        build_report(tmp_path / "nowhere")


def test_missing_registry_is_a_report_error(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, [])
    (run_dir / "shared" / "miners.json").unlink()

    with pytest.raises(ReportError, match=r"miners\.json"):
        build_report(run_dir)


# ---------------------------------------------------------------- exact time


def test_drifting_fixed_intervals_are_a_finding(tmp_path: Path) -> None:
    # 20 blocks meant to come every 120 s, mined every 125 s: time drifted.
    blocks = [block(h, "m1", sim_time=125.0 * h) for h in range(1, 21)]

    report = build_report(make_run(tmp_path, blocks))

    fit = report.intervals.fit
    assert fit.consistent is False
    assert fit.mean_error == pytest.approx(5 / 120)
    assert any(
        f.startswith("Inter-block times: Mean 125.000 s is NOT within 1%") for f in report.findings
    )
    # On the schedule's own terms: most of the due times have no block, and the
    # blocks came at times nothing was scheduled for.
    assert report.intervals.due == 21  # 120 s blocks before 2500 + 60 s
    assert len(report.intervals.missing) == 21  # 125 h = 120 k first at 3000 s
    assert len(report.intervals.unscheduled) == 20
    assert any("scheduled block(s) were not mined" in f for f in report.findings)
    assert any("at no scheduled time" in f for f in report.findings)


def test_exact_fixed_intervals_raise_nothing(tmp_path: Path) -> None:
    report = build_report(make_run(tmp_path, mined({"m1": 10, "m2": 6, "m3": 4})))
    assert report.intervals.fit.consistent is True
    assert (report.intervals.due, report.intervals.missing) == (20, ())
    assert not any("nter-block" in f or "scheduled" in f for f in report.findings)


def test_a_block_at_the_instant_a_run_was_interrupted_is_on_the_schedule(
    tmp_path: Path,
) -> None:
    # Interrupted at 1200 s, while (or after) mining the block due then.
    blocks = [block(h, "m1") for h in range(1, 11)]  # 120 s apart, the last at 1200

    report = build_report(
        make_run(tmp_path, blocks, end_reason="interrupted", stop_time=6000.0, ended_at=1200.0)
    )

    assert (report.intervals.due, report.intervals.missing) == (9, ())
    assert report.intervals.unscheduled == ()
    assert not any("scheduled" in f for f in report.findings)


def test_exponential_times_are_tested_with_kolmogorov_smirnov(tmp_path: Path) -> None:
    from monerosim_core.config.model import BlockTimes
    from monerosim_core.planning.schedule import blocks_due

    due = blocks_due(120.0, BlockTimes.EXPONENTIAL, 7, 120.0 * 300)
    honest = [block(i + 1, "m1", sim_time=t) for i, t in enumerate(due)]
    report = build_report(make_run(tmp_path / "a", honest, block_times="exponential"))
    assert report.intervals.fit.ks is not None
    assert report.intervals.fit.consistent is True
    assert report.intervals.missing == ()

    # The same number of blocks at a fixed spacing is no exponential process.
    regular = [block(i + 1, "m1", sim_time=120.0 * (i + 1)) for i in range(len(due))]
    report = build_report(make_run(tmp_path / "b", regular, block_times="exponential"))
    assert report.intervals.fit.consistent is False
    assert any("NOT consistent with exponential gaps" in f for f in report.findings)


def test_a_settle_bound_hit_is_a_finding(tmp_path: Path) -> None:
    blocks = mined({"m1": 3, "m2": 2, "m3": 1})
    blocks[2] = {**blocks[2], "wall_settle": 30.2, "settle_missing": 2}

    report = build_report(make_run(tmp_path, blocks))

    assert (report.timing.settle_bound_hits, report.timing.settle_missing) == (1, 2)
    assert report.timing.settle_wall == pytest.approx(30.2)
    assert any(
        "Settling hit its bound before 1 block(s): 2 transfer(s)" in f for f in report.findings
    )


def test_records_are_checked_against_the_chain_at_the_end(tmp_path: Path) -> None:
    blocks = mined({"m1": 2, "m2": 2})
    for b in blocks:
        b["timestamp"] = 1_600_000_000 + int(b["sim_time"])
    chain = {str(b["height"]): {"hash": b["hash"], "timestamp": b["timestamp"]} for b in blocks}
    chain["2"] = {"hash": "e" * 64, "timestamp": chain["2"]["timestamp"]}  # orphaned record
    chain["3"] = {**chain["3"], "timestamp": chain["3"]["timestamp"] + 7}  # clock disagreement
    chain["5"] = {"hash": "f" * 64, "timestamp": 1_600_000_600}  # mined by nobody we know
    final = {"nodes": nodes({"m1": (5, "f" * 64)}), "wallets": {}, "chain": chain,
             "chain_source": "m1"}  # fmt: skip

    report = build_report(make_run(tmp_path, blocks, final_state=final))

    on_chain = report.records_on_chain
    assert on_chain is not None
    assert (on_chain.checked, on_chain.off_chain, on_chain.timestamp_mismatches) == (4, (2,), (3,))
    assert (on_chain.unrecorded, on_chain.chain_tip, on_chain.highest_record) == ((5,), 5, 4)
    assert any(
        "At heights 2 the main chain holds a block no record names" in f for f in report.findings
    )
    assert any(
        "The chain forked in a run without a withholding miner: 1" in f for f in report.findings
    )
    assert any("timestamps differ from the records at heights 3" in f for f in report.findings)
    assert any("without a record: heights 5" in f for f in report.findings)


def test_wall_time_pace_and_rpc_time_are_reported(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, mined({"m1": 2, "m2": 1}))
    timing = {
        "phases": {"startup": 5.0, "bootstrap": 10.0, "simulation": 4.0, "shutdown": 1.0},
        "pace": 90.0,
        "speed_cap": None,
        "advances": 7,
        "agents": {"block-controller": {"actions": 3, "busy_wall": 0.6, "longest_action": 0.3}},
    }
    (run_dir / "shared" / "timing.json").write_text(json.dumps(timing))
    calls = [
        {"process": "block-controller", "method": "submit_block", "calls": 3, "errors": 0,
         "wall": 0.3},
        {"process": "engine", "method": "submit_block", "calls": 100, "errors": 1, "wall": 9.0},
        {"process": "user-01", "method": "transfer", "calls": 2, "errors": 0, "wall": 1.0},
    ]  # fmt: skip
    (run_dir / "shared" / "rpc_calls.jsonl").write_text(
        "".join(json.dumps(c) + "\n" for c in calls)
    )

    report = write_report(run_dir)

    t = report.timing
    assert (t.pace, t.advances, t.phases) == (90.0, 7, timing["phases"])
    [submit, transfer] = t.rpc
    assert (submit.method, submit.calls, submit.errors) == ("submit_block", 103, 1)
    assert submit.wall == pytest.approx(9.3)
    assert transfer.mean_ms == pytest.approx(500.0)
    md = render_markdown(report)
    assert "## Wall time" in md and "| submit_block | 103 | 1 | 9.3 s |" in md
    assert "pace 90.0x" in render_terminal(report)


def test_a_selfish_run_accounts_for_every_orphan(tmp_path: Path) -> None:
    """m1 withholds two blocks and overrides m2's block at height 1 (whose
    transactions: t1 re-mined at height 3, t2 lost), and still withholds a third
    when the run ends."""

    def fork_block(height: int, winner: str, name: str, **fields: Any) -> dict[str, Any]:
        return {**block(height, winner), "hash": name * 64, "sim_time": 100.0 * len(name)
                + height, **fields}  # fmt: skip

    blocks = [
        fork_block(1, "m2", "a", tx_hashes=["t1", "t2"]),
        fork_block(1, "m1", "p", private=True),
        fork_block(2, "m1", "q", private=True),
        fork_block(3, "m1", "r", private=True),
        fork_block(3, "m2", "b", tx_hashes=["t1"]),
    ]
    publications = [{"sim_time": 250.0, "miner": "m1", "hashes": ["p" * 64, "q" * 64],
                     "wall_time": 1.7e9}]  # fmt: skip
    chain = {"1": {"hash": "p" * 64, "timestamp": 1}, "2": {"hash": "q" * 64, "timestamp": 2},
             "3": {"hash": "b" * 64, "timestamp": 3}}  # fmt: skip
    side = {"m2": [{"tip_hash": "a" * 64, "height": 1, "length": 1}],
            "m3": [{"tip_hash": "a" * 64, "height": 1, "length": 1},
                   {"tip_hash": "c" * 64, "height": 2, "length": 1}]}  # fmt: skip
    final = {
        "nodes": nodes({m: (3, "b" * 64) for m in MINERS}),
        "wallets": {
            "m1": {"balance": 2 * REWARD, "unlocked": 0},
            "m2": {"balance": REWARD, "unlocked": 0},
        },
        "chain": chain,
        "chain_source": "m2",
        "side_chains": side,
        "reorgs": {
            "m2": [{"height": 1, "depth": 1}],
            "m3": [{"height": 1, "depth": 1}],
            "m1": [],
        },
    }
    report = build_report(
        make_run(tmp_path, blocks, final_state=final, withholder="m1", publications=publications)
    )

    forks = report.forks
    assert forks is not None and forks.withholder == "m1" and not forks.no_forks
    by_miner = {m.miner: m for m in forks.miners}
    m1, m2 = by_miner["m1"], by_miner["m2"]
    assert (m1.mined, m1.on_chain, m1.orphaned_published, m1.never_published) == (3, 2, 0, 1)
    assert (m2.mined, m2.on_chain, m2.orphaned_published, m2.never_published) == (2, 1, 1, 0)
    assert m1.revenue == pytest.approx(2 / 3) and m1.hashrate_share == pytest.approx(0.5)
    assert (forks.public_orphans, forks.orphaned_txs, forks.re_mined, forks.lost) == (
        1, 2, 1, ("t2",)
    )  # fmt: skip
    assert [(r.node, r.count, r.max_depth) for r in forks.reorgs] == [
        ("m1", 0, 0), ("m2", 1, 1), ("m3", 1, 1)
    ]  # fmt: skip
    on_chain = report.records_on_chain
    assert on_chain is not None and (on_chain.off_chain, on_chain.orphaned) == ((), 2)
    # Orphaned blocks pay nothing: the wallets match with the main chain's rewards only.
    statuses = {w.agent_id: w.status for w in report.wallets.wallets}
    assert statuses["m1"] == statuses["m2"] == "match"
    findings = "\n".join(report.findings)
    assert "without a withholding miner" not in findings
    assert "Node m2 keeps" not in findings  # its side chain is the recorded orphan
    assert "Node m3 keeps 2 block(s) off the main chain" in findings  # one more than explained
    assert "1 transaction(s) confirmed in an orphaned block are in no main-chain block" in findings
    assert "Heights recorded more than once" not in findings
    markdown = render_markdown(report)
    assert "## Forks" in markdown and "Withholding miner: m1; 1 publication(s)" in markdown
    assert "| m1 | 50.0% | 3 | 2 | 66.7% | 0 | 1 |" in markdown


def test_an_honest_run_says_no_forks(tmp_path: Path) -> None:
    blocks = mined({"m1": 2, "m2": 1})
    chain = {str(b["height"]): {"hash": b["hash"], "timestamp": 1} for b in blocks}
    final = {"nodes": nodes({"m1": (3, blocks[-1]["hash"])}), "wallets": {}, "chain": chain,
             "chain_source": "m1", "reorgs": {"m1": []}}  # fmt: skip
    report = build_report(make_run(tmp_path, blocks, final_state=final))
    assert report.forks is not None and report.forks.no_forks
    assert "No forks: all 3 mined block(s) are on the main chain" in render_markdown(report)
