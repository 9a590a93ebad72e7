"""Command lines of the processes a run starts: loopback, and no secrets in argv."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from monerosim_core.processes.specs import NodeSpec, WalletSpec, check_loopback


def test_the_wallet_passwords_are_in_a_private_file_not_on_the_command_line(
    tmp_path: Path,
) -> None:
    spec = WalletSpec(
        name="w", wallet_dir=tmp_path, rpc_port=1, daemon_address="127.0.0.1:2",
        daemon_login=("node", "n0de-secret"),
    )  # fmt: skip
    user, password = spec.login
    argv = " ".join(spec.argv())  # /proc/PID/cmdline is world-readable
    assert password not in argv and "n0de-secret" not in argv
    spec.prepare()
    assert spec.config_file.read_text() == (
        f"rpc-login={user}:{password}\ndaemon-login=node:n0de-secret\n"
    )
    assert stat.S_IMODE(spec.config_file.stat().st_mode) == 0o600


def test_the_node_login_is_in_a_private_file_not_on_the_command_line(tmp_path: Path) -> None:
    spec = NodeSpec(name="n", data_dir=tmp_path / "n", rpc_port=1, p2p_port=2)
    (tmp_path / "n").mkdir()
    spec.config_file.write_text("stale")
    spec.config_file.chmod(0o644)  # a file left by someone else is made private again
    spec.prepare()
    user, password = spec.login
    assert password not in " ".join(spec.argv())
    assert spec.config_file.read_text() == f"rpc-login={user}:{password}\n"
    assert stat.S_IMODE(spec.config_file.stat().st_mode) == 0o600


def test_a_node_without_peers_runs_offline_and_dials_nobody(tmp_path: Path) -> None:
    argv = NodeSpec(name="n", data_dir=tmp_path, rpc_port=1, p2p_port=2).argv()
    assert "--offline" in argv and "--add-exclusive-node" not in argv


def test_nodes_bind_loopback_and_dial_only_their_listed_peers(tmp_path: Path) -> None:
    spec = NodeSpec(name="n", data_dir=tmp_path, rpc_port=1, p2p_port=2, peers=["127.0.0.1:3"])
    argv = spec.argv()
    assert argv[argv.index("--p2p-bind-ip") + 1] == "127.0.0.1"
    assert argv[argv.index("--rpc-bind-ip") + 1] == "127.0.0.1"
    assert argv[argv.index("--add-exclusive-node") + 1] == "127.0.0.1:3"
    assert "--offline" not in argv
    assert "--check-updates" in argv and "--no-igd" in argv


def test_a_non_loopback_address_is_refused() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        check_loopback("10.0.0.5")
