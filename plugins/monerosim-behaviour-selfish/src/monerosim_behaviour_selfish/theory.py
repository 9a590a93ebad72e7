"""What theory predicts for the behaviours of this distribution."""

from __future__ import annotations


def sm1_relative_revenue(alpha: float, gamma: float) -> float:
    """Eyal and Sirer's relative revenue of an SM1 pool with hashrate share ``alpha``
    when a share ``gamma`` of honest mining builds on the pool's branch in a tie
    (their equation 8, the long-run share of the main chain's blocks)."""
    if not 0.0 <= alpha < 0.5 or not 0.0 <= gamma <= 1.0:
        raise ValueError("the formula holds for 0 <= alpha < 0.5 and 0 <= gamma <= 1")
    numerator = alpha * (1 - alpha) ** 2 * (4 * alpha + gamma * (1 - 2 * alpha)) - alpha**3
    return numerator / (1 - alpha * (1 + (2 - alpha) * alpha))


def sm1_profit_threshold(gamma: float) -> float:
    """The smallest ``alpha`` above which SM1 earns more than honest mining."""
    return (1 - gamma) / (3 - 2 * gamma)
