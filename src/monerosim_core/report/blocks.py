"""Who found the blocks, against who should have, and how far apart the blocks came.

Only non-bootstrap blocks are tested, and only those every miner could win: a block
mined while a miner sat out after a failure, or after the first choice's node
failed, was not drawn from the configured weights, so it is left out of the test
(and counted, with the miners concerned, so the report can say so). Reselections
are listed whatever the case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import attrs

from monerosim_core.records.registry import Miner
from monerosim_core.records.schema import BlockRecord
from monerosim_core.report.stats import ChiSquare, chi_square_gof

ALPHA = 0.001
# Pearson's statistic is only close to chi-square distributed when every expected
# count is at least about 5; the usual rule of thumb, and the one applied here.
MIN_EXPECTED = 5.0


@attrs.frozen
class WinnerCount:
    agent_id: str
    blocks: int


@attrs.frozen
class MinerShare:
    """One miner's blocks: ``weight`` is its configured probability (normalised)."""

    agent_id: str
    weight: float
    is_solo_miner: bool
    observed: int
    observed_share: float | None  # None when no block was counted
    expected: float


@attrs.frozen
class Reselection:
    height: int
    winner: str
    reselected_from: tuple[str, ...]
    bootstrap: bool


@attrs.frozen
class FitTest:
    """The chi-square goodness-of-fit test of the block winners against the weights.

    ``test`` covers every miner. When some expected counts are under
    :data:`MIN_EXPECTED`, ``pooled`` repeats it with the smallest categories merged
    (``pooled_groups``) until each has enough, and the verdict rests on that.
    ``consistent`` is ``None`` when there is no test the verdict could rest on.
    """

    alpha: float
    test: ChiSquare | None
    small_expected: tuple[str, ...]
    pooled: ChiSquare | None
    pooled_groups: tuple[tuple[str, ...], ...]
    consistent: bool | None
    verdict: str


@attrs.frozen
class BlockSection:
    """Every block the controller mined, orphaned ones included: the share test
    checks the winners' draw. Which blocks the main chain kept is the forks section's."""

    total: int
    bootstrap: int
    bootstrap_winners: tuple[WinnerCount, ...]
    counted: int  # non-bootstrap blocks won by a configured miner: the test's sample
    shares: tuple[MinerShare, ...]
    excluded: int  # non-bootstrap blocks left out of the test: some miner could not win them
    excluded_miners: tuple[str, ...]  # the miners that could not
    unknown_winners: tuple[WinnerCount, ...]  # non-bootstrap winners not in miners.json
    reselections: tuple[Reselection, ...]
    duplicate_heights: tuple[int, ...]  # heights whose block was recorded more than once
    fit: FitTest


def analyse_blocks(blocks: Sequence[BlockRecord], miners: Sequence[Miner]) -> BlockSection:
    mined = [b for b in blocks if not b.bootstrap]
    bootstrap = [b for b in blocks if b.bootstrap]
    known = {m.agent_id for m in miners}
    # A block some miner could not win (it sat out, or failed) was not drawn from
    # the configured weights: the share test leaves it out and says so.
    tested = [b for b in mined if not b.excluded]
    excluded = [b for b in mined if b.excluded]
    wins = Counter(b.winner for b in tested)
    counted = sum(n for agent, n in wins.items() if agent in known)
    total_weight = sum(m.weight for m in miners)
    shares = tuple(
        MinerShare(
            agent_id=m.agent_id,
            weight=m.weight / total_weight if total_weight > 0 else 0.0,
            is_solo_miner=m.is_solo_miner,
            observed=wins[m.agent_id],
            observed_share=wins[m.agent_id] / counted if counted else None,
            expected=counted * m.weight / total_weight if total_weight > 0 else 0.0,
        )
        for m in miners
    )
    # The same block twice is a duplicated record; two blocks at one height are a
    # fork, which the forks section accounts for.
    recorded = Counter((b.height, b.hash) for b in blocks)
    return BlockSection(
        total=len(blocks),
        bootstrap=len(bootstrap),
        bootstrap_winners=_winner_counts(Counter(b.winner for b in bootstrap)),
        counted=counted,
        shares=shares,
        unknown_winners=_winner_counts(
            Counter({agent: n for agent, n in wins.items() if agent not in known})
        ),
        excluded=len(excluded),
        excluded_miners=tuple(sorted({m for b in excluded for m in b.excluded})),
        reselections=tuple(
            Reselection(
                height=b.height,
                winner=b.winner,
                reselected_from=b.reselected_from,
                bootstrap=b.bootstrap,
            )
            for b in sorted(blocks, key=lambda b: b.height)
            if b.reselected_from
        ),
        duplicate_heights=tuple(sorted({h for (h, _), n in recorded.items() if n > 1})),
        fit=fit_test(shares, counted),
    )


