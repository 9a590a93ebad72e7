"""A campaign's numbers on hand-made run directories whose right answers are known:
means and confidence intervals across seeds, a difference found where one was
planted and none where none was, and the files a researcher reads (report.md,
summary.json, runs.csv, plots)."""

from __future__ import annotations

import csv
import json
import math
import random
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import pytest
import scipy.stats
from run_builder import MINERS, XMR, make_run, mined, tx

from monerosim_core.analysis.compare import SHARES_TEST
from monerosim_core.campaign.cells import Cell, expand, write_cell_scenarios
from monerosim_core.campaign.layout import CampaignDir, CampaignState
from monerosim_core.campaign.report import write_campaign_report
from monerosim_core.campaign.results import CampaignResults
from monerosim_core.campaign.runner import plan_state
from monerosim_core.campaign.spec import CampaignSpec, load_campaign

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DISTRIBUTOR = "agents.user_agents[8].attributes.miner_selection_strategy"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
T_975_DF2 = float(scipy.stats.t.ppf(0.975, 2))  # 4.303, as in any t table


@attrs.frozen
class Plan:
    """What one synthetic run holds."""

    wins: dict[str, int]
    confirmed: int = 0
    delay: int = 2
    failed: Sequence[str] = ()  # one failed transfer per cause listed


def synthetic_run(cell_dir: Path, seed: int, plan: Plan) -> Path:
    transfers = [
        tx("u1", "u2", XMR, sent_height=10, confirmed_height=10 + plan.delay)
        for _ in range(plan.confirmed)
    ]
    transfers += [tx("u1", "u2", XMR, outcome="failed", cause=c) for c in plan.failed]
    return make_run(
        cell_dir,
        mined(plan.wins),
        transactions=transfers,
        seed=seed,
        name=f"seed-{seed}",
    )


def campaign(
    tmp_path: Path, seeds: int, plans: Callable[[str, int], Plan | None]
) -> tuple[CampaignSpec, tuple[Cell, ...], CampaignDir, CampaignState]:
    """A campaign of the quickstart with two distributor strategies, its runs made by
    hand: ``plans(strategy, seed)`` says what each run holds (None: the run failed)."""
    shutil.copyfile(CONFIGS / "quickstart.yaml", tmp_path / "quickstart.yaml")
    path = tmp_path / "campaign.yaml"
    path.write_text(
        f"scenario: quickstart.yaml\nseeds: {seeds}\ngrid:\n  {DISTRIBUTOR}: [weighted, balance]\n"
    )
    spec = load_campaign(path)
    cells = expand(spec)
    directory = CampaignDir(tmp_path / "campaign")
    write_cell_scenarios(spec, cells, directory)
    state = plan_state(spec, cells, directory, None)
    runs = []
    for run in state.runs:
        plan = plans(run.cell.split("=")[1], run.seed)
        cell_dir = directory.root / Path(run.run_dir).parent
        if plan is None:
            runs.append(attrs.evolve(run, status="failed", attempts=1, reason="a daemon died"))
            continue
        synthetic_run(cell_dir, run.seed, plan)
        runs.append(attrs.evolve(run, status="completed", attempts=1, wall_seconds=60.0))
    return spec, cells, directory, attrs.evolve(state, runs=tuple(runs))


def report(tmp_path: Path, seeds: int, plans: Callable[[str, int], Plan | None]) -> CampaignResults:
    return write_campaign_report(*campaign(tmp_path, seeds, plans))


def drawn_wins(rng: random.Random, weights: Sequence[float], blocks: int) -> dict[str, int]:
    counts = Counter(rng.choices(list(MINERS), weights=weights, k=blocks))
    return {m: counts[m] for m in MINERS}


# --- known means and intervals -----------------------------------------------------------


def known(strategy: str, seed: int) -> Plan:
    """Seeds 1, 2, 3: miner m1 wins 50, 60, 70 of 100 blocks; 10, 12, 14 transfers
    confirm, 2 blocks after they are sent; failures 0, 1, 2 (one a timeout)."""
    m1 = 40 + 10 * seed
    failed = {1: (), 2: ("not_enough_money",), 3: ("not_enough_money", "timeout")}[seed]
    return Plan({"m1": m1, "m2": 100 - m1 - 10, "m3": 10}, 8 + 2 * seed, 2, failed)


