"""The chi-square p-value monerosim computes itself, checked against scipy."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from monerosim_core.report.stats import (
    chi2_sf,
    chi_square_gof,
    ks_exponential,
    regularized_gamma_q,
)

scipy_stats = pytest.importorskip("scipy.stats")
scipy_special = pytest.importorskip("scipy.special")

RTOL = 1e-9
# scipy's own values lose relative precision once they are subnormal.
SMALLEST = 1e-300

DOFS = [*range(1, 31), 40, 50, 75, 100, 150, 200, 300, 500, 1000, 5000]


def _statistics_for(dof: int) -> list[float]:
    # A wide log grid, plus a dense band around the mean, where the two expansions
    # meet (x = a + 1) and where p-values that decide a verdict live.
    log_grid = [10.0**e for e in (-8, -4, -2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5)]
    band = [dof + k * math.sqrt(2 * dof) for k in (-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 5, 8)]
    boundary = [dof + 2 + d for d in (-1e-9, 0.0, 1e-9)]  # x/2 = a + 1 exactly, and either side
    return [x for x in [*log_grid, *band, *boundary] if x > 0]


@pytest.mark.parametrize("dof", DOFS)
def test_chi2_sf_matches_scipy(dof: int) -> None:
    for x in _statistics_for(dof):
        expected = float(scipy_stats.chi2.sf(x, dof))
        if expected < SMALLEST:
            continue
        assert chi2_sf(x, dof) == pytest.approx(expected, rel=RTOL), (dof, x)


@pytest.mark.parametrize("a", [0.05, 0.3, 0.5, 1.7, 3.25, 12.5, 77.7, 640.1])
def test_regularized_gamma_q_matches_scipy_for_non_integer_a(a: float) -> None:
    for x in [1e-6, 0.01, 0.5, a * 0.5, a, a + 1, a * 1.5 + 2, a * 3 + 10, 700.0]:
        expected = float(scipy_special.gammaincc(a, x))
        if expected < SMALLEST:
            continue
        assert regularized_gamma_q(a, x) == pytest.approx(expected, rel=RTOL), (a, x)


def test_chi_square_gof_matches_scipy_chisquare() -> None:
    rng = random.Random(20240611)
    for _ in range(200):
        k = rng.randint(2, 12)
        weights = [rng.uniform(0.01, 1.0) for _ in range(k)]
        total = sum(weights)
        n = rng.randint(1, 2000)
        observed = [0] * k
        # Sometimes draw from other weights, so both good and bad fits are covered.
        draw_weights = weights if rng.random() < 0.5 else [rng.random() for _ in range(k)]
        for i in rng.choices(range(k), weights=draw_weights, k=n):
            observed[i] += 1
        expected = [n * w / total for w in weights]

        got = chi_square_gof(observed, expected)
        ref = scipy_stats.chisquare(observed, expected)

        assert got.dof == k - 1
        assert got.statistic == pytest.approx(float(ref.statistic), rel=1e-12, abs=1e-12)
        if float(ref.pvalue) >= SMALLEST:
            assert got.p_value == pytest.approx(float(ref.pvalue), rel=RTOL)


def test_perfect_fit_has_p_value_one() -> None:
    result = chi_square_gof([50, 30, 20], [50.0, 30.0, 20.0])
    assert result.statistic == 0.0
    assert result.p_value == 1.0


def test_a_zero_expected_category_carries_no_degree_of_freedom() -> None:
    result = chi_square_gof([5, 5, 0], [5.0, 5.0, 0.0])
    assert result.dof == 1
    assert result.p_value == 1.0


def test_an_observation_where_none_was_possible_rejects_the_fit() -> None:
    result = chi_square_gof([5, 4, 1], [5.0, 5.0, 0.0])
    assert math.isinf(result.statistic)
    assert result.p_value == 0.0


def test_edges_of_the_gamma_function() -> None:
    assert regularized_gamma_q(2.5, 0.0) == 1.0
    assert regularized_gamma_q(2.5, math.inf) == 0.0
    assert chi2_sf(0.0, 3) == 1.0
    # Q(1, x) = e^-x exactly: a closed form independent of scipy.
    for x in (0.1, 1.0, 2.0, 10.0, 100.0):
        assert regularized_gamma_q(1.0, x) == pytest.approx(math.exp(-x), rel=1e-13)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: regularized_gamma_q(0.0, 1.0), "a must be > 0"),
        (lambda: regularized_gamma_q(1.0, -1.0), "x must be >= 0"),
        (lambda: regularized_gamma_q(1.0, math.nan), "x must be >= 0"),
        (lambda: chi2_sf(1.0, 0), "dof must be >= 1"),
        (lambda: chi_square_gof([1], [1.0]), "two categories"),
        (lambda: chi_square_gof([1, 2], [1.0]), "differ in length"),
    ],
)
def test_bad_arguments_are_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_ks_exponential_agrees_with_scipy() -> None:
    from scipy import stats

    rng = random.Random(77)
    for n in (8, 30, 200, 2000):
        for mean, true_mean in ((120.0, 120.0), (120.0, 100.0), (60.0, 90.0)):
            sample = [rng.expovariate(1 / true_mean) for _ in range(n)]
            ours = ks_exponential(sample, mean)
            theirs = stats.kstest(sample, "expon", args=(0, mean))
            assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
            assert ours.p_value == pytest.approx(theirs.pvalue, abs=0.03)
            # The decision at the report's threshold is the same.
            assert (ours.p_value >= 0.001) == (theirs.pvalue >= 0.001)


def test_ks_flags_fixed_intervals_as_not_exponential() -> None:
    assert ks_exponential([120.0] * 50, 120.0).p_value < 1e-6
