"""The report as a few lines for the terminal, printed at the end of a run."""

from __future__ import annotations

from monerosim_core.report.blocks import BlockSection
from monerosim_core.report.model import Report
from monerosim_core.report.render.fmt import NOT_RECORDED, millis, opt, pct, secs

# A large run can have hundreds of findings; the terminal shows the first ones and
# summary.md has them all.
_MAX_FINDINGS = 10


def render_terminal(report: Report) -> str:
    r, b, t, c = report.run, report.blocks, report.transfers, report.chain
    lines = [
        f"monerosim report: {report.run_dir} "
        f"({r.end_reason or 'no end record'}, {secs(r.sim_elapsed) or NOT_RECORDED} "
        f"simulated, seed {r.seed})",
        f"  blocks:    {b.total - b.bootstrap} mined + {b.bootstrap} bootstrap; {_fit_short(b)}",
    ]
    i = report.intervals
    if i.mean is not None:
        lines.append(
            f"  intervals: mean {i.mean:.3f} s over {i.count} (configured {i.configured:g} s, "
            f"{i.fit.kind}); {i.due - len(i.missing)} of {i.due} scheduled blocks mined"
        )
    timing = report.timing
    if timing.phases is not None:
        pace = "" if timing.pace is None else f"pace {timing.pace:.1f}x; "
        lines.append(
            f"  wall time: {pace}"
            + ", ".join(f"{name} {v:.1f} s" for name, v in timing.phases.items())
        )
    w = report.wallets
    lines.append(
        f"  wallets:   {w.count('match')} match, {w.count('mismatch')} mismatch, "
        f"{w.count('unknown')} unknown"
    )
    if t is None:
        lines.append(f"  transfers: {NOT_RECORDED}")
    else:
        within = next((x for x in t.confirmation.within if x.blocks == 2), None)
        fast = f"; {pct(within.share)} within 2 blocks" if within and within.share else ""
        lines.append(
            f"  transfers: {t.totals.sent} sent, {t.totals.confirmed} confirmed, "
            f"{t.totals.failed} failed{fast}"
        )
    p = report.propagation
    if p is not None and p.delays is not None and p.reached_all is not None:
        lines.append(
            f"  network:   blocks reached every node in {millis(p.reached_all.median)} "
            f"median, {millis(p.reached_all.max)} max ({p.blocks} blocks)"
        )
    if c is None:
        lines.append(f"  nodes:     final state {NOT_RECORDED}")
    else:
        lines.append(
            f"  nodes:     {c.in_sync}/{len(c.nodes)} in sync at height {opt(c.majority_height)}"
        )
    if report.findings:
        lines.append(f"  findings ({len(report.findings)}):")
        lines += [f"    - {f}" for f in report.findings[:_MAX_FINDINGS]]
        if len(report.findings) > _MAX_FINDINGS:
            more = len(report.findings) - _MAX_FINDINGS
            lines.append(f"    ... and {more} more in the full report")
    else:
        lines.append("  findings:  none")
    if report.output_dir is not None:
        lines.append(f"  full report: {report.output_dir / 'summary.md'}")
    return "\n".join(lines) + "\n"


def _fit_short(b: BlockSection) -> str:
    fit = b.fit
    chosen = fit.pooled or fit.test
    if fit.consistent is None or chosen is None:
        return "no reliable share test" + (
            f" (p = {fit.test.p_value:.3g}, for reference)" if fit.test else ""
        )
    word = "consistent" if fit.consistent else "NOT consistent"
    return f"shares {word} with the configured hashrates (p = {chosen.p_value:.3g})"
