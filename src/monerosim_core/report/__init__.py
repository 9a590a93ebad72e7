"""The run report: what a run did, checked against its configuration.

``write_report(run_dir)`` reads a run directory and writes ``report/summary.md``,
``report/summary.json`` and, when matplotlib is installed, PNG plots;
``build_report(run_dir)`` does the same analysis without writing anything. Both
raise :class:`ReportError` (naming the file) when the run directory cannot be read.
"""

from __future__ import annotations

from monerosim_core.report.errors import ReportError
from monerosim_core.report.summary import Report, build_report, write_report

__all__ = ["Report", "ReportError", "build_report", "write_report"]
