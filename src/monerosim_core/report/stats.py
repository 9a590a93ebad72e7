"""Chi-square goodness of fit, with its p-value computed here rather than by scipy.

The core must not depend on scipy, and the one distribution function the report
needs is the chi-square survival function, which is the regularised upper
incomplete gamma function: ``P(X >= x) = Q(k/2, x/2)`` for ``k`` degrees of freedom.

``Q(a, x) = Γ(a, x) / Γ(a)`` is evaluated in whichever of two forms converges fast:

* for ``x < a + 1`` the power series of the lower function,
  ``P(a, x) = x^a e^-x / Γ(a+1) · Σ_n x^n / ((a+1)(a+2)…(a+n))``, and ``Q = 1 - P``
  (in that region ``Q`` is not small, so the subtraction loses nothing that matters);
* otherwise the continued fraction
  ``Γ(a, x) = x^a e^-x / (x+1-a - 1(1-a)/(x+3-a - 2(2-a)/(x+5-a - …)))``,
  evaluated with the modified Lentz method, which gives ``Q`` directly and so keeps
  full relative precision far into the tail.

The ``x^a e^-x / Γ(·)`` prefactors are formed in log space so large ``a`` or ``x``
neither overflow nor underflow before the division.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

# Both expansions stop once a step changes the result by less than this relative
# amount; a few ulps, so the p-value is as exact as a double allows.
_EPS = 1e-16
# Convergence needs O(sqrt(a)) steps near x ≈ a; this bound is only a guard against
# an input the analysis above did not foresee.
_MAX_STEPS = 100_000
# Stands in for an exact zero in Lentz's method, where a partial denominator of
# zero would otherwise divide by zero.
_TINY = 1e-300


def regularized_gamma_q(a: float, x: float) -> float:
    """``Q(a, x)``, the regularised upper incomplete gamma function, for ``a > 0, x >= 0``."""
    if not a > 0:
        raise ValueError(f"regularized_gamma_q: a must be > 0, got {a}")
    if not x >= 0:
        raise ValueError(f"regularized_gamma_q: x must be >= 0, got {x}")
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1:
        return 1.0 - _lower_series(a, x)
    return _upper_continued_fraction(a, x)


def chi2_sf(statistic: float, dof: int) -> float:
    """The chi-square survival function ``P(X >= statistic)`` for ``dof`` degrees of freedom."""
    if dof < 1:
        raise ValueError(f"chi2_sf: dof must be >= 1, got {dof}")
    if statistic <= 0:
        return 1.0
    return regularized_gamma_q(dof / 2.0, statistic / 2.0)


@attrs.frozen
class ChiSquare:
    """One goodness-of-fit test: Pearson's statistic, its degrees of freedom and p-value."""

    statistic: float
    dof: int
    p_value: float


def chi_square_gof(observed: Sequence[int], expected: Sequence[float]) -> ChiSquare:
    """Pearson's chi-square test of ``observed`` counts against ``expected`` counts.

    The expected counts must already sum to the observed total (the caller scales
    the probabilities). A category with an expected count of zero carries no degree
    of freedom; if anything was observed in it the fit is impossible, which is an
    infinite statistic and a p-value of 0. At least two categories with a positive
    expected count are required.
    """
    if len(observed) != len(expected):
        raise ValueError("chi_square_gof: observed and expected differ in length")
    statistic = 0.0
    categories = 0
    impossible = False
    for obs, exp in zip(observed, expected, strict=True):
        if exp < 0 or obs < 0:
            raise ValueError("chi_square_gof: counts must be non-negative")
        if exp == 0:
            impossible = impossible or obs > 0
            continue
        categories += 1
        statistic += (obs - exp) ** 2 / exp
    if categories < 2:
        raise ValueError("chi_square_gof: needs two categories with a positive expected count")
    dof = categories - 1
    if impossible:
        return ChiSquare(statistic=math.inf, dof=dof, p_value=0.0)
    return ChiSquare(statistic=statistic, dof=dof, p_value=chi2_sf(statistic, dof))


def _log_prefactor(a: float, x: float, log_gamma: float) -> float:
    """``log(x^a e^-x / G)`` given ``log_gamma = log G``."""
    return a * math.log(x) - x - log_gamma


def _lower_series(a: float, x: float) -> float:
    """``P(a, x)`` by its power series; converges quickly for ``x < a + 1``."""
    term = 1.0  # the n-th term divided by the first: x^n / ((a+1)…(a+n))
    total = 1.0
    denominator = a
    for _ in range(_MAX_STEPS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            return math.exp(_log_prefactor(a, x, math.lgamma(a + 1.0))) * total
    raise ArithmeticError(f"incomplete gamma series did not converge for a={a}, x={x}")


def _upper_continued_fraction(a: float, x: float) -> float:
    """``Q(a, x)`` by its continued fraction (modified Lentz); for ``x >= a + 1``.

    The fraction is ``b0 + a1/(b1 + a2/(b2 + …))`` with ``b_n = x + 2n + 1 - a`` and
    ``a_n = -n (n - a)``; ``Γ(a, x) = x^a e^-x / value``.
    """
    value = x + 1.0 - a
    if value == 0:
        value = _TINY
    c = value  # ratio of successive numerators
    d = 0.0  # reciprocal ratio of successive denominators
    for n in range(1, _MAX_STEPS):
        a_n = -n * (n - a)
        b_n = x + 2.0 * n + 1.0 - a
        d = b_n + a_n * d
        d = 1.0 / (d if d != 0 else _TINY)
        c = b_n + a_n / c
        if c == 0:
            c = _TINY
        step = c * d
        value *= step
        if abs(step - 1.0) < _EPS:
            return math.exp(_log_prefactor(a, x, math.lgamma(a))) / value
    raise ArithmeticError(f"incomplete gamma fraction did not converge for a={a}, x={x}")


@attrs.frozen
class KolmogorovSmirnov:
    """A one-sample Kolmogorov-Smirnov test: the statistic D, the sample size, the p-value."""

    statistic: float
    n: int
    p_value: float


def kolmogorov_sf(x: float) -> float:
    """``P(K > x)`` for the Kolmogorov distribution: ``2 Σ (-1)^(k-1) exp(-2 k² x²)``.

    The alternating series converges fast for ``x`` above about 0.3; below, the
    probability is within 1e-9 of 1 and is returned as 1.
    """
    if x < 0.3:
        return 1.0
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-2.0 * k * k * x * x)
        total += term if k % 2 else -term
        if term < 1e-16:
            break
    return min(1.0, max(0.0, 2.0 * total))


def ks_exponential(sample: Sequence[float], mean: float) -> KolmogorovSmirnov:
    """Test ``sample`` against the exponential distribution with ``mean`` (known).

    The p-value uses Stephens' small-sample correction of the asymptotic
    distribution, ``λ = (√n + 0.12 + 0.11/√n) D``: within 0.03 of the exact value
    from n = 8 on (checked against SciPy), ample for a 0.001 threshold.
    """
    n = len(sample)
    if n == 0:
        raise ValueError("ks_exponential: empty sample")
    if not mean > 0:
        raise ValueError(f"ks_exponential: mean must be > 0, got {mean}")
    ordered = sorted(sample)
    d = 0.0
    for i, x in enumerate(ordered):
        cdf = 1.0 - math.exp(-max(x, 0.0) / mean)
        d = max(d, (i + 1) / n - cdf, cdf - i / n)
    root = math.sqrt(n)
    return KolmogorovSmirnov(d, n, kolmogorov_sf((root + 0.12 + 0.11 / root) * d))
