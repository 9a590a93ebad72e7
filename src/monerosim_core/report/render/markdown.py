"""The report as markdown, as written to ``report/summary.md``."""

from __future__ import annotations

from monerosim_core.records.layout import (
    FAULTS_FILE,
    FINAL_STATE_FILE,
    NODE_STATUS_FILE,
    SYNC_EVENTS_FILE,
    TRANSFERS_FILE,
    RunInfo,
)
from monerosim_core.report.blocks import ALPHA, BlockSection
from monerosim_core.report.chain import (
    ChainSection,
    MonitorSection,
    RecordsOnChain,
    SyncSection,
)
from monerosim_core.report.faults import SHOWN as FAULTS_SHOWN
from monerosim_core.report.faults import FaultSection
from monerosim_core.report.forks import ForksSection
from monerosim_core.report.intervals import IntervalSection
from monerosim_core.report.model import Report
from monerosim_core.report.plots import BLOCKS_PNG, HEIGHTS_PNG, INTERVALS_PNG, PlotOutcome
from monerosim_core.report.propagation import PropagationSection
from monerosim_core.report.render.fmt import (
    NOT_RECORDED,
    md_cell,
    md_table,
    millis,
    opt,
    pct,
    secs,
    short,
)
from monerosim_core.report.timing import TimingSection
from monerosim_core.report.transfers import TransferCounts, TransferSection
from monerosim_core.report.wallets import WalletSection
from monerosim_core.report.xmr import format_xmr

_PLOT_TITLES = {
    BLOCKS_PNG: "Blocks per miner, observed vs expected",
    INTERVALS_PNG: "Inter-block times",
    HEIGHTS_PNG: "Node heights over time",
}


