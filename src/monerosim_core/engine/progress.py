"""Live progress of a local run: a redrawn status line on a terminal, log lines otherwise.

Shows simulated time against ``stop_time``, chain height, blocks per miner since
the bootstrap, and transfers sent / failed so far (read from the record files).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import attrs

from monerosim_core.planning.plan import Plan
from monerosim_core.records.layout import RunDir, RunInfo

LINE_EVERY = 15.0  # wall seconds between plain progress lines


def _hms(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@attrs.define
class Progress:
    live: bool
    period: float  # wall seconds between updates
    run: RunDir | None = None
    info: RunInfo | None = None
    miners: list[str] = attrs.field(factory=list)
    last_line: float = 0.0

    @classmethod
    def choose(cls, mode: str) -> Progress:
        live = mode == "live" or (mode == "auto" and sys.stderr.isatty())
        return cls(live=live, period=0.5 if live else 1.0)

    def begin(self, run: RunDir, plan: Plan, info: RunInfo) -> None:
        self.run, self.info = run, info
        self.miners = [m.agent_id for m in plan.registry().miners]

    def status(self, sim_now: float) -> str:
        assert self.run is not None and self.info is not None
        blocks = self.run.blocks.read().records
        height = blocks[-1].height if blocks else 0
        won = Counter(b.winner for b in blocks if not b.bootstrap)
        txs = self.run.transfers.read().records
        sent = sum(1 for t in txs if t.sent)
        confirmed = len({c.tx_hash for c in self.run.confirmations})
        per_miner = " ".join(f"{m.removeprefix('miner-')}:{won[m]}" for m in self.miners)
        return (
            f"sim {_hms(min(sim_now, self.info.stop_time))}/{_hms(self.info.stop_time)} "
            f"height {height} blocks {sum(won.values())} [{per_miner}] "
            f"tx sent {sent} confirmed {confirmed} failed {len(txs) - sent}"
        )

    def update(self, sim_now: float) -> None:
        if self.live:
            sys.stderr.write("\r\x1b[2K" + self.status(sim_now))
            sys.stderr.flush()
        elif time.monotonic() - self.last_line >= LINE_EVERY:
            self.last_line = time.monotonic()
            print("progress: " + self.status(sim_now), file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.live:
            sys.stderr.write("\n")
        if self.info is not None:
            print("final:    " + self.status(self.info.stop_time), file=sys.stderr, flush=True)
