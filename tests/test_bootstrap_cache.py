"""The bootstrap cache: entries checked by their manifest, built atomically, keyed by
everything that shapes the chain; and, on real daemons, a warm run that starts on
the very chain a cold run mined."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import attrs
import pytest
from engine_helpers import finish, records, start_run, write_config

from monerosim_core.engine.bootstrap_cache import BLOCKS_FILE, CHAIN_FILE, BootstrapCache, CacheKey
from monerosim_core.records.layout import BLOCKS_FILE as RUN_BLOCKS
from monerosim_core.records.layout import RunDir

KEY = CacheKey(
    monerod="Monero 'Fluorine Fermi' (v0.18.0.0-unknown)",
    miners=(("miner-01", 60.0), ("miner-02", 40.0)),
    strategy="weighted monerosim-strategy-weighted 0.1.0",
    seed=3,
    blocks=20,
    interval=60.0,
    wallets=(("miner-01", "4abc"), ("miner-02", "4def")),
)


def make_files(directory: Path, chain_bytes: bytes = b"chain" * 1000) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    chain, blocks = directory / "data.mdb", directory / "blocks.jsonl"
    chain.write_bytes(chain_bytes)
    blocks.write_text('{"height": 1}\n')
    return chain, blocks


def test_an_entry_round_trips_and_its_key_covers_what_shapes_the_chain(tmp_path: Path) -> None:
    cache = BootstrapCache(tmp_path / "cache")
    assert cache.lookup(KEY).entry is None
    stored = cache.store(
        KEY, *make_files(tmp_path / "src"), {}, chain_epoch=1_700_000_000, height=20
    )
    found = cache.lookup(KEY).entry
    assert found == stored and found.chain.read_bytes() == b"chain" * 1000
    assert (found.chain_epoch, found.height) == (1_700_000_000, 20)
    for change in (
        {"seed": 4},
        {"blocks": 21},
        {"interval": 120.0},
        {"miners": (("miner-01", 50.0), ("miner-02", 50.0))},
        {"strategy": "weighted monerosim-strategy-weighted 0.2.0"},
        {"monerod": "Monero (v0.18.3.1)"},
    ):
        assert attrs.evolve(KEY, **change).digest != KEY.digest, change
        assert cache.lookup(attrs.evolve(KEY, **change)).entry is None


@pytest.mark.parametrize(
    "damaged", [CHAIN_FILE, BLOCKS_FILE, "wallets/miner-01.keys", "manifest.json"]
)
def test_a_damaged_entry_is_reported_and_dropped(tmp_path: Path, damaged: str) -> None:
    cache = BootstrapCache(tmp_path / "cache")
    keys = tmp_path / "miner-01.keys"
    keys.write_bytes(b"keys" * 100)
    chain, blocks = make_files(tmp_path / "src")
    entry = cache.store(KEY, chain, blocks, {"miner-01": keys}, chain_epoch=1, height=20)
    assert entry.wallet_keys("miner-01") is not None and entry.wallet_keys("miner-02") is None
    path = entry.path / damaged
    path.write_bytes(path.read_bytes()[:-7])  # truncated

    lookup = cache.lookup(KEY)

    assert lookup.entry is None
    assert "damaged" in lookup.miss_reason and KEY.digest in lookup.miss_reason
    assert not entry.path.exists()  # moved aside, to be rebuilt
    rebuilt = cache.store(KEY, *make_files(tmp_path / "src"), {}, chain_epoch=1, height=20)
    assert cache.lookup(KEY).entry == rebuilt


def _store(root: str, source: str, marker: int) -> None:
    chain, blocks = make_files(Path(source) / str(marker), b"chain" * 200_000)
    BootstrapCache(Path(root)).store(KEY, chain, blocks, {}, chain_epoch=marker, height=20)


def test_concurrent_builders_of_one_entry_both_succeed_and_one_entry_remains(
    tmp_path: Path,
) -> None:
    ctx = multiprocessing.get_context("fork")
    builders = [
        ctx.Process(target=_store, args=(str(tmp_path / "cache"), str(tmp_path / "src"), i))
        for i in range(6)
    ]
    for b in builders:
        b.start()
    for b in builders:
        b.join(timeout=120)
        assert b.exitcode == 0
    cache = BootstrapCache(tmp_path / "cache")
    [(_path, entry)] = list(cache.entries())
    assert not isinstance(entry, str), entry
    assert entry.chain_epoch in range(6)  # one builder's entry, whole
    assert [p.name for p in cache.entries_dir.iterdir()] == [KEY.digest]  # no leftovers


# ---------------------------------------------------------------- on real daemons

CONFIG = """\
general: {{stop_time: "10m", seed: 23, bootstrap_blocks: 20}}
agents:
  user_agents:
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "70"}}}}
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: "30"}}}}
    - {{daemon: monerod, wallet: monero-wallet-rpc}}
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 60"]
"""


def run(tmp_path: Path, name: str, cache: Path) -> tuple[Path, str]:
    config = write_config(tmp_path, CONFIG)
    run_dir = tmp_path / name
    code, out = finish(start_run(config, run_dir, "--cache-dir", str(cache)), timeout=600)
    assert code == 0, out[-4000:]
    return run_dir, out


def chain_of(run_dir: Path) -> list[tuple[int, str, str, bool]]:
    return [
        (b["height"], b["hash"], b["winner"], b["bootstrap"]) for b in records(run_dir, RUN_BLOCKS)
    ]


@pytest.mark.daemon
@pytest.mark.usefixtures("monero_binaries")
def test_a_warm_run_starts_on_the_cold_runs_chain(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold, _ = run(tmp_path, "cold", cache)
    warm, _ = run(tmp_path, "warm", cache)

    cold_info, warm_info = RunDir(cold).read_info(), RunDir(warm).read_info()
    assert (cold_info.bootstrap_source, warm_info.bootstrap_source) == ("mined", "cache")
    assert cold_info.bootstrap_entry == warm_info.bootstrap_entry is not None
    assert cold_info.chain_epoch == warm_info.chain_epoch
    cold_chain, warm_chain = chain_of(cold), chain_of(warm)
    # The bootstrap is the same chain, block for block; every winner is the seed's.
    assert [c for c in cold_chain if c[3]] == [w for w in warm_chain if w[3]]
    assert len([c for c in cold_chain if c[3]]) == 20
    assert [c[2] for c in cold_chain] == [w[2] for w in warm_chain]
    assert [c[0] for c in warm_chain] == list(range(1, 30))
    # Same seed, same wallets.
    cold_agents = [(a["id"], a["wallet_address"]) for a in _agents(cold)]
    assert cold_agents == [(a["id"], a["wallet_address"]) for a in _agents(warm)]
    assert [a for a, address in cold_agents if address] == ["miner-01", "miner-02", "user-01"]

    # A truncated chain in the entry is noticed, said, and rebuilt by the next run.
    [entry] = (cache / "bootstrap").iterdir()
    chain = entry / CHAIN_FILE
    chain.write_bytes(chain.read_bytes()[: chain.stat().st_size // 2])
    rebuilt, out = run(tmp_path, "rebuilt", cache)
    assert "was damaged" in out and "data.mdb" in out
    assert RunDir(rebuilt).read_info().bootstrap_source == "mined"
    assert [e.name for e in (cache / "bootstrap").iterdir()] == [entry.name]
    again, _ = run(tmp_path, "again", cache)
    assert RunDir(again).read_info().bootstrap_source == "cache"


@pytest.mark.daemon
@pytest.mark.usefixtures("monero_binaries")
def test_two_engines_building_one_entry_at_once_both_succeed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = write_config(tmp_path, CONFIG)
    procs = [start_run(config, tmp_path / name, "--cache-dir", str(cache)) for name in ("a", "b")]
    for proc in procs:
        code, out = finish(proc, timeout=600)
        assert code == 0, out[-4000:]
    entries = list(BootstrapCache(cache).entries())
    assert len(entries) == 1 and not isinstance(entries[0][1], str)
    assert {RunDir(tmp_path / n).read_info().bootstrap_source for n in "ab"} == {"mined"}


def _agents(run_dir: Path) -> list[dict[str, object]]:
    return list(json.loads((run_dir / "shared" / "agent_registry.json").read_text())["agents"])
