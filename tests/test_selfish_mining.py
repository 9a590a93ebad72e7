"""Selfish mining on real, unmodified daemons: the records follow what the chain did.

One miner withholds blocks (the ``selfish`` behaviour, 40 % of the hashrate, gamma
0.5) beside two honest miners and a user who transacts. The daemons' own fork
choice decides the chain; the test predicts that chain independently from the
records (every block public at mining time or at its publication, the longest
chain wins, the first seen wins a tie) and checks the nodes ended there, that
every orphan is accounted for and that the wallets hold exactly the rewards of
the main chain's blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_helpers import finish, records, start_run

from monerosim_core.records.layout import BLOCKS_FILE, PUBLICATIONS_FILE, RunDir
from monerosim_core.report import build_report

pytestmark = [pytest.mark.daemon, pytest.mark.usefixtures("monero_binaries")]

SELFISH = """\
general: {stop_time: "30m", seed: 5, bootstrap_blocks: 100}
network: {gamma: 0.5}
agents:
  user_agents:
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes: {hashrate: "40", mining_behaviour: selfish}
    - {daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {hashrate: "35"}}
    - {daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {hashrate: "25"}}
    - daemon: monerod
      wallet: monero-wallet-rpc
      user_script: agents.regular_user
      attributes: {transaction_interval: "60", min_transaction_amount: "0.1"}
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 60"]
"""


def first_seen_longest_chain(
    blocks: list[dict[str, Any]], publications: list[dict[str, Any]]
) -> str:
    """The tip every node should end on: blocks become public when mined (honest)
    or published (withheld), in wall-clock order; a longer chain replaces the tip,
    an equal one does not."""
    by_hash = {b["hash"]: b for b in blocks}
    events = [(b["wall_time"], [b["hash"]]) for b in blocks if not b.get("private")]
    events += [(p["wall_time"], p["hashes"]) for p in publications]
    tip: dict[str, Any] | None = None
    for _, hashes in sorted(events, key=lambda e: e[0]):
        for block_hash in hashes:
            block = by_hash[block_hash]
            if tip is None or block["height"] > tip["height"]:
                tip = block
    assert tip is not None
    return str(tip["hash"])


def test_a_selfish_miner_forks_the_chain_and_the_report_accounts_for_it(tmp_path: Path) -> None:
    config = tmp_path / "scenario.yaml"
    config.write_text(SELFISH)
    run_dir = tmp_path / "run"
    code, out = finish(start_run(config, run_dir), timeout=900)
    assert code == 0, out[-4000:]

    blocks = records(run_dir, BLOCKS_FILE)
    publications = records(run_dir, PUBLICATIONS_FILE)
    final = RunDir(run_dir).read_final_state()
    assert final is not None
    chain = {b.hash for b in final.chain.values()}
    tip = max(final.chain.items(), key=lambda item: int(item[0]))[1].hash
    mined = [b for b in blocks if not b["bootstrap"]]
    private = [b for b in mined if b.get("private")]
    assert private and publications, "the selfish miner withheld and published nothing"

    # The daemons chose the chain the records predict, and every node is on it.
    assert tip == first_seen_longest_chain(blocks, publications)
    assert {n.top_hash for n in final.nodes.values()} == {tip}
    # Every main-chain block is recorded, with its parent as recorded.
    recorded = {b["hash"]: b for b in blocks}
    assert chain <= set(recorded)
    for block in mined:
        if block["hash"] in chain and block["height"] > 1:
            assert final.chain[str(block["height"] - 1)].hash == block["parent_hash"]

    report = build_report(run_dir)
    forks = report.forks
    assert forks is not None and forks.withholder == "miner-01" and not forks.no_forks
    assert sum(m.on_chain for m in forks.miners) == len([b for b in mined if b["hash"] in chain])
    assert sum(m.orphaned for m in forks.miners) == len(
        [b for b in mined if b["hash"] not in chain]
    )
    assert forks.public_orphans > 0 and forks.reorgs and max(r.max_depth for r in forks.reorgs) >= 1
    # Every public orphan is on a side chain of every node; nothing beyond them.
    for node in report.faults.orphans:
        assert node.blocks == forks.public_orphans, node
    # Orphaned blocks pay nothing: every wallet holds exactly what the main chain paid.
    assert {w.status for w in report.wallets.wallets} == {"match"}, report.wallets.wallets
    assert report.records_on_chain is not None
    assert (report.records_on_chain.off_chain, report.records_on_chain.unrecorded) == ((), ())
    # Transactions of orphaned blocks went back to the pool and were mined again.
    assert forks.lost == ()
    assert not [f for f in report.findings if "forked in a run without" in f]
