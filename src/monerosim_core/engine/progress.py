"""Live progress of a local run: a redrawn status line on a terminal, log lines otherwise.

Shows simulated time against ``stop_time``, the achieved pace (simulated seconds per
wall second), chain height, blocks per miner since the bootstrap, transfers sent /
confirmed / failed so far, and which agents simulated time is waiting for when one
takes long. The journals are followed incrementally: an update reads only new lines.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import attrs

from monerosim_core.planning.plan import Plan
from monerosim_core.records.layout import JournalFollower, RunDir
from monerosim_core.records.schema import BlockRecord, ConfirmationRecord, TransferRecord

LINE_EVERY = 15.0  # wall seconds between plain progress lines
SLOW_ACTION = 2.0  # wall seconds after which the agents being waited for are named


def _hms(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@attrs.define
class _Tally:
    blocks: JournalFollower[BlockRecord]
    transfers: JournalFollower[TransferRecord]
    confirmations: JournalFollower[ConfirmationRecord]
    height: int = 0
    won: Counter[str] = attrs.field(factory=Counter)
    sent: int = 0
    failed: int = 0
    confirmed: set[str] = attrs.field(factory=set)

    def catch_up(self) -> None:
        for b in self.blocks.read_new():
            self.height = b.height
            if not b.bootstrap:
                self.won[b.winner] += 1
        for t in self.transfers.read_new():
            self.sent += t.sent
            self.failed += not t.sent
        self.confirmed.update(c.tx_hash for c in self.confirmations.read_new())


@attrs.define
class Progress:
    live: bool
    period: float  # wall seconds between updates
    stop_time: float = 0.0
    miners: list[str] = attrs.field(factory=list)
    tally: _Tally | None = None
    last_line: float = 0.0
    busy_since: float | None = None

    @classmethod
    def choose(cls, mode: str) -> Progress:
        live = mode == "live" or (mode == "auto" and sys.stderr.isatty())
        return cls(live=live, period=0.5 if live else 1.0)

    def begin(self, run: RunDir, plan: Plan) -> None:
        self.stop_time = plan.scenario.general.stop_time
        self.miners = [m.agent_id for m in plan.registry().miners]
        self.tally = _Tally(run.blocks.follow(), run.transfers.follow(), run.confirmations.follow())

    def status(self, sim_now: float, pace: float | None, waiting_for: list[str]) -> str:
        assert self.tally is not None, "begin() first"
        self.tally.catch_up()
        t = self.tally
        per_miner = " ".join(f"{m.removeprefix('miner-')}:{t.won[m]}" for m in self.miners)
        line = f"sim {_hms(min(sim_now, self.stop_time))}/{_hms(self.stop_time)} "
        if pace:
            line += f"pace {pace:.0f}x "
        line += (
            f"height {t.height} blocks {sum(t.won.values())} [{per_miner}] "
            f"tx sent {t.sent} confirmed {len(t.confirmed)} failed {t.failed}"
        )
        if waiting_for:
            self.busy_since = self.busy_since or time.monotonic()
            if time.monotonic() - self.busy_since > SLOW_ACTION:
                line += f" | waiting for {', '.join(waiting_for)}"
        else:
            self.busy_since = None
        return line

    def update(self, sim_now: float, pace: float | None, waiting_for: list[str]) -> None:
        if self.live:
            sys.stderr.write("\r\x1b[2K" + self.status(sim_now, pace, waiting_for))
            sys.stderr.flush()
        elif time.monotonic() - self.last_line >= LINE_EVERY:
            self.last_line = time.monotonic()
            line = self.status(sim_now, pace, waiting_for)
            print("progress: " + line, file=sys.stderr, flush=True)

    def end(self, sim_now: float, pace: float | None) -> None:
        if self.live:
            sys.stderr.write("\n")
        if self.tally is not None:
            print("final:    " + self.status(sim_now, pace, []), file=sys.stderr, flush=True)
