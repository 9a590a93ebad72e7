"""How the transfers went: sent, confirmed, failed and why, and how fast they confirmed."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

import attrs

from monerosim_core.report.records import Transfer

# "Confirmed within k blocks" is reported for these k.
WITHIN_BLOCKS = (1, 2, 5)


@attrs.frozen
class TransferCounts:
    records: int
    sent: int
    confirmed: int
    pending: int  # sent but not confirmed by the end of the run
    failed: int


@attrs.frozen
class KindCounts:
    kind: str
    counts: TransferCounts


@attrs.frozen
class CauseCount:
    cause: str
    count: int
    example: str | None  # one full error message of this cause, to show what it means


@attrs.frozen
class DelayCount:
    blocks: int
    count: int


@attrs.frozen
class WithinShare:
    blocks: int
    count: int
    share: float | None  # of the measured confirmations; None when there are none


@attrs.frozen
class Confirmation:
    """Confirmation delay in blocks (``confirmed_height - sent_height``) and sim seconds.

    ``measured`` counts the confirmed transfers whose sent height was recorded; the
    shares in ``within`` are of those, so transfers still pending at the end (which
    had no chance to confirm) do not pull them down; ``TransferCounts.pending``
    shows how many there were.
    """

    measured: int
    histogram: tuple[DelayCount, ...]
    mean_blocks: float | None
    median_blocks: float | None
    max_blocks: int | None
    within: tuple[WithinShare, ...]
    mean_seconds: float | None
    median_seconds: float | None


@attrs.frozen
class TransferSection:
    totals: TransferCounts
    by_kind: tuple[KindCounts, ...]
    failed_by_cause: tuple[CauseCount, ...]
    retried: int  # transfers that took more than one attempt, whatever the outcome
    confirmation: Confirmation


def analyse_transfers(transfers: Sequence[Transfer]) -> TransferSection:
    kinds = sorted({t.record.kind for t in transfers})
    return TransferSection(
        totals=_counts(transfers),
        by_kind=tuple(
            KindCounts(k, _counts([t for t in transfers if t.record.kind == k])) for k in kinds
        ),
        failed_by_cause=_causes([t for t in transfers if not t.sent]),
        retried=sum(1 for t in transfers if t.record.attempts > 1),
        confirmation=_confirmation(transfers),
    )


def _counts(transfers: Sequence[Transfer]) -> TransferCounts:
    sent = sum(1 for t in transfers if t.sent)
    confirmed = sum(1 for t in transfers if t.confirmed)
    return TransferCounts(
        records=len(transfers),
        sent=sent,
        confirmed=confirmed,
        pending=sent - confirmed,
        failed=len(transfers) - sent,
    )


def _causes(failed: Sequence[Transfer]) -> tuple[CauseCount, ...]:
    counts = Counter(t.record.cause or "unknown" for t in failed)
    examples: dict[str, str] = {}
    for t in failed:
        if t.record.error:
            examples.setdefault(t.record.cause or "unknown", t.record.error)
    return tuple(CauseCount(cause, n, examples.get(cause)) for cause, n in counts.most_common())


def _confirmation(transfers: Sequence[Transfer]) -> Confirmation:
    confirmed = [t for t in transfers if t.confirmed]
    delays = [
        t.confirmed_height - t.record.sent_height
        for t in confirmed
        if t.confirmed_height is not None and t.record.sent_height is not None
    ]
    seconds = [
        t.confirmed_sim_time - t.record.sim_time
        for t in confirmed
        if t.confirmed_sim_time is not None
    ]
    histogram = Counter(delays)
    return Confirmation(
        measured=len(delays),
        histogram=tuple(DelayCount(d, n) for d, n in sorted(histogram.items())),
        mean_blocks=statistics.fmean(delays) if delays else None,
        median_blocks=float(statistics.median(delays)) if delays else None,
        max_blocks=max(delays) if delays else None,
        within=tuple(
            WithinShare(
                blocks=k,
                count=sum(1 for d in delays if d <= k),
                share=sum(1 for d in delays if d <= k) / len(delays) if delays else None,
            )
            for k in WITHIN_BLOCKS
        ),
        mean_seconds=statistics.fmean(seconds) if seconds else None,
        median_seconds=statistics.median(seconds) if seconds else None,
    )
