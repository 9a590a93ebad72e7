"""The report as JSON, as written to ``report/summary.json``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs

from monerosim_core.report.model import Report

# Bumped when a figure in summary.json changes meaning or place.
JSON_SCHEMA = 3  # 3: forks section; records_on_chain.off_chain excludes explained orphans


def report_json(report: Report) -> dict[str, Any]:
    """The same figures as the markdown.

    Atomic amounts stay integers; a non-finite float (an impossible fit's
    statistic) becomes null, since JSON has no infinity.
    """
    doc = attrs.asdict(report, value_serializer=_json_value)
    return {"schema": JSON_SCHEMA, **doc}


def _json_value(_inst: object, _field: object, value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
