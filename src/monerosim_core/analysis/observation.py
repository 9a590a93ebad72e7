"""One run as campaigns and comparisons see it: its report reduced to named numbers.

A run's report (:mod:`monerosim_core.report`) says what happened; an
:class:`Observation` keeps what can be compared across runs: flat, named metrics
(one value per run, the unit of a campaign's statistics) and the raw events behind
the pooled tests (block winners, inter-block gaps, confirmation delays).

Metric names (``<miner>``, ``<cause>`` and ``<role>`` are filled in per run):

==============================  ====================================================
``blocks.counted``              non-bootstrap blocks won by configured miners
``share.<miner>``               the miner's fraction of those blocks (0 to 1)
``intervals.mean``              mean simulated seconds between non-bootstrap blocks
``transfers.sent``              transfers accepted by wallet-rpc
``transfers.confirmed``         ... of which found in a block by the end
``transfers.pending``           ... of which not in a block by the end
``transfers.failed``            transfers wallet-rpc refused
``transfers.failed.<cause>``    ... by cause (0 in a run that had none of it)
``confirmation.mean_blocks``    mean blocks from sending to confirmation
``confirmation.within_2``       fraction of confirmations within 2 blocks
``confirmation.mean_seconds``   mean simulated seconds from sending to confirmation
``fees.total``                  XMR paid in fees by every wallet
``fees.mean``                   XMR of fee per sent transfer
``balance.<role>``              XMR held at the end by the wallets of a role
                                (miner, solo_miner, regular_user, miner_distributor)
``sync.divergences``            periods in which the nodes disagreed
``sync.diverged_seconds``       simulated seconds of those that ended
``sync.unresolved``             divergences still open at the end
``chain.out_of_sync``           nodes not on the majority tip at the end
``findings``                    problems the run report lists
==============================  ====================================================

A metric is ``None`` when the run did not record what it comes from (no
transfers journal, no final state), so a missing figure is never averaged as 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import attrs

from monerosim_core.config.user_agents import USER_SCRIPTS
from monerosim_core.records.registry import Registry
from monerosim_core.report.build import analyse
from monerosim_core.report.intervals import inter_block_times
from monerosim_core.report.load import load_run
from monerosim_core.report.model import Report
from monerosim_core.report.xmr import ATOMIC_PER_XMR

FAILED_CAUSE = "transfers.failed."  # the prefix of the per-cause failure counts
ROLES = ("miner", "solo_miner", "regular_user", "miner_distributor")
WITHIN_BLOCKS = 2
WITHIN_METRIC = f"confirmation.within_{WITHIN_BLOCKS}"


def metric_range(metric: str) -> tuple[float, float]:
    """The values ``metric`` can take: fractions lie in [0, 1]; every other metric
    (counts, mean delays and gaps, XMR) is at least 0."""
    if metric.startswith("share.") or metric == WITHIN_METRIC:
        return 0.0, 1.0
    return 0.0, math.inf


@attrs.frozen
class Observation:
    """What one run measured (see the module docstring for the metric names).

    ``weights`` are the configured block probabilities (normalised), ``blocks`` the
    non-bootstrap blocks each configured miner won. ``delays`` (confirmation delays
    in blocks) and ``outcomes`` (transfer counts: confirmed, pending, and
    ``failed: <cause>``) are ``None`` when the run recorded no transfers journal.
    """

    run_dir: Path
    seed: int
    config: str
    end_reason: str | None
    weights: Mapping[str, float] = attrs.field(hash=False)
    blocks: Mapping[str, int] = attrs.field(hash=False)
    gaps: tuple[float, ...]
    delays: tuple[int, ...] | None
    outcomes: Mapping[str, int] | None = attrs.field(hash=False)
    metrics: Mapping[str, float | None] = attrs.field(hash=False)
    findings: tuple[str, ...]
    wall_seconds: float | None
    pace: float | None

    def value(self, metric: str) -> float | None:
        """The run's value of ``metric``; a failure cause the run never met is 0."""
        if metric in self.metrics:
            return self.metrics[metric]
        if metric.startswith(FAILED_CAUSE) and self.outcomes is not None:
            return 0.0
        return None


