"""The run report: what a run did, checked against its configuration.

``write_report(run_dir)`` reads a run directory and writes ``report/summary.md``,
``report/summary.json`` and, when matplotlib is installed, PNG plots;
``build_report(run_dir)`` does the same analysis without writing anything. Both
raise :class:`ReportError` (naming the file) when the run directory cannot be read.
``render_terminal(report)`` is the few lines printed at the end of a run.
"""

from __future__ import annotations

from monerosim_core.report.build import build_report, write_report
from monerosim_core.report.errors import ReportError
from monerosim_core.report.model import Report
from monerosim_core.report.render import render_markdown, render_terminal, report_json

__all__ = [
    "Report",
    "ReportError",
    "build_report",
    "render_markdown",
    "render_terminal",
    "report_json",
    "write_report",
]
