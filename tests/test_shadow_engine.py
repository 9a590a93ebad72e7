"""The Shadow engine's parts that run outside Shadow: the shim, joining simulated
time, reading propagation from the nodes' logs, and the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import attrs
import pytest

from monerosim_core.agents.runtime import AgentRuntime, AgentSetupError
from monerosim_core.cli import main
from monerosim_core.engine.shadow.propagation import propagation_records, read_arrivals
from monerosim_core.engine.shadow.shim import ShimError, build_shim, find_compiler
from monerosim_core.engine.shadow.simulation import write_simulation
from monerosim_core.engine.shadow.timeline import SHADOW_EPOCH
from monerosim_core.records.layout import RunDir
from monerosim_core.records.registry import read_registry, write_registry
from monerosim_core.records.schema import BlockRecord, PropagationRecord
from monerosim_core.report.propagation import analyse_propagation
from monerosim_core.simtime.clocks import ProcessClock
from monerosim_core.timeouts import FACTOR_ENV

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "shadow"
CONFIG = ROOT / "configs" / "miner_distributor.yaml"


# ------------------------------------------------------------------ the shim


@pytest.fixture(scope="module")
def compiler() -> str:
    found = find_compiler()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test the shim, but no C compiler is installed")
        pytest.skip("no C compiler (gcc or cc) installed")
    return found


def _probe(compiler: str, directory: Path, preload: list[Path], *, bind_now: bool) -> list[str]:
    program = directory / ("probe-now" if bind_now else "probe-lazy")
    flags = ["-Wl,-z,now"] if bind_now else ["-Wl,-z,lazy"]
    subprocess.run(
        [compiler, "-O2", *flags, "-o", str(program), str(DATA / "setsockopt_probe.c")],
        check=True,
    )
    env = {**os.environ, "LD_PRELOAD": ":".join(map(str, preload))}
    done = subprocess.run([str(program)], capture_output=True, text=True, env=env, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("bind_now", [True, False], ids=["bind-now", "lazy"])
def test_shim_makes_the_two_rejected_options_succeed_behind_a_shadow_like_libc(
    compiler: str, tmp_path: Path, bind_now: bool
) -> None:
    shim = build_shim(tmp_path / "shim")
    fake = tmp_path / "fake_shadow.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", str(fake), str(DATA / "fake_shadow.c")], check=True
    )
    # The stand-in for Shadow rejects them, like Shadow: monerod would drop the connection.
    assert _probe(compiler, tmp_path, [fake], bind_now=bind_now) == [
        "ip_tos -1 0",
        "nodelay_on 0 1",
        "nodelay_off -1 1",
        "reuseaddr 0 1",
        "bad_level -1 -1",
    ]
    # Shadow's libc comes first; the shim, after it, still filters the program's calls:
    # the two succeed without effect, everything else is answered as before.
    assert _probe(compiler, tmp_path, [fake, shim], bind_now=bind_now) == [
        "ip_tos 0 0",
        "nodelay_on 0 1",
        "nodelay_off 0 1",
        "reuseaddr 0 1",
        "bad_level -1 -1",
    ]


def test_without_a_compiler_the_shim_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(ShimError, match=r"no C compiler found.*--shadow-variant shadowformonero"):
        build_shim(tmp_path / "shim")


# ------------------------------------------------------------------ joining simulated time


@pytest.fixture
def shadow_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunDir:
    """A written Shadow simulation (shim not compiled), as its agents find it."""
    monkeypatch.setattr(
        "monerosim_core.engine.shadow.simulation.build_shim", lambda d: d / "shim.so"
    )
    return write_simulation(CONFIG, tmp_path / "run", seed=3).run


def test_an_agent_waits_for_the_setup_then_reads_the_process_clock(
    shadow_run: RunDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FACTOR_ENV, "0.002")  # gives up after about 0.6 s
    monkeypatch.setattr("monerosim_core.agents.runtime.SETUP_POLL", 0.05)
    with pytest.raises(AgentSetupError, match="the network was not set up"):
        AgentRuntime.open("distributor-01", shadow_run.root)
    registry = read_registry(shadow_run.shared)
    agents = tuple(
        attrs.evolve(a, wallet_address=f"address-of-{a.id}") if a.has_wallet else a
        for a in registry.agents
    )
    write_registry(shadow_run.shared, attrs.evolve(registry, agents=agents))
    rt = AgentRuntime.open("distributor-01", shadow_run.root)
    assert isinstance(rt.clock, ProcessClock)
    # Outside Shadow the process clock is the machine's: t=0 was in 2000.
    assert rt.now() == pytest.approx(time.time() - SHADOW_EPOCH - 60, abs=5)
    rt.close()


# ------------------------------------------------------------------ propagation


LOG = """\
2000-01-01 00:03:00.016\t[RPC0]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\t+++++ BLOCK SUCCESSFULLY ADDED
2000-01-01 00:03:00.016\t[RPC0]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tid:\t<{a}>
2000-01-01 00:03:00.016\t[RPC0]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tPoW:\t<{pow}>
2000-01-01 00:03:00.016\t[RPC0]\tINFO\tblockchain\tsrc/cryptonote_core/blockchain.cpp:4524\tHEIGHT 101, difficulty:\t1
"""  # noqa: E501


def test_delays_are_read_from_when_each_node_logged_the_block(tmp_path: Path) -> None:
    block_a, block_b = "a" * 64, "b" * 64
    winner, near, far = (tmp_path / f"{n}.log" for n in ("winner", "near", "far"))
    winner.write_text(LOG.format(a=block_a, pow="0" * 64))
    near.write_text(LOG.format(a=block_a, pow="0" * 64).replace("00:03:00.016", "00:03:00.019"))
    far.write_text(LOG.format(a=block_b, pow="0" * 64).replace("00:03:00.016", "00:03:00.120"))
    arrivals = {name: read_arrivals(tmp_path / f"{name}.log") for name in ("winner", "near", "far")}
    assert arrivals["winner"] == {(101, block_a): SHADOW_EPOCH + 180.016}
    block = BlockRecord(
        height=101, hash=block_a, winner="winner", wallet_address="w", sim_time=120.0,
        wall_time=0.0, bootstrap=False, node="11.0.0.1:18081",
    )  # fmt: skip
    bootstrap = attrs.evolve(block, height=100, bootstrap=True)
    [record] = propagation_records([bootstrap, block], arrivals, SHADOW_EPOCH + 60)
    assert record == PropagationRecord(
        height=101,
        hash=block_a,
        winner="winner",
        added=pytest.approx(120.016),
        delays={"near": pytest.approx(0.003)},
        missing=("far",),
    )
    section = analyse_propagation([record])
    assert section.incomplete == (101,) and section.reached_all is None
    assert section.delays is not None and section.delays.max == pytest.approx(0.003)


# ------------------------------------------------------------------ the command line


def test_shadow_command_writes_the_simulation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if find_compiler() is None:
        pytest.skip("no C compiler (gcc or cc) installed")
    out = tmp_path / "sim"
    assert main(["shadow", str(CONFIG), "-o", str(out), "--seed", "4"]) == 0
    printed = capsys.readouterr().out
    assert f"shadow {out / 'shadow' / 'shadow.yaml'}" in printed
    assert (out / "shadow" / "libmonerosim_shim.so").is_file()
    assert RunDir(out).read_info().engine == "shadow"


def test_run_without_shadow_is_one_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monerosim_core.cli", "run", "--engine", "shadow",
         "--shadow", str(tmp_path / "no-shadow"), str(CONFIG), "--run-dir", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"monerosim: error: {tmp_path / 'no-shadow'} is not an executable Shadow binary"
    ]
    assert not (tmp_path / "r").exists()


def test_bad_gml_is_a_config_error_naming_the_line(tmp_path: Path) -> None:
    shutil.copy(DATA / "three_regions.yaml", tmp_path / "s.yaml")
    (tmp_path / "three_regions.gml").write_text(
        (DATA / "three_regions.gml").read_text().replace('latency "40 ms"', 'latency "0 ms"')
    )
    done = subprocess.run(
        [sys.executable, "-m", "monerosim_core.cli", "shadow", str(tmp_path / "s.yaml"),
         "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"{tmp_path / 'three_regions.gml'}:39:5: network.gml: latency: Shadow needs it above zero"
    )
    assert "Traceback" not in done.stderr
