"""What a run directory recorded, as typed values.

The report reads raw JSON exactly once, in :mod:`monerosim_core.report.load`, into
these classes; the analysis never touches a dict from a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from monerosim_core.registry import Registry
from monerosim_core.rundir import RunInfo


@attrs.frozen
class Block:
    """One block the controller had a miner produce (``blocks_found.json``)."""

    height: int
    hash: str | None
    winner: str
    wallet_address: str | None
    reward: int  # atomic units
    sim_time: float
    bootstrap: bool
    reselected_from: tuple[str, ...]  # miners chosen first whose daemon failed
    node: str | None


@attrs.frozen
class Transfer:
    """One transfer attempt, successful or not (``transactions.json``)."""

    agent: str
    kind: str  # "distribution" | "user"
    tx_hash: str | None
    sender: str
    recipient: str
    amount: int  # atomic units
    fee: int | None
    attempts: int
    outcome: str  # "sent" | "failed"
    cause: str | None
    error: str | None
    sim_time: float
    sent_height: int | None
    confirmed_height: int | None
    confirmed_sim_time: float | None

    @property
    def sent(self) -> bool:
        return self.outcome == "sent"

    @property
    def confirmed(self) -> bool:
        return self.sent and self.confirmed_height is not None


@attrs.frozen
class NodeReading:
    """One node as a monitor sample or the final state saw it; ``error`` when unreachable."""

    height: int | None
    top_hash: str | None
    error: str | None


@attrs.frozen
class WalletReading:
    """One wallet's balances (atomic units; ``balance`` includes locked outputs)."""

    balance: int | None
    unlocked: int | None
    error: str | None


@attrs.frozen
class StatusSample:
    """One monitor sample (``node_status.json``)."""

    sim_time: float
    nodes: Mapping[str, NodeReading] = attrs.field(hash=False)


@attrs.frozen
class SyncEvent:
    """A period during which the nodes disagreed (``sync_events.json``)."""

    start_sim_time: float
    end_sim_time: float | None  # None: still diverged when the run ended
    heights: Mapping[str, int] = attrs.field(hash=False)
    detail: str = ""


@attrs.frozen
class FinalState:
    """``final_state.json``: every node and wallet as the run left them."""

    nodes: Mapping[str, NodeReading] = attrs.field(hash=False)
    wallets: Mapping[str, WalletReading] = attrs.field(hash=False)


@attrs.frozen
class RunData:
    """Everything a run directory holds. ``None`` marks an optional file that is absent."""

    run_dir: Path
    run: RunInfo
    registry: Registry
    blocks: tuple[Block, ...]
    transfers: tuple[Transfer, ...] | None
    status: tuple[StatusSample, ...] | None
    sync_events: tuple[SyncEvent, ...] | None
    final_state: FinalState | None
