"""The last look at a run's network, once its agents have stopped.

In order: wait (bounded) for the nodes to agree on a tip; record every sent
transfer now in a block; wait (bounded) until every node's pool holds every
transfer still unconfirmed; then read every node's tip and every wallet's balance
into ``final_state.json``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from monerosim_core.agents.reconcile import reconcile_blocks
from monerosim_core.agents.transfers import find_confirmations
from monerosim_core.engine.convergence import ConvergenceTimeout, wait_synced
from monerosim_core.engine.reorgs import reorgs_in_log
from monerosim_core.records.layout import RunDir
from monerosim_core.records.schema import (
    BlockRecord,
    ChainBlock,
    FinalState,
    NodeReading,
    SideChain,
    WalletReading,
)
from monerosim_core.rpc import DaemonClient, RpcError, WalletClient
from monerosim_core.timeouts import timeouts

log = logging.getLogger("monerosim.engine")


class WalletProcess(Protocol):
    """A wallet-rpc as the final state reads it (the local engine's managed
    processes; under Shadow, a wallet reached over the simulated network)."""

    @property
    def alive(self) -> bool: ...

    @property
    def exit_code(self) -> int | None: ...

    def wallet_client(self) -> WalletClient: ...


def record_final_state(
    run: RunDir,
    daemons: Mapping[str, DaemonClient],
    wallets: Mapping[str, WalletProcess],
    node_logs: Mapping[str, Path],
) -> list[BlockRecord]:
    """Write ``final_state.json`` for the nodes ``daemons`` (their monerod logs
    ``node_logs``) and the wallet-rpc processes ``wallets``, all keyed by agent id;
    the block records it had to rebuild (blocks on the chain whose record was lost,
    see agents.reconcile)."""
    try:
        wait_synced(daemons, timeout=timeouts().sync)
    except ConvergenceTimeout as exc:
        print(f"monerosim: warning: {exc}", file=sys.stderr)
    rebuilt = _reconcile(run, daemons)
    unconfirmed = _confirm_remaining(run, daemons)
    _wait_for_pools(daemons, unconfirmed)
    nodes: dict[str, NodeReading] = {}
    for agent_id, client in daemons.items():
        try:
            tip = client.get_tip()
            nodes[agent_id] = NodeReading(height=tip.height, top_hash=tip.hash)
        except RpcError as exc:
            nodes[agent_id] = NodeReading(error=str(exc))
    source, chain = _main_chain(daemons, nodes)
    balances: dict[str, WalletReading] = {}
    for agent_id, proc in wallets.items():
        if not proc.alive:
            balances[agent_id] = WalletReading(error=f"wallet-rpc exited ({proc.exit_code})")
            continue
        try:
            with proc.wallet_client() as wallet:
                balance = wallet.get_balance(refresh=True)
            balances[agent_id] = WalletReading(
                balance=balance.balance, unlocked=balance.unlocked_balance
            )
        except RpcError as exc:
            balances[agent_id] = WalletReading(error=str(exc))
    run.write_final_state(
        FinalState(
            nodes=nodes,
            wallets=balances,
            chain=chain,
            chain_source=source,
            side_chains=_side_chains(daemons),
            reorgs={agent_id: reorgs_in_log(path) for agent_id, path in node_logs.items()},
        )
    )
    return rebuilt


def _reconcile(run: RunDir, daemons: Mapping[str, DaemonClient]) -> list[BlockRecord]:
    for agent_id, node in daemons.items():
        try:
            return reconcile_blocks(run, node)
        except RpcError as exc:
            log.warning("reconciling the records via %s failed: %s", agent_id, exc)
    return []


def _side_chains(daemons: Mapping[str, DaemonClient]) -> dict[str, tuple[SideChain, ...]]:
    """Each node's side chains (orphaned blocks); nodes that cannot say are left out."""
    found: dict[str, tuple[SideChain, ...]] = {}
    for agent_id, node in daemons.items():
        try:
            chains = node.get_alternate_chains()
        except RpcError:
            continue
        found[agent_id] = tuple(SideChain(c.block_hash, c.height, c.length) for c in chains)
    return found


def _main_chain(
    daemons: Mapping[str, DaemonClient], nodes: Mapping[str, NodeReading]
) -> tuple[str | None, dict[str, ChainBlock]]:
    """Every main-chain block after genesis (hash, timestamp) as the node with the
    highest tip reports it, so the report can check the records against the chain."""
    readable = [(r.height, a) for a, r in nodes.items() if r.height is not None]
    if not readable:
        return None, {}
    top, source = max(readable)
    chain: dict[str, ChainBlock] = {}
    try:
        for header in daemons[source].main_chain_headers(1, top):
            chain[str(header.height)] = ChainBlock(header.hash, header.timestamp)
    except RpcError as exc:
        log.warning("cannot read the main chain from %s: %s", source, exc)
        return None, {}
    return source, chain


def _confirm_remaining(run: RunDir, daemons: Mapping[str, DaemonClient]) -> set[str]:
    """Record the confirmations the agents did not see; the hashes still unconfirmed.

    The nodes are asked in turn until one answers: a dead node must not cost the
    final state.
    """
    sent = {t.tx_hash for t in run.transfers if t.sent and t.tx_hash is not None}
    unconfirmed = sent - {c.tx_hash for c in run.confirmations}
    if not unconfirmed:
        return unconfirmed
    for agent_id, node in daemons.items():
        try:
            found = find_confirmations(node, unconfirmed)
        except RpcError as exc:
            log.warning("confirmations via %s failed: %s", agent_id, exc)
            continue
        for confirmation in found:
            run.confirmations.append(confirmation)
            unconfirmed.discard(confirmation.tx_hash)
        break
    return unconfirmed


def _wait_for_pools(daemons: Mapping[str, DaemonClient], in_flight: set[str]) -> None:
    """Wait until every node's pool holds every transfer still unconfirmed.

    A wallet's balance counts incoming pool transfers, and a transfer reaches
    the other nodes 0.25-3.6 s after it is relayed (Dandelion++ stem), so
    balances read sooner would miss the last transfers of the run.
    """
    limit = timeouts().pool_settle
    deadline = time.monotonic() + limit
    missing: dict[str, int] = {}
    while in_flight:
        missing = {}
        for agent_id, client in daemons.items():
            try:
                missing[agent_id] = len(in_flight - set(client.get_transaction_pool_hashes()))
            except RpcError:
                continue  # an unreachable node has no pool to wait for
        if not any(missing.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    late = {a: n for a, n in missing.items() if n}
    if late:
        print(
            f"monerosim: warning: {len(in_flight)} unconfirmed transfers not in every pool "
            f"after {limit:g} s (missing per node: {late}); balances may lag",
            file=sys.stderr,
        )
