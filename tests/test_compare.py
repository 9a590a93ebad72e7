"""``monerosim compare`` on hand-made run directories: two runs or two campaign cells
side by side, a difference found where one was planted, none where none was, and
clean errors for input that is not a run."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from run_builder import MINERS, XMR, make_run, mined, tx

from monerosim_core.analysis import compare, load_group, render_comparison
from monerosim_core.analysis.compare import OUTCOMES_TEST, SHARES_TEST
from monerosim_core.cli import main

CLI = (sys.executable, "-m", "monerosim_core.cli")


def run_with(
    base: Path,
    name: str,
    weights: tuple[float, float, float],
    *,
    seed: int = 7,
    blocks: int = 300,
    confirmed: int = 30,
    failed: int = 0,
) -> Path:
    """A run whose winners are drawn from ``weights`` (m1, m2, m3) with a fixed seed."""
    rng = random.Random(f"{name}-{seed}")
    wins = Counter(rng.choices(list(MINERS), weights=weights, k=blocks))
    transfers = [
        tx("u1", "u2", XMR, sent_height=10, confirmed_height=10 + rng.randint(1, 3))
        for _ in range(confirmed)
    ]
    transfers += [tx("u1", "u2", XMR, outcome="failed", cause="timeout") for _ in range(failed)]
    return make_run(
        base, mined({m: wins[m] for m in MINERS}), transactions=transfers, seed=seed, name=name
    )


def test_two_runs_of_one_model_show_no_difference(tmp_path: Path) -> None:
    a = run_with(tmp_path, "a", (50, 30, 20))
    b = run_with(tmp_path, "b", (50, 30, 20))
    result = compare(load_group(a), load_group(b))
    assert result.differs(SHARES_TEST) is False
    assert result.differs(OUTCOMES_TEST) is None  # every transfer confirmed: nothing to test
    assert [r.miner for r in result.shares] == ["m1", "m2", "m3"]
    assert sum(r.blocks_a for r in result.shares) == sum(r.blocks_b for r in result.shares) == 300
    text = render_comparison(result)
    assert "no evidence that the shares differ" in text
    assert "Needs at least two runs on each side" in text


def test_a_skewed_allocation_is_told_apart(tmp_path: Path) -> None:
    a = run_with(tmp_path, "a", (50, 30, 20))
    b = run_with(tmp_path, "b", (70, 20, 10))
    result = compare(load_group(a), load_group(b))
    assert result.differs(SHARES_TEST) is True
    assert result.shares_test is not None and result.shares_test.dof == 2
    assert "**the shares differ**" in render_comparison(result)


def test_transfer_outcomes_and_delays_are_compared(tmp_path: Path) -> None:
    a = run_with(tmp_path, "a", (50, 30, 20), confirmed=40, failed=0)
    b = run_with(tmp_path, "b", (50, 30, 20), confirmed=20, failed=20)
    result = compare(load_group(a), load_group(b))
    assert result.outcomes is not None
    assert {r.label: (r.a, r.b) for r in result.outcomes} == {
        "confirmed": (40, 20),
        "pending": (0, 0),
        "failed: timeout": (0, 20),
    }
    assert result.differs(OUTCOMES_TEST) is True
    assert result.delays is not None and (result.delays.n_a, result.delays.n_b) == (40, 20)


def cell(base: Path, name: str, weights: tuple[float, float, float], seeds: int) -> Path:
    """A campaign cell: one run directory per seed, and a failed attempt kept aside."""
    directory = base / name
    for seed in range(1, seeds + 1):
        run_with(directory, f"seed-{seed}", weights, seed=seed, blocks=150)
    make_run(directory, mined({"m1": 1}), seed=1, name="seed-1.attempt-1", end_reason="failed")
    return directory


def test_two_campaign_cells_are_compared_across_their_seeds(tmp_path: Path) -> None:
    a = load_group(cell(tmp_path, "weighted", (50, 30, 20), 5))
    b = load_group(cell(tmp_path, "skewed", (70, 20, 10), 5))
    assert a.seeds == (1, 2, 3, 4, 5)
    assert a.skipped == ("seed-1.attempt-1: ended failed",)
    result = compare(a, b)
    share = next(m for m in result.metrics if m.metric == "share.m1")
    assert share.test.n_a == share.test.n_b == 5
    assert result.differs("share.m1") is True
    assert result.differs("transfers.confirmed") is not True
    text = render_comparison(result)
    assert "## Metrics across runs" in text
    assert "| share.m1 |" in text and "left out: seed-1.attempt-1: ended failed" in text


def test_the_command_prints_the_comparison_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = run_with(tmp_path, "a", (50, 30, 20))
    b = run_with(tmp_path, "b", (50, 30, 20))
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# monerosim compare\n")
    for section in ("## Block shares", "## Inter-block times", "## Transfers", "## Sync"):
        assert section in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nothing", "not a directory"),
        (lambda p: p, "holds no completed run"),
    ],
)
def test_input_that_is_not_a_run_is_one_clear_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    good = run_with(tmp_path / "good", "run", (50, 30, 20))
    bad = make(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONEROSIM_")}
    result = subprocess.run(
        [*CLI, "compare", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("monerosim: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_scipy_the_error_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a = run_with(tmp_path, "a", (50, 30, 20))
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy now fails
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    assert main(["compare", str(a), str(a)]) == 1
    err = capsys.readouterr().err
    assert "pip install 'monerosim-core[campaign]'" in err
    assert main(["campaign", str(tmp_path / "any.yaml")]) == 1
    assert "pip install 'monerosim-core[campaign]'" in capsys.readouterr().err
