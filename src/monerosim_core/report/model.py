"""The report as one value: every section, and the findings, of one run."""

from __future__ import annotations

from pathlib import Path

import attrs

from monerosim_core.records.layout import RunInfo
from monerosim_core.report.blocks import BlockSection
from monerosim_core.report.chain import (
    ChainSection,
    MonitorSection,
    RecordsOnChain,
    SyncSection,
)
from monerosim_core.report.faults import FaultSection
from monerosim_core.report.forks import ForksSection
from monerosim_core.report.intervals import IntervalSection
from monerosim_core.report.plots import PlotOutcome
from monerosim_core.report.propagation import PropagationSection
from monerosim_core.report.timing import TimingSection
from monerosim_core.report.transfers import TransferSection
from monerosim_core.report.wallets import WalletSection


@attrs.frozen
class Report:
    """What a run did, checked against its configuration.

    A section is ``None`` when the file it comes from was not recorded. ``findings``
    lists, in plain words, everything a researcher should look at before trusting
    the run. ``output_dir`` and ``plots`` are set once the report is written.
    """

    run_dir: Path
    run: RunInfo
    findings: tuple[str, ...]
    blocks: BlockSection
    intervals: IntervalSection
    wallets: WalletSection
    transfers: TransferSection | None
    chain: ChainSection | None
    records_on_chain: RecordsOnChain | None
    sync: SyncSection | None
    monitor: MonitorSection | None
    timing: TimingSection
    faults: FaultSection
    forks: ForksSection | None = None  # None: no main chain recorded to judge by
    output_dir: Path | None = None
    plots: PlotOutcome | None = None
    propagation: PropagationSection | None = None
