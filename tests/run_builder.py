"""Synthetic run directories whose right answers are known: what the report and
the campaign tests read, built the way the rest of monerosim writes them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from monerosim_core.records.layout import (
    BLOCKS_FILE,
    CONFIRMATIONS_FILE,
    FINAL_STATE_FILE,
    NODE_STATUS_FILE,
    PUBLICATIONS_FILE,
    SYNC_EVENTS_FILE,
    TRANSFERS_FILE,
)
from monerosim_core.records.registry import Agent, Registry, build_miners, write_registry

XMR = 10**12
REWARD = 600_000_000_000  # 0.6 XMR
MINERS = {"m1": 50.0, "m2": 30.0, "m3": 20.0}
USERS = ("u1", "u2")


def make_run(
    tmp_path: Path,
    blocks: Sequence[Mapping[str, Any]] | str,
    *,
    transactions: Sequence[Mapping[str, Any]] | None = None,
    node_status: Sequence[Mapping[str, Any]] | None = None,
    sync_events: Sequence[Mapping[str, Any]] | None = None,
    final_state: Mapping[str, Any] | None = None,
    end_reason: str | None = "completed",
    block_times: str = "fixed",
    stop_time: float | None = None,
    ended_at: float | None = None,
    seed: int = 7,
    name: str = "run",
    withholder: str | None = None,
    publications: Sequence[Mapping[str, Any]] | None = None,
) -> Path:
    """A run directory (``tmp_path / name``) as the rest of monerosim leaves it;
    ``None`` leaves a file out.

    ``stop_time`` defaults to just after the last block (as a run that went to its end);
    ``ended_at`` is the simulated time an interrupted run ended (default: ``stop_time``).
    """
    run_dir = tmp_path / name
    shared = run_dir / "shared"
    shared.mkdir(parents=True)
    agents = [_agent(i, name, hashrate) for i, (name, hashrate) in enumerate(MINERS.items())]
    agents = [
        attrs.evolve(a, private_daemon_rpc_port=29000) if a.id == withholder else a for a in agents
    ]
    agents += [_agent(len(agents) + i, name, 0.0) for i, name in enumerate(USERS)]
    write_registry(shared, Registry(agents=tuple(agents), miners=build_miners(agents, 2.0)))
    if stop_time is None:
        times = [] if isinstance(blocks, str) else [b["sim_time"] for b in blocks]
        stop_time = max([0.0, *times]) + 60.0
    run = {
        "config": "configs/test.yaml",
        "seed": seed,
        "engine": "local",
        "started_wall": 1_700_000_000.0,
        "ended_wall": 1_700_000_400.0 if end_reason else None,
        "stop_time": stop_time,
        "sim_elapsed": (stop_time if ended_at is None else ended_at) if end_reason else None,
        "end_reason": end_reason,
        "block_interval": 120.0,
        "block_times": block_times,
        "tx_propagation": 5.0,
        "solo_miner_threshold": 2.0,
    }
    (run_dir / "run.json").write_text(json.dumps(run))
    confirmations = None
    if transactions is not None:
        confirmations = [
            {"tx_hash": t["tx_hash"], "height": t["confirmed_height"], "wall_time": 1.7e9}
            for t in transactions
            if t.get("confirmed_height") is not None
        ]
        transactions = [
            {k: v for k, v in t.items() if k != "confirmed_height"} for t in transactions
        ]
    journals = {
        BLOCKS_FILE: blocks,
        TRANSFERS_FILE: transactions,
        CONFIRMATIONS_FILE: confirmations,
        NODE_STATUS_FILE: node_status,
        SYNC_EVENTS_FILE: sync_events,
        PUBLICATIONS_FILE: publications,
    }
    for name, content in journals.items():
        if content is not None:
            text = (
                content
                if isinstance(content, str)
                else "".join(json.dumps(record) + "\n" for record in content)
            )
            (shared / name).write_text(text)
    if final_state is not None:
        (shared / FINAL_STATE_FILE).write_text(json.dumps(final_state))
    return run_dir


def _agent(index: int, name: str, hashrate: float) -> Agent:
    return Agent(
        id=name,
        ip_addr="127.0.0.1",
        daemon_rpc_port=28000 + 2 * index,
        wallet_rpc_port=28001 + 2 * index,
        wallet_address=f"addr-{name}",
        is_miner=hashrate > 0,
        hashrate=hashrate,
        user_script=None,
    )


def block(
    height: int,
    winner: str,
    *,
    sim_time: float | None = None,
    bootstrap: bool = False,
    reward: int = REWARD,
    reselected_from: Sequence[str] = (),
    wallet_address: str | None = None,
) -> dict[str, Any]:
    return {
        "height": height,
        "hash": f"{height:064x}",
        "winner": winner,
        "wallet_address": wallet_address or f"addr-{winner}",
        "reward": reward,
        "sim_time": 120.0 * height if sim_time is None else sim_time,
        "wall_time": 1_700_000_000.0 + height,
        "bootstrap": bootstrap,
        "reselected_from": list(reselected_from),
        "node": "127.0.0.1:28000",
    }


def mined(wins: Mapping[str, int], first_height: int = 1) -> list[dict[str, Any]]:
    """Non-bootstrap blocks with the given number of wins per miner, interleaved."""
    left = dict(wins)
    queue: list[str] = []
    while any(left.values()):  # round robin, so no miner's blocks come in one run
        for name in left:
            if left[name]:
                queue.append(name)
                left[name] -= 1
    return [
        block(first_height + i, winner, sim_time=120.0 * (i + 1)) for i, winner in enumerate(queue)
    ]


def tx(
    sender: str,
    recipient: str,
    amount: int,
    *,
    kind: str = "user",
    fee: int | None = 1_000_000,
    outcome: str = "sent",
    cause: str | None = None,
    sent_height: int | None = 10,
    confirmed_height: int | None = None,
    attempts: int = 1,
    sim_time: float = 1000.0,
) -> dict[str, Any]:
    sent = outcome == "sent"
    _tx_counter[0] += 1
    return {
        "agent": "distributor" if kind == "distribution" else sender,
        "kind": kind,
        "tx_hash": f"{_tx_counter[0]:064x}" if sent else None,
        "sender": sender,
        "recipient": recipient,
        "amount": amount,
        "fee": fee if sent else None,
        "priority": 1,
        "attempts": attempts,
        "outcome": outcome,
        "cause": cause,
        "error": None if sent else f"wallet said: {cause}",
        "sim_time": sim_time,
        "wall_time": 1_700_000_100.0,
        "sent_height": sent_height if sent else None,
        "confirmed_height": confirmed_height,  # make_run turns it into a confirmation
    }


_tx_counter = [0]


def wallets(balances: Mapping[str, int], **errors: str) -> dict[str, Any]:
    doc: dict[str, Any] = {a: {"balance": b, "unlocked": b} for a, b in balances.items()}
    doc.update({a: {"error": e} for a, e in errors.items()})
    return doc


def nodes(tips: Mapping[str, tuple[int, str]], **errors: str) -> dict[str, Any]:
    doc: dict[str, Any] = {a: {"height": h, "top_hash": t} for a, (h, t) in tips.items()}
    doc.update({a: {"error": e} for a, e in errors.items()})
    return doc