def render_markdown(report: Report) -> str:
    r = report.run
    lines = [
        "# monerosim run report",
        "",
        f"Run directory: `{report.run_dir}`",
        "",
        *md_table(
            ["config", "seed", "engine", "pace", "stop time", "simulated", "ended"],
            [
                [
                    f"`{r.config}`",
                    str(r.seed),
                    r.engine,
                    _pace(r),
                    secs(r.stop_time),
                    secs(r.sim_elapsed) or NOT_RECORDED,
                    r.end_reason or "no end record",
                ]
            ],
        ),
        "",
        "## Findings",
        "",
        *([f"- {f}" for f in report.findings] or ["No problems found."]),
        "",
        *_blocks_md(report.blocks),
        *_intervals_md(report.intervals),
        *_wallets_md(report.wallets),
        *_transfers_md(report.transfers),
        *_chain_md(report.chain, report.records_on_chain, report.sync, report.monitor),
        *_forks_md(report.forks),
        *_propagation_md(report.propagation),
        *_faults_md(report.faults),
        *_timing_md(report.timing, r),
        *_plots_md(report.plots),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _blocks_md(b: BlockSection) -> list[str]:
    fit = b.fit
    out = [
        "## Blocks per miner",
        "",
        f"{b.total} blocks: {b.bootstrap} bootstrap, {b.total - b.bootstrap} after bootstrap, "
        f"of which {b.counted} were won by configured miners (the sample tested below).",
        "",
        "Bootstrap: "
        + (", ".join(f"{w.agent_id} {w.blocks}" for w in b.bootstrap_winners) or "none")
        + " (not drawn from the weights, not tested).",
        "",
        *md_table(
            ["miner", "solo", "weight", "expected", "observed", "observed share"],
            [
                [
                    s.agent_id,
                    "yes" if s.is_solo_miner else "",
                    pct(s.weight),
                    f"{s.expected:.2f}",
                    str(s.observed),
                    pct(s.observed_share),
                ]
                for s in b.shares
            ],
        ),
        "",
        f"Chi-square goodness of fit at alpha = {ALPHA:g}:",
        "",
    ]
    if fit.test is not None:
        out.append(f"- all miners: {_chi(fit.test.statistic, fit.test.dof, fit.test.p_value)}")
    if fit.pooled is not None:
        pooled = fit.pooled
        out.append(f"- small miners pooled: {_chi(pooled.statistic, pooled.dof, pooled.p_value)}")
    out += [f"- **verdict**: {fit.verdict}", ""]
    if b.excluded:
        out += [
            f"{b.excluded} block(s) were left out of the test: mined while "
            f"{', '.join(b.excluded_miners)} could not win them (failed, or sitting out "
            "after a failure), so they were not drawn from the configured weights.",
            "",
        ]
    if b.unknown_winners:
        out += [
            "Blocks won by agents not in miners.json (left out of the test): "
            + ", ".join(f"{w.agent_id} {w.blocks}" for w in b.unknown_winners),
            "",
        ]
    if b.reselections:
        out += [
            f"{len(b.reselections)} block(s) went to a reselected miner "
            "(counted above; many of them bias the shares):",
            "",
            *md_table(
                ["height", "winner", "chosen first (failed)"],
                [[str(x.height), x.winner, ", ".join(x.reselected_from)] for x in b.reselections],
            ),
            "",
        ]
    else:
        out += ["No block needed a reselected miner.", ""]
    if b.duplicate_heights:
        out += [f"Heights recorded more than once: {', '.join(map(str, b.duplicate_heights))}", ""]
    return out


def _intervals_md(i: IntervalSection) -> list[str]:
    out = ["## Inter-block times", ""]
    out += [
        f"{i.due} block(s) were due before the run ended ({i.fit.kind} block times, "
        f"replayed from the seed); {len(i.missing)} of them not mined"
        + (f" (at {', '.join(f'{t:g}' for t in i.missing[:10])} s)" if i.missing else "")
        + (f"; {len(i.unscheduled)} block(s) at no scheduled time" if i.unscheduled else "")
        + ".",
        "",
    ]
    if i.count == 0:
        return [*out, "Fewer than two non-bootstrap blocks: no interval to measure.", ""]
    return [
        *out,
        "Simulated seconds between consecutive non-bootstrap blocks.",
        "",
        *md_table(
            ["count", "mean", "median", "stdev", "min", "max", "configured"],
            [
                [str(i.count)]
                + [secs(v) for v in (i.mean, i.median, i.stdev, i.minimum, i.maximum)]
                + [secs(i.configured)]
            ],
        ),
        "",
        f"- **fit**: {i.fit.verdict}",
        "",
    ]


def _forks_md(f: ForksSection | None) -> list[str]:
    out = ["## Forks", ""]
    if f is None:
        return [*out, f"No main chain in {FINAL_STATE_FILE}: nothing to judge by.", ""]
    who = (
        f"Withholding miner: {f.withholder}; {f.publications} publication(s) of "
        f"{f.published_blocks} withheld block(s)"
        + (f", {f.refused} refused by a node" if f.refused else "")
        + "."
        if f.withholder is not None
        else "Every miner honest."
    )
    out += [who, ""]
    if f.no_forks:
        return [
            *out,
            f"No forks: all {f.main_chain_blocks} mined block(s) are on the main chain, "
            "and no node reorganised.",
            "",
        ]
    out += [
        f"Relative revenue: each miner's share of the {f.main_chain_blocks} main-chain "
        "block(s) mined in the run, against its share of the hashrate.",
        "",
        *md_table(
            [
                "miner",
                "hashrate",
                "mined",
                "on chain",
                "revenue",
                "orphaned (public)",
                "never published",
            ],
            [
                [
                    m.miner,
                    pct(m.hashrate_share) if m.hashrate_share is not None else "not a miner",
                    str(m.mined),
                    str(m.on_chain),
                    pct(m.revenue) if m.revenue is not None else "",
                    str(m.orphaned_published),
                    str(m.never_published),
                ]
                for m in f.miners
            ],
        ),
        "",
        "Reorganisations each node logged (depth: blocks replaced):",
        "",
        *md_table(
            ["node", "reorgs", "deepest", "by depth"],
            [
                [
                    r.node,
                    str(r.count),
                    str(r.max_depth),
                    ", ".join(f"{d}: {n}" for d, n in r.depths),
                ]
                for r in f.reorgs
            ],
        ),
        "",
        f"Transactions confirmed in an orphaned public block: {f.orphaned_txs}; re-mined on "
        f"the main chain: {f.re_mined}; in no main-chain block at the end: {len(f.lost)}.",
        "",
    ]
    return out


def _faults_md(f: FaultSection) -> list[str]:
    out = ["## Faults", ""]
    if not f.recorded and not f.orphans:
        return [*out, f"{FAULTS_FILE} {NOT_RECORDED}.", ""]
    if not f.timeline and not f.orphans:
        return [*out, "None.", ""]
    if f.by_kind:
        out += [
            *md_table(
                ["kind", "count", "about"],
                [[k.kind, str(k.count), ", ".join(k.subjects)] for k in f.by_kind],
            ),
            "",
            "Timeline (simulated seconds):",
            "",
            *md_table(
                ["sim time", "kind", "about", "noticed by", "detail"],
                [
                    [f"{x.sim_time:.3f}", x.kind, x.subject, x.agent, md_cell(x.detail)]
                    for x in f.timeline[:FAULTS_SHOWN]
                ],
            ),
            "",
        ]
        if len(f.timeline) > FAULTS_SHOWN:
            out += [f"... and {len(f.timeline) - FAULTS_SHOWN} more in summary.json.", ""]
    for node in f.orphans:
        heights = ", ".join(map(str, node.heights))
        out += [
            f"Node {node.agent_id}: {node.blocks} block(s) on side chains (tops at {heights}).",
            "",
        ]
    return out


def _pace(r: RunInfo) -> str:
    if r.engine == "shadow":
        return "Shadow's"
    return "full" if r.speed is None else f"at most {r.speed:g}x"


def _timing_md(t: TimingSection, r: RunInfo) -> list[str]:
    out = ["## Wall time", ""]
    if r.engine == "shadow":
        out.append(
            "Simulated time is Shadow's: work takes none, messages and waits take what "
            "the simulated network gives them. The waits and RPC times below are "
            "therefore simulated seconds; the phases are this machine's wall time."
        )
    else:
        out.append(
            "Simulated time is exact: actions take none, and the conductor moves time "
            "only when every agent waits. These figures are how fast this machine ran it."
        )
    out.append("")
    if t.phases is None:
        out += ["timing.json not recorded.", ""]
    else:
        pace = "" if t.pace is None else f"; pace {t.pace:.1f} simulated s per wall s"
        cap = "" if t.speed_cap is None else f" (capped at {t.speed_cap:g}x)"
        out += [
            ", ".join(f"{name} {secs(v)}" for name, v in t.phases.items())
            + f"{pace}{cap}; time advanced {t.advances} times.",
            "",
        ]
    out += [
        f"Waits in block actions: winner's node receiving the tip {secs(t.tip_wait_wall)}, "
        f"settling (transfers into the winner's pool) {secs(t.settle_wall)}, "
        f"mining {secs(t.mining_wall)}; settling hit its bound {t.settle_bound_hits} time(s).",
        "",
    ]
    if t.agents:
        out += [
            *md_table(
                ["agent", "actions", "busy (wall)", "longest action"],
                [
                    [a.agent_id, str(a.actions), secs(a.busy_wall), secs(a.longest_action)]
                    for a in t.agents
                ],
            ),
            "",
        ]
    if t.rpc:
        out += [
            "RPC calls by method (every process):",
            "",
            *md_table(
                ["method", "calls", "errors", "wall", "mean"],
                [
                    [r.method, str(r.calls), str(r.errors), secs(r.wall), f"{r.mean_ms:.1f} ms"]
                    for r in t.rpc
                ],
            ),
            "",
        ]
    return out


def _wallets_md(w: WalletSection) -> list[str]:
    out = ["## Rewards and wallet balances", ""]
    out.append(
        "Expected balance = rewards of the blocks won - amounts and fees sent "
        "+ amounts of confirmed transfers received; balance = total at the end, "
        "locked included (XMR)."
    )
    if not w.transfers_recorded:
        out.append(f"{TRANSFERS_FILE} {NOT_RECORDED}: expected balances are rewards only.")
    if not w.final_state_recorded:
        out.append(f"{FINAL_STATE_FILE} {NOT_RECORDED}: balances cannot be checked.")
    out += [
        "",
        *md_table(
            [
                "wallet",
                "miner",
                "blocks won",
                "rewards",
                "sent",
                "fees",
                "received",
                "expected",
                "balance",
                "difference",
                "check",
            ],
            [
                [
                    c.agent_id,
                    "yes" if c.is_miner else "",
                    str(c.blocks_won),
                    format_xmr(c.rewards),
                    format_xmr(c.sent),
                    format_xmr(c.fees),
                    format_xmr(c.received),
                    format_xmr(c.expected),
                    opt(c.balance, format_xmr),
                    opt(c.difference, lambda d: format_xmr(d, signed=True)),
                    c.status + (f" ({c.note})" if c.note else ""),
                ]
                for c in w.wallets
            ],
        ),
        "",
    ]
    if w.count("mismatch"):
        out += [
            "A mismatch can come from a block later orphaned by a reorganisation, a wallet "
            "that had not refreshed to the final height, or a confirmation that was not "
            "recorded.",
            "",
        ]
    if w.payout_mismatches:
        out += [
            "Blocks paid to an address other than the winner's registered one:",
            "",
            *md_table(
                ["height", "winner", "paid to", "registered"],
                [
                    [str(p.height), p.winner, p.paid_to, p.registered or "none"]
                    for p in w.payout_mismatches
                ],
            ),
            "",
        ]
    return out


def _transfers_md(t: TransferSection | None) -> list[str]:
    out = ["## Transfers", ""]
    if t is None:
        return [*out, f"{TRANSFERS_FILE} {NOT_RECORDED}.", ""]
    rows = [["all", *_count_cells(t.totals)]]
    rows += [[k.kind, *_count_cells(k.counts)] for k in t.by_kind]
    out += [
        *md_table(["kind", "records", "sent", "confirmed", "pending", "failed"], rows),
        "",
        f"{t.retried} transfer(s) needed more than one attempt.",
        "",
    ]
    if t.failed_by_cause:
        out += [
            "Failed, by cause:",
            "",
            *md_table(
                ["cause", "count", "example error"],
                [[c.cause, str(c.count), md_cell(c.example or "")] for c in t.failed_by_cause],
            ),
            "",
        ]
    conf = t.confirmation
    if conf.measured == 0:
        return [*out, "No confirmation delay to measure.", ""]
    out += [
        f"Confirmation delay (confirmed height - sent height) of {conf.measured} "
        "confirmed transfer(s): "
        f"mean {conf.mean_blocks:.2f}, median {conf.median_blocks:g}, max {conf.max_blocks} "
        f"blocks; in simulated time mean {secs(conf.mean_seconds)}, "
        f"median {secs(conf.median_seconds)}.",
        "",
        *md_table(
            ["within", "confirmed", "share"],
            [[f"{w.blocks} block(s)", str(w.count), pct(w.share)] for w in conf.within],
        ),
        "",
        "Delay histogram: " + ", ".join(f"{d.blocks}: {d.count}" for d in conf.histogram),
        "",
    ]
    return out


def _records_on_chain_md(r: RecordsOnChain | None) -> list[str]:
    if r is None:
        return []
    problems = [
        f"at {len(r.off_chain)} height(s) the chain holds an unrecorded block "
        f"({', '.join(map(str, r.off_chain[:10]))})"
        if r.off_chain
        else "every height's main-chain block recorded",
        f"{r.orphaned} orphaned (see Forks)" if r.orphaned else "none orphaned",
        f"{len(r.timestamp_mismatches)} with another timestamp on chain"
        if r.timestamp_mismatches
        else "every on-chain timestamp equal to the record's",
    ]
    out = [
        f"Records against the main chain of {r.source} (tip {r.chain_tip}, highest record "
        f"{r.highest_record}): {r.checked} block(s) checked, {'; '.join(problems)}.",
        "",
    ]
    if r.unrecorded:
        out += [
            f"Main-chain heights without a record: {', '.join(map(str, r.unrecorded[:20]))}.",
            "",
        ]
    return out


def _chain_md(
    c: ChainSection | None,
    r: RecordsOnChain | None,
    s: SyncSection | None,
    m: MonitorSection | None,
) -> list[str]:
    out = ["## Chain heights per node", "", *_records_on_chain_md(r)]
    if c is None:
        out += [f"{FINAL_STATE_FILE} {NOT_RECORDED}.", ""]
    else:
        out += [
            f"{c.in_sync} of {len(c.nodes)} nodes on the majority tip "
            f"(height {opt(c.majority_height)}, hash `{short(c.majority_hash)}`).",
            "",
            *md_table(
                ["node", "height", "top hash", "in sync"],
                [
                    [
                        n.agent_id,
                        opt(n.height),
                        f"`{short(n.top_hash)}`" if n.top_hash else "",
                        {True: "yes", False: "**no**", None: f"unreadable: {n.error}"}[n.in_sync],
                    ]
                    for n in c.nodes
                ],
            ),
            "",
        ]
    out += ["Sync divergence events: "]
    if s is None:
        out[-1] += f"{SYNC_EVENTS_FILE} {NOT_RECORDED}."
    elif not s.events:
        out[-1] += "none."
    else:
        out[-1] += (
            f"{len(s.events)}, {s.unresolved} still open at the end; "
            f"{secs(s.diverged_seconds)} diverged in total (resolved events)."
        )
        out += [
            "",
            *md_table(
                ["start", "end", "duration", "heights", "detail"],
                [
                    [
                        secs(e.start_sim_time),
                        secs(e.end_sim_time) if e.end_sim_time is not None else "open",
                        secs(e.duration),
                        ", ".join(f"{h.agent_id} {h.height}" for h in e.heights),
                        md_cell(e.detail),
                    ]
                    for e in s.events
                ],
            ),
        ]
    out += ["", "Monitor samples: "]
    if m is None:
        out[-1] += f"{NODE_STATUS_FILE} {NOT_RECORDED}."
    elif m.samples == 0:
        out[-1] += "none."
    else:
        out[-1] += (
            f"{m.samples} from {secs(m.first_sim_time)} to {secs(m.last_sim_time)}; "
            f"largest height spread {opt(m.max_spread)} block(s) "
            f"(at {secs(m.max_spread_sim_time)}); {m.unreachable_readings} unreadable "
            "node reading(s)."
        )
    return [*out, ""]


def _propagation_md(p: PropagationSection | None) -> list[str]:
    if p is None:
        return []
    out = [
        "## Block propagation",
        "",
        f"Simulated delay between the winner's node adding a block and each other node "
        f"adding it, over {p.blocks} mined block(s) (from the nodes' logs).",
        "",
    ]
    rows = [("every node", p.delays), ("reached all nodes", p.reached_all)]
    out += md_table(
        ["delay", "count", "mean", "median", "90th percentile", "max"],
        [
            [name, str(s.count), millis(s.mean), millis(s.median), millis(s.p90), millis(s.max)]
            for name, s in rows
            if s is not None
        ],
    )
    if p.incomplete:
        out += ["", f"Blocks some node never added: heights {', '.join(map(str, p.incomplete))}."]
    if p.nodes:
        out += [
            "",
            *md_table(
                ["node", "blocks received", "mean delay", "max delay"],
                [[n.node, str(n.blocks), millis(n.mean), millis(n.max)] for n in p.nodes],
            ),
        ]
    return [*out, ""]


def _plots_md(p: PlotOutcome | None) -> list[str]:
    if p is None:
        return []
    out = ["## Plots", ""]
    if p.unavailable is not None:
        return [*out, f"Plots skipped: {p.unavailable}.", ""]
    for name in p.files:
        out += [f"![{_PLOT_TITLES.get(name, name)}]({name})", ""]
    out += [f"- not drawn: {why}" for why in p.skipped]
    return [*out, ""]


def _count_cells(c: TransferCounts) -> list[str]:
    return [str(c.records), str(c.sent), str(c.confirmed), str(c.pending), str(c.failed)]


def _chi(statistic: float, dof: int, p: float) -> str:
    return f"statistic {statistic:.4g}, dof {dof}, p-value {p:.4g}"
