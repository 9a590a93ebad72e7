"""Building the report from a run directory, and writing it back into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from monerosim_core.records.files import LineProblem, write_json_atomic
from monerosim_core.records.layout import RunDir, RunInfo
from monerosim_core.report.blocks import (
    BlockSection,
    analyse_blocks,
    analyse_intervals,
    inter_block_times,
)
from monerosim_core.report.chain import (
    ChainSection,
    SyncSection,
    analyse_chain,
    analyse_monitor,
    analyse_sync,
)
from monerosim_core.report.load import load_run
from monerosim_core.report.model import Report
from monerosim_core.report.plots import write_plots
from monerosim_core.report.records import RunData
from monerosim_core.report.render import render_markdown, report_json
from monerosim_core.report.transfers import TransferSection, analyse_transfers
from monerosim_core.report.wallets import WalletSection, analyse_wallets
from monerosim_core.report.xmr import format_xmr

SUMMARY_MD = "summary.md"
SUMMARY_JSON = "summary.json"


def build_report(run_dir: Path) -> Report:
    """Read ``run_dir`` and analyse it, writing nothing.

    Raises :class:`~monerosim_core.report.ReportError` when a required file is missing
    or any file is malformed.
    """
    return analyse(load_run(run_dir))


def write_report(run_dir: Path) -> Report:
    """Build the report and write ``report/summary.md``, ``summary.json`` and the plots."""
    data = load_run(run_dir)
    report = analyse(data)
    out = RunDir(run_dir).report
    out.mkdir(exist_ok=True)
    plots = write_plots(
        out,
        shares=report.blocks.shares,
        gaps=inter_block_times(data.blocks),
        configured_interval=data.run.block_interval,
        samples=data.status,
    )
    report = attrs.evolve(report, output_dir=out, plots=plots)
    write_json_atomic(out / SUMMARY_JSON, report_json(report))
    (out / SUMMARY_MD).write_text(render_markdown(report), encoding="utf-8")
    return report


def analyse(data: RunData) -> Report:
    blocks = analyse_blocks(data.blocks, data.registry.miners)
    wallets = analyse_wallets(data.registry, data.blocks, data.transfers, data.final_state)
    transfers = None if data.transfers is None else analyse_transfers(data.transfers)
    chain = None if data.final_state is None else analyse_chain(data.registry, data.final_state)
    sync = None if data.sync_events is None else analyse_sync(data.sync_events)
    return Report(
        run_dir=data.run_dir,
        run=data.run,
        findings=_findings(data.run, blocks, wallets, transfers, chain, sync, data.problems),
        blocks=blocks,
        intervals=analyse_intervals(data.blocks, data.run.block_interval),
        wallets=wallets,
        transfers=transfers,
        chain=chain,
        sync=sync,
        monitor=None if data.status is None else analyse_monitor(data.status),
    )


def _findings(
    run: RunInfo,
    blocks: BlockSection,
    wallets: WalletSection,
    transfers: TransferSection | None,
    chain: ChainSection | None,
    sync: SyncSection | None,
    problems: tuple[LineProblem, ...],
) -> tuple[str, ...]:
    found: list[str] = [f"Unreadable record skipped: {p}." for p in problems]
    if run.end_reason is None:
        found.append("The run has no end record: it is still running or was killed.")
    elif run.end_reason != "completed":
        found.append(f"The run did not complete: it ended {run.end_reason}.")
    if blocks.fit.consistent is False:
        found.append(f"Block shares: {blocks.fit.verdict}")
    for stranger in blocks.unknown_winners:
        found.append(
            f"{stranger.blocks} block(s) won by {stranger.agent_id!r}, which is not in miners.json."
        )
    if blocks.reselections:
        found.append(
            f"{len(blocks.reselections)} block(s) went to a reselected miner "
            "after the first choice failed."
        )
    if blocks.duplicate_heights:
        found.append(f"Heights recorded more than once: {_first(blocks.duplicate_heights)}.")
    for p in wallets.payout_mismatches:
        found.append(
            f"Block {p.height} paid {p.paid_to}, not winner {p.winner}'s registered address."
        )
    for w in wallets.wallets:
        if w.status == "mismatch" and w.difference is not None:
            found.append(
                f"Wallet {w.agent_id}: balance {format_xmr(w.balance or 0)} XMR, the records "
                f"add up to {format_xmr(w.expected)} XMR "
                f"(difference {format_xmr(w.difference, signed=True)})."
            )
    if transfers is not None and transfers.totals.failed:
        causes = ", ".join(f"{c.cause} {c.count}" for c in transfers.failed_by_cause)
        found.append(
            f"{transfers.totals.failed} of {transfers.totals.records} transfers failed ({causes})."
        )
    if chain is not None:
        if chain.out_of_sync:
            found.append(f"Nodes not on the majority tip at the end: {_first(chain.out_of_sync)}.")
        if chain.unreachable:
            found.append(f"Nodes unreadable at the end: {_first(chain.unreachable)}.")
    if sync is not None and sync.unresolved:
        found.append(f"{sync.unresolved} sync divergence(s) still open when the run ended.")
    return tuple(found)


def _first(items: tuple[Any, ...], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
