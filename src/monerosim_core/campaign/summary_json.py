"""The campaign's figures as JSON, as written to ``CAMPAIGN_DIR/summary.json``.

Everything ``report.md`` shows and more: every metric of every cell, every test
between cells (not only those that found a difference). Estimates are
``{n, mean, sd, low, high}``; a value that could not be computed is null.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from monerosim_core.analysis.compare import ALPHA, SHARES_TEST
from monerosim_core.analysis.stats import CONFIDENCE, Estimate
from monerosim_core.campaign.results import CampaignResults
from monerosim_core.campaign.summary import CellPair, CellSummary

# Bumped when a figure changes meaning or place.
SUMMARY_SCHEMA = 1


def campaign_json(results: CampaignResults) -> dict[str, Any]:
    state, summary = results.state, results.summary
    return {
        "schema": SUMMARY_SCHEMA,
        "campaign_file": state.campaign_file,
        "scenario": state.scenario,
        "seeds": list(state.seeds),
        "confidence": CONFIDENCE,
        "alpha": ALPHA,
        "runs": state.counts(),
        "parameters": [
            {"name": p.name, "path": p.path.text, "values": [_plain(v) for v in p.values]}
            for p in summary.parameters
        ],
        "metrics": list(summary.metrics),
        "cells": [_cell(c, list(summary.metrics)) for c in summary.cells],
        "pairs": [_pair(p) for p in summary.pairs],
    }


def _plain(value: object) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _estimate(e: Estimate | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"n": e.n, "mean": e.mean, "sd": e.sd, "low": e.low, "high": e.high}


def _cell(cell: CellSummary, metrics: list[str]) -> dict[str, Any]:
    fit = cell.fit
    return {
        "name": cell.cell.name,
        "directory": cell.cell.directory,
        "settings": {s.parameter.name: _plain(s.value) for s in cell.cell.settings},
        "seeds": [o.seed for o in cell.observations],
        "metrics": {m: _estimate(cell.metric(m)) for m in metrics},
        "shares": [
            {
                "miner": s.miner,
                "weight": s.weight,
                "estimate": _estimate(s.estimate),
                "weight_in_interval": s.contains,
            }
            for s in cell.shares
        ],
        "pooled_blocks": dict(cell.pooled_blocks),
        "fit": None if fit is None else attrs.asdict(fit),
    }


def _pair(pair: CellPair) -> dict[str, Any]:
    test = pair.shares_test
    return {
        "a": pair.a.name,
        "b": pair.b.name,
        "parameter": pair.parameter,
        "shares_test": None
        if test is None
        else {
            **attrs.asdict(test),
            "q_value": pair.q_values.get(SHARES_TEST),
            "differs": pair.differs(SHARES_TEST),
        },
        "metrics": [
            {
                "metric": m.metric,
                **{
                    k: _finite(v) if isinstance(v, float) else v
                    for k, v in attrs.asdict(m.test).items()
                },
                "q_value": pair.q_values.get(m.metric),
                "differs": pair.differs(m.metric),
            }
            for m in pair.metrics
        ],
    }
