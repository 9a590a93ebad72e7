"""Building the report from a run directory, and writing it back into it."""

from __future__ import annotations

from pathlib import Path

import attrs

from monerosim_core.records.files import write_json_atomic
from monerosim_core.records.layout import RunDir
from monerosim_core.report.blocks import analyse_blocks
from monerosim_core.report.chain import (
    analyse_chain,
    analyse_monitor,
    analyse_records_on_chain,
    analyse_sync,
)
from monerosim_core.report.faults import analyse_faults
from monerosim_core.report.findings import findings
from monerosim_core.report.forks import analyse_forks
from monerosim_core.report.intervals import analyse_intervals, inter_block_times
from monerosim_core.report.load import load_run
from monerosim_core.report.model import Report
from monerosim_core.report.plots import write_plots
from monerosim_core.report.propagation import analyse_propagation
from monerosim_core.report.records import RunData
from monerosim_core.report.render import render_markdown, report_json
from monerosim_core.report.timing import analyse_timing
from monerosim_core.report.transfers import analyse_transfers
from monerosim_core.report.wallets import analyse_wallets

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
    final = data.final_state
    report = Report(
        run_dir=data.run_dir,
        run=data.run,
        findings=(),
        blocks=analyse_blocks(data.blocks, data.registry.miners),
        intervals=analyse_intervals(data.blocks, data.run),
        wallets=analyse_wallets(data.registry, data.blocks, data.transfers, final),
        transfers=None if data.transfers is None else analyse_transfers(data.transfers),
        chain=None if final is None else analyse_chain(data.registry, final),
        records_on_chain=None if final is None else analyse_records_on_chain(data.blocks, final),
        sync=None if data.sync_events is None else analyse_sync(data.sync_events),
        monitor=None if data.status is None else analyse_monitor(data.status),
        timing=analyse_timing(data.timing, data.blocks, data.rpc_calls),
        faults=analyse_faults(data.faults, final),
        forks=None
        if final is None
        else analyse_forks(data.registry, data.blocks, data.publications, final),
        propagation=None if data.propagation is None else analyse_propagation(data.propagation),
    )
    return attrs.evolve(report, findings=findings(report, data.problems))