def test_each_cell_has_the_mean_and_student_t_interval_of_its_seeds(tmp_path: Path) -> None:
    results = report(tmp_path, 3, known)
    cell = results.summary.cells[0]
    assert cell.cell.name == "miner_selection_strategy=weighted"
    assert [o.seed for o in cell.observations] == [1, 2, 3]

    confirmed = cell.metric("transfers.confirmed")
    assert confirmed is not None
    half = T_975_DF2 * 2.0 / math.sqrt(3)  # sd of 10, 12, 14 is 2
    assert (confirmed.n, confirmed.mean, confirmed.sd) == (
        3,
        pytest.approx(12.0),
        pytest.approx(2.0),
    )
    assert (confirmed.low, confirmed.high) == (pytest.approx(12 - half), pytest.approx(12 + half))

    share = cell.metric("share.m1")
    assert share is not None
    half = T_975_DF2 * 0.1 / math.sqrt(3)
    assert (share.mean, share.low, share.high) == (
        pytest.approx(0.6),
        pytest.approx(0.6 - half),
        pytest.approx(0.6 + half),
    )
    # A cause a run never met counts 0 in it, not "not recorded".
    timeout = cell.metric("transfers.failed.timeout")
    assert timeout is not None and (timeout.n, timeout.mean) == (3, pytest.approx(1 / 3))
    # 0, 0, 1: the t-interval would reach -1.1; a count's stops at 0.
    assert (timeout.low, timeout.high) == (0.0, pytest.approx(1 / 3 + T_975_DF2 / 3))
    money = cell.metric("transfers.failed.not_enough_money")
    assert money is not None and money.mean == pytest.approx(2 / 3)  # 0, 1, 1
    # The same value in every run: an interval of zero width, not an error.
    delay = cell.metric("confirmation.mean_blocks")
    assert delay is not None and (delay.mean, delay.low, delay.high) == (2.0, 2.0, 2.0)
    # Per-miner shares against the weights (50/30/20): m1's 0.6 +- 0.25 contains 0.5.
    m1 = next(s for s in cell.shares if s.miner == "m1")
    assert (m1.weight, m1.contains) == (pytest.approx(0.5), True)
    m3 = next(s for s in cell.shares if s.miner == "m3")
    assert m3.contains is False  # 10 % in every seed, configured 20 %
    # Pooled: m1 180 of 300 against 150 expected, m2 90 of 90, m3 30 of 60.
    assert cell.fit is not None
    assert cell.fit.statistic == pytest.approx(30**2 / 150 + 0 + 30**2 / 60)
    assert cell.fit.p_value == pytest.approx(math.exp(-21 / 2))  # chi2 with 2 dof


# --- differences between cells ------------------------------------------------------------


def sampled(planted: bool) -> Callable[[str, int], Plan]:
    """Runs drawn from known distributions with a fixed seed: the balance cell's
    blocks favour m1 (70/20/10 instead of 50/30/20) when ``planted``; transfers are
    drawn from one distribution in both cells."""

    def plan(strategy: str, seed: int) -> Plan:
        rng = random.Random(f"{strategy}-{seed}")
        weights = (70, 20, 10) if planted and strategy == "balance" else (50, 30, 20)
        return Plan(
            drawn_wins(rng, weights, 150), confirmed=rng.randint(15, 25), delay=rng.randint(1, 3)
        )

    return plan


def test_a_planted_difference_is_found_and_nothing_else(tmp_path: Path) -> None:
    results = report(tmp_path, 6, sampled(planted=True))
    (pair,) = results.summary.pairs
    assert (pair.a.name, pair.b.name, pair.parameter) == (
        "miner_selection_strategy=weighted",
        "miner_selection_strategy=balance",
        "miner_selection_strategy",
    )
    assert pair.differs(SHARES_TEST) is True
    assert pair.shares_test is not None and pair.shares_test.cramers_v > 0.1
    m1 = next(m for m in pair.metrics if m.metric == "share.m1")
    assert pair.differs("share.m1") is True
    assert m1.test.difference == pytest.approx(m1.test.mean_b - m1.test.mean_a)
    assert m1.test.difference_low is not None and m1.test.difference_low > 0.1
    assert m1.test.effect is not None and m1.test.effect > 2  # a large effect
    called = {m.metric for m in pair.metrics if pair.differs(m.metric)}
    # The shares, and the findings of the biased runs' own reports (their block
    # shares do not fit the weights), and nothing else.
    assert called <= {"share.m1", "share.m2", "share.m3", "findings"}
    for metric in ("transfers.confirmed", "confirmation.mean_blocks", "intervals.mean"):
        assert pair.differs(metric) is not True, metric


