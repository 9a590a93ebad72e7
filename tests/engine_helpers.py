"""Helpers for tests that run ``monerosim run`` as a real subprocess."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from monerosim_core.records.files import read_lines
from monerosim_core.records.layout import BLOCKS_FILE

CLI = (sys.executable, "-m", "monerosim_core.cli")

MINING_CONFIG = """\
general:
  stop_time: "{stop_time}"
  seed: {seed}
  bootstrap_blocks: {bootstrap}
  log_level: info
agents:
  user_agents:
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes: {{hashrate: "50"}}
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes: {{hashrate: "30"}}
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes: {{hashrate: "20"}}
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 120"]
"""


def write_config(directory: Path, text: str, **values: Any) -> Path:
    path = directory / "scenario.yaml"
    path.write_text(textwrap.dedent(text).format(**values))
    return path


def start_run(
    config: Path, run_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``monerosim run`` in its own session, output captured; ``env`` is added to ours."""
    return subprocess.Popen(
        [*CLI, "run", str(config), "--run-dir", str(run_dir), "--progress", "lines", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    """Wait for a run; on timeout kill its whole session (ours) and fail."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"run did not finish in {timeout} s:\n{out[-3000:]}") from None
    return proc.returncode, out


def records(run_dir: Path, name: str) -> list[dict[str, Any]]:
    """The records of journal ``name`` (a ``*.jsonl`` file in ``shared/``) as written."""
    lines, problems = read_lines(run_dir / "shared" / name)
    assert problems == [], problems
    return [doc for _, doc in lines]


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def processes_of_run(run_dir: Path) -> list[tuple[int, str]]:
    """Live processes whose command line names the run directory: its daemons,
    wallets and agents (every one of them gets a path inside it)."""
    marker = str(run_dir)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state not in ("Z", "X"):
            found.append((int(entry.name), cmdline[:120]))
    return found


def pid_of(run_dir: Path, name: str) -> int:
    doc = json.loads((run_dir / "pids.json").read_text())
    return next(int(p["pid"]) for p in doc["processes"] if p["name"] == name)


def agent_pid(run_dir: Path, agent_id: str) -> int:
    for pid, cmdline in processes_of_run(run_dir):
        if f" agent {agent_id} " in cmdline:
            return pid
    raise AssertionError(f"no process for agent {agent_id}")


def start_mining_run(tmp_path: Path, seed: int) -> tuple[subprocess.Popen[str], Path]:
    """A long 3-miner run (paced at 200x so it lasts minutes), returned once its first
    block after the bootstrap is in."""
    config = write_config(tmp_path, MINING_CONFIG, stop_time="10h", seed=seed, bootstrap=5)
    run_dir = tmp_path / "run"
    proc = start_run(config, run_dir, "--speed", "200")
    try:
        wait_for(
            lambda: any(not b["bootstrap"] for b in records(run_dir, BLOCKS_FILE)),
            240,
            "the first block after the bootstrap",
        )
    except AssertionError:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)  # the engine stops everything it started
        finish(proc, timeout=90)
        raise
    return proc, run_dir


def _socket_table() -> dict[str, tuple[str, str, str]]:
    """inode -> (protocol, local address, remote address) from /proc/net."""
    table = {}
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/net/{proto}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            table[fields[9]] = (proto, fields[1], fields[2])
    return table


def _ip(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_address.split(":")[0])
    # /proc/net prints addresses as host-order 32-bit words
    words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
    packed = b"".join(words)
    return ipaddress.ip_address(packed)


def non_loopback_sockets(run_dir: Path) -> list[str]:
    """Sockets of the run's processes bound to, or connected to, anything but loopback.

    An unconnected socket has the remote address 0.0.0.0 / ::, which is allowed;
    a bound address must be loopback (never 0.0.0.0: that listens on every interface).
    """
    table = _socket_table()
    found = []
    for pid, cmdline in processes_of_run(run_dir):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if not target.startswith("socket:["):
                continue
            entry = table.get(target[8:-1])
            if entry is None:
                continue  # a unix socket
            proto, local, remote = entry
            local_ip, remote_ip = _ip(local), _ip(remote)
            if not local_ip.is_loopback or not (remote_ip.is_loopback or remote_ip.is_unspecified):
                found.append(f"{proto} {local_ip} -> {remote_ip}: {cmdline[:60]}")
    return found