def observe(run_dir: Path) -> Observation:
    """Read and analyse ``run_dir``; raises :class:`~monerosim_core.report.ReportError`
    when it cannot be read."""
    data = load_run(run_dir)
    report = analyse(data)
    transfers = report.transfers
    delays = (
        None
        if transfers is None
        else tuple(d.blocks for d in transfers.confirmation.histogram for _ in range(d.count))
    )
    outcomes = None
    if transfers is not None:
        outcomes = {
            "confirmed": transfers.totals.confirmed,
            "pending": transfers.totals.pending,
            **{f"failed: {c.cause}": c.count for c in transfers.failed_by_cause},
        }
    run = report.run
    wall = None if run.ended_wall is None else run.ended_wall - run.started_wall
    return Observation(
        run_dir=run_dir,
        seed=run.seed,
        config=run.config,
        end_reason=run.end_reason,
        weights={s.agent_id: s.weight for s in report.blocks.shares},
        blocks={s.agent_id: s.observed for s in report.blocks.shares},
        gaps=tuple(inter_block_times(data.blocks)),
        delays=delays,
        outcomes=outcomes,
        metrics=_metrics(report, data.registry),
        findings=report.findings,
        wall_seconds=wall,
        pace=report.timing.pace,
    )


def _metrics(report: Report, registry: Registry) -> dict[str, float | None]:
    blocks = report.blocks
    metrics: dict[str, float | None] = {"blocks.counted": float(blocks.counted)}
    metrics |= {f"share.{s.agent_id}": s.observed_share for s in blocks.shares}
    metrics["intervals.mean"] = report.intervals.mean
    metrics |= _transfer_metrics(report)
    metrics |= _wallet_metrics(report, registry)
    sync, chain = report.sync, report.chain
    metrics["sync.divergences"] = None if sync is None else float(len(sync.events))
    metrics["sync.diverged_seconds"] = None if sync is None else sync.diverged_seconds
    metrics["sync.unresolved"] = None if sync is None else float(sync.unresolved)
    metrics["chain.out_of_sync"] = None if chain is None else float(len(chain.out_of_sync))
    metrics["findings"] = float(len(report.findings))
    return metrics


def _transfer_metrics(report: Report) -> dict[str, float | None]:
    t = report.transfers
    names = ("sent", "confirmed", "pending", "failed")
    if t is None:
        return {
            **{f"transfers.{n}": None for n in names},
            "confirmation.mean_blocks": None,
            WITHIN_METRIC: None,
            "confirmation.mean_seconds": None,
        }
    within = next((w for w in t.confirmation.within if w.blocks == WITHIN_BLOCKS), None)
    return {
        **{f"transfers.{n}": float(getattr(t.totals, n)) for n in names},
        **{f"{FAILED_CAUSE}{c.cause}": float(c.count) for c in t.failed_by_cause},
        "confirmation.mean_blocks": t.confirmation.mean_blocks,
        WITHIN_METRIC: None if within is None else within.share,
        "confirmation.mean_seconds": t.confirmation.mean_seconds,
    }


def _wallet_metrics(report: Report, registry: Registry) -> dict[str, float | None]:
    wallets = report.wallets
    sent = report.transfers.totals.sent if report.transfers is not None else 0
    fees = sum(w.fees for w in wallets.wallets)
    metrics: dict[str, float | None] = {
        "fees.total": fees / ATOMIC_PER_XMR if wallets.transfers_recorded else None,
        "fees.mean": fees / ATOMIC_PER_XMR / sent if sent else None,
    }
    role_of = _roles(registry)
    held: Counter[str] = Counter()
    read: set[str] = set()
    for w in wallets.wallets:
        role = role_of.get(w.agent_id)
        if role is not None and w.balance is not None:
            held[role] += w.balance
            read.add(role)
    present = set(role_of.values())
    for role in ROLES:
        if role in present:
            metrics[f"balance.{role}"] = held[role] / ATOMIC_PER_XMR if role in read else None
    return metrics


def _roles(registry: Registry) -> dict[str, str]:
    """Each wallet's role, as the metric names spell it."""
    solo = {m.agent_id for m in registry.miners if m.is_solo_miner}
    roles = {}
    for agent in registry.agents:
        if not agent.has_wallet:
            continue
        if agent.is_miner:
            roles[agent.id] = "solo_miner" if agent.id in solo else "miner"
        elif agent.user_script in USER_SCRIPTS:
            roles[agent.id] = USER_SCRIPTS[agent.user_script].value
    return roles