def test_no_difference_is_called_where_none_was_planted(tmp_path: Path) -> None:
    results = report(tmp_path, 6, sampled(planted=False))
    (pair,) = results.summary.pairs
    assert pair.q_values  # tests were made...
    assert not any(pair.differs(test) for test in pair.q_values)  # ...and none called
    for cell in results.summary.cells:
        assert cell.fit is not None and cell.fit.p_value >= 0.05
        assert all(s.contains for s in cell.shares)


# --- the files ----------------------------------------------------------------------------


def failing_seed_2(strategy: str, seed: int) -> Plan | None:
    return None if (strategy, seed) == ("balance", 2) else known(strategy, seed)


def test_runs_csv_has_one_row_per_run_with_parameters_and_metrics(tmp_path: Path) -> None:
    results = report(tmp_path, 3, failing_seed_2)
    with (results.directory.root / "runs.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["miner_selection_strategy"], r["seed"], r["status"]) for r in rows] == [
        ("weighted", "1", "completed"),
        ("balance", "1", "completed"),
        ("weighted", "2", "completed"),
        ("balance", "2", "failed"),
        ("weighted", "3", "completed"),
        ("balance", "3", "completed"),
    ]
    assert [float(r["transfers.confirmed"]) for r in rows if r["status"] == "completed"] == [
        10.0, 10.0, 12.0, 14.0, 14.0,
    ]  # fmt: skip
    failed = rows[3]
    assert failed["reason"] == "a daemon died"
    assert failed["transfers.confirmed"] == failed["share.m1"] == ""
    assert float(rows[0]["share.m1"]) == pytest.approx(0.5)


def test_summary_json_and_report_md_carry_the_same_figures(tmp_path: Path) -> None:
    results = report(tmp_path, 3, failing_seed_2)
    root = results.directory.root
    doc = json.loads((root / "summary.json").read_text())
    weighted, balance = doc["cells"]
    assert weighted["settings"] == {"miner_selection_strategy": "weighted"}
    assert weighted["seeds"] == [1, 2, 3] and balance["seeds"] == [1, 3]
    assert weighted["metrics"]["transfers.confirmed"]["mean"] == pytest.approx(12.0)
    assert doc["runs"]["completed"] == 5 and doc["runs"]["failed"] == 1
    (pair,) = doc["pairs"]
    assert {m["metric"] for m in pair["metrics"]} >= {"transfers.confirmed", "share.m1"}

    text = (root / "report.md").read_text()
    estimate = results.summary.cells[0].metric("transfers.confirmed")
    assert estimate is not None and estimate.low is not None and estimate.high is not None
    assert f"| transfers.confirmed | 12 [{estimate.low:.4g}, {estimate.high:.4g}] |" in text
    assert "## Runs left out" in text and "a daemon died" in text
    assert "| m3 | 20.0% | 10.00 [10.00, 10.00] | **no** |" in text


def test_plots_are_written_as_pngs_and_linked_from_the_report(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    results = report(tmp_path, 3, known)
    plots = results.directory.root / "plots"
    names = sorted(p.name for p in plots.iterdir())
    assert names == ["distributions.png", "shares.png", "vs_miner_selection_strategy.png"]
    for name in names:
        assert (plots / name).read_bytes().startswith(PNG_MAGIC)
        assert f"](plots/{name})" in (results.directory.root / "report.md").read_text()


def test_a_campaign_without_a_completed_run_still_writes_its_report(tmp_path: Path) -> None:
    results = report(tmp_path, 2, lambda strategy, seed: None)
    text = (results.directory.root / "report.md").read_text()
    assert "0 completed, 4 failed" in text
    assert results.summary.pairs == ()