def fit_test(shares: Sequence[MinerShare], counted: int) -> FitTest:
    """Test the observed block counts against the expected ones, with a verdict."""

    def no_test(reason: str) -> FitTest:
        return FitTest(ALPHA, None, (), None, (), None, f"No test: {reason}.")

    if len(shares) < 2:
        return no_test("fewer than two miners, so there is no allocation to check")
    if counted == 0:
        return no_test("no non-bootstrap block was won by a configured miner")
    if sum(1 for s in shares if s.expected > 0) < 2:
        return no_test("fewer than two miners have a positive weight")
    test = chi_square_gof([s.observed for s in shares], [s.expected for s in shares])
    small = tuple(s.agent_id for s in shares if s.expected < MIN_EXPECTED)
    if not small:
        consistent = test.p_value >= ALPHA
        return FitTest(ALPHA, test, (), None, (), consistent, _verdict(test, consistent))
    groups = _pool(shares)
    unreliable = (
        f"Expected counts are below {MIN_EXPECTED:g} for {', '.join(small)}, "
        "where the chi-square approximation is unreliable"
    )
    if len(groups) < 2:
        return FitTest(
            ALPHA,
            test,
            small,
            None,
            (),
            None,
            f"{unreliable}, and too few blocks were found to pool miners into groups "
            f"that have enough. No verdict; the p-value ({_p(test.p_value)}) is for "
            "reference only.",
        )
    pooled = chi_square_gof([obs for _, obs, _ in groups], [exp for _, _, exp in groups])
    merged = tuple(names for names, _, _ in groups if len(names) > 1)
    consistent = pooled.p_value >= ALPHA
    return FitTest(
        ALPHA,
        test,
        small,
        pooled,
        merged,
        consistent,
        f"{unreliable}; the verdict uses the test with them pooled "
        f"({'; '.join(' + '.join(g) for g in merged)}). {_verdict(pooled, consistent)}",
    )


def _pool(shares: Sequence[MinerShare]) -> list[tuple[tuple[str, ...], int, float]]:
    """Merge the two smallest-expected categories until every one has enough.

    Merging the smallest first keeps as many categories (degrees of freedom) as
    possible, and the large miners, whose shares matter most, stay separate.
    """
    groups: list[tuple[tuple[str, ...], int, float]] = [
        ((s.agent_id,), s.observed, s.expected) for s in shares
    ]
    groups.sort(key=lambda g: g[2])
    while len(groups) > 1 and groups[0][2] < MIN_EXPECTED:
        (names_a, obs_a, exp_a), (names_b, obs_b, exp_b) = groups[0], groups[1]
        groups[:2] = [(names_a + names_b, obs_a + obs_b, exp_a + exp_b)]
        groups.sort(key=lambda g: g[2])
    return groups


def _verdict(test: ChiSquare, consistent: bool) -> str:
    if consistent:
        return (
            f"Consistent with the configured hashrate shares "
            f"(p = {_p(test.p_value)} >= alpha = {ALPHA:g})."
        )
    return (
        f"NOT consistent with the configured hashrate shares "
        f"(p = {_p(test.p_value)} < alpha = {ALPHA:g}): the winners do not follow the weights."
    )


def _p(p: float) -> str:
    # Below the smallest double the p-value is an underflow, not an exact zero.
    return f"{p:.3g}" if p > 0 else "< 1e-300"


def _winner_counts(counts: Counter[str]) -> tuple[WinnerCount, ...]:
    return tuple(WinnerCount(agent, n) for agent, n in counts.most_common())
