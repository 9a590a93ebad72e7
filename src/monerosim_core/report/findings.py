"""The findings: in plain words, everything a researcher should look at before
trusting a run. Each function below reads one section and says what in it does
not fit the configuration or hides a fault."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from monerosim_core.records.files import LineProblem
from monerosim_core.report.model import Report
from monerosim_core.report.xmr import format_xmr

SHOWN = 10


def findings(report: Report, problems: Sequence[LineProblem]) -> tuple[str, ...]:
    return (
        *(f"Unreadable record skipped: {p}." for p in problems),
        *_run(report),
        *_blocks(report),
        *_intervals(report),
        *_settling(report),
        *_wallets(report),
        *_transfers(report),
        *_chain(report),
        *_forks(report),
        *_propagation(report),
        *_faults(report),
    )


def _first(items: Sequence[Any], limit: int = SHOWN) -> str:
    shown = ", ".join(f"{i:g}" if isinstance(i, float) else str(i) for i in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _faults(report: Report) -> Iterator[str]:
    faults = report.faults
    if faults.by_kind:
        counts = ", ".join(f"{k.kind} {k.count}" for k in faults.by_kind)
        yield f"{len(faults.timeline)} fault(s) recorded ({counts}); see the faults timeline."
    for agent in faults.restarted:
        restarts = [
            f for f in faults.timeline if f.kind == "agent_restarted" and f.subject == agent
        ]
        yield f"Agent {agent} died and was restarted at simulated {restarts[0].sim_time:g} s."
    # Public blocks the forks section accounts for sit on every node's side chains.
    explained = report.forks.public_orphans if report.forks is not None else 0
    for node in faults.orphans:
        if node.blocks <= explained:
            continue
        beyond = f", {node.blocks - explained} beyond the recorded forks" if explained else ""
        yield (
            f"Node {node.agent_id} keeps {node.blocks} block(s) off the main chain "
            f"(side chains ending at heights {_first(node.heights)}{beyond}): orphans, a fork "
            "or a late block from a stalled node."
        )


def _run(report: Report) -> Iterator[str]:
    run = report.run
    if run.end_reason is None:
        yield "The run has no end record: it is still running or was killed."
    elif run.end_reason != "completed":
        why = f": {run.failure}" if run.failure else ""
        yield f"The run did not complete: it ended {run.end_reason}{why}."


def _blocks(report: Report) -> Iterator[str]:
    blocks = report.blocks
    if blocks.fit.consistent is False:
        yield f"Block shares: {blocks.fit.verdict}"
    if blocks.excluded:
        yield (
            f"{blocks.excluded} block(s) left out of the share test: "
            f"{_first(blocks.excluded_miners)} could not win them (failed or sitting out)."
        )
    for stranger in blocks.unknown_winners:
        yield (
            f"{stranger.blocks} block(s) won by {stranger.agent_id!r}, which is not in miners.json."
        )
    if blocks.reselections:
        yield (
            f"{len(blocks.reselections)} block(s) went to a reselected miner "
            "after the first choice failed."
        )
    if blocks.duplicate_heights:
        yield f"Heights recorded more than once: {_first(blocks.duplicate_heights)}."


def _intervals(report: Report) -> Iterator[str]:
    intervals = report.intervals
    if intervals.fit.consistent is False:
        yield f"Inter-block times: {intervals.fit.verdict}"
    if intervals.missing:
        yield (
            f"{len(intervals.missing)} of {intervals.due} scheduled block(s) were not mined "
            f"(simulated times {_first(intervals.missing)})."
        )
    if intervals.unscheduled:
        yield (
            f"{len(intervals.unscheduled)} block(s) at no scheduled time "
            f"(simulated times {_first(intervals.unscheduled)})."
        )


def _settling(report: Report) -> Iterator[str]:
    timing = report.timing
    if not timing.settle_bound_hits:
        return
    if report.run.hand_over_transfers:
        yield (
            f"Settling hit its bound before {timing.settle_bound_hits} block(s): "
            f"{timing.settle_missing} transfer(s) due were not in the winner's pool."
        )
    else:
        yield (
            f"{timing.settle_missing} transfer(s) sent over {report.run.tx_propagation:g} s "
            f"before a block were not in the winner's pool when it was mined "
            f"({timing.settle_bound_hits} block(s)); the network's propagation is simulated, "
            "Dandelion++ included, and nothing was handed over."
        )


def _wallets(report: Report) -> Iterator[str]:
    wallets = report.wallets
    for p in wallets.payout_mismatches:
        yield f"Block {p.height} paid {p.paid_to}, not winner {p.winner}'s registered address."
    for w in wallets.wallets:
        if w.status == "mismatch" and w.difference is not None:
            yield (
                f"Wallet {w.agent_id}: balance {format_xmr(w.balance or 0)} XMR, the records "
                f"add up to {format_xmr(w.expected)} XMR "
                f"(difference {format_xmr(w.difference, signed=True)})."
            )


def _transfers(report: Report) -> Iterator[str]:
    transfers = report.transfers
    if transfers is not None and transfers.totals.failed:
        causes = ", ".join(f"{c.cause} {c.count}" for c in transfers.failed_by_cause)
        yield (
            f"{transfers.totals.failed} of {transfers.totals.records} transfers failed ({causes})."
        )


def _forks(report: Report) -> Iterator[str]:
    forks = report.forks
    if forks is None:
        return
    orphaned = sum(m.orphaned for m in forks.miners)
    if forks.withholder is None and not forks.no_forks:
        deepest = max((r.max_depth for r in forks.reorgs), default=0)
        yield (
            f"The chain forked in a run without a withholding miner: {orphaned} recorded "
            f"block(s) orphaned, reorganisations up to {deepest} block(s) deep."
        )
    if forks.refused:
        yield f"Nodes refused {forks.refused} published withheld block(s)."
    if forks.lost:
        yield (
            f"{len(forks.lost)} transaction(s) confirmed in an orphaned block are in no "
            "main-chain block at the end."
        )


def _propagation(report: Report) -> Iterator[str]:
    p = report.propagation
    if p is not None and p.incomplete:
        yield (
            f"{len(p.incomplete)} mined block(s) never reached every node: heights "
            f"{_first(p.incomplete)}."
        )


def _chain(report: Report) -> Iterator[str]:
    chain, on_chain, sync = report.chain, report.records_on_chain, report.sync
    if chain is not None:
        if chain.out_of_sync:
            yield f"Nodes not on the majority tip at the end: {_first(chain.out_of_sync)}."
        if chain.unreachable:
            yield f"Nodes unreadable at the end: {_first(chain.unreachable)}."
    if on_chain is not None:
        if on_chain.off_chain:
            yield (
                f"At heights {_first(on_chain.off_chain)} the main chain holds a block no "
                "record names (the recorded blocks there were orphaned)."
            )
        if on_chain.timestamp_mismatches:
            yield (
                "On-chain timestamps differ from the records at heights "
                f"{_first(on_chain.timestamp_mismatches)}."
            )
        if on_chain.unrecorded:
            yield (
                f"Main-chain blocks without a record: heights {_first(on_chain.unrecorded)} "
                f"(chain tip {on_chain.chain_tip}, highest record {on_chain.highest_record})."
            )
    if sync is not None and sync.unresolved:
        yield f"{sync.unresolved} sync divergence(s) still open when the run ended."
