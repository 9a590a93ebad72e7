"""Start, watch and stop real ``monerod --regtest`` and ``monero-wallet-rpc`` processes.

The pieces: :class:`NodeSpec` / :class:`WalletSpec` (from
:mod:`monerosim_core.daemon_specs`, re-exported here) say what to run;
:class:`ProcessSupervisor` runs them on loopback, waits until they answer RPC and
stops them all; :func:`wait_peered` and :func:`wait_synced` wait for the network
to form and to agree on a tip.

Measured on the development machine (2 cores, monero 0.18.0.0, regtest, two
nodes and one wallet, three runs; figures under load from parallel test runs
were up to twice as high):

* monerod answers its first RPC 1.2-1.35 s after start. RSS: ~27 MB until it
  first mines or verifies a block, then ~300 MB (RandomX cache); ~550 MB on the
  node that runs ``generateblocks``. Budget ~0.6 GB per mining node.
* The first ``generateblocks`` on a node takes 1.1-1.4 s (up to ~4 s under
  load): RandomX set-up. After that ~70 ms per block.
* monero-wallet-rpc answers its first RPC ~1.1 s after start (HTTP 401 without
  the login); ``create_wallet`` takes 1.4-2.0 s (2.9 s under load); RSS ~32 MB.
* Mesh peers are connected by the time a wallet-rpc is up (<0.1 s later).
* ``stop_all`` of two nodes and a wallet with an open wallet: 1.0-1.4 s.
* A monerod whose RPC or P2P port is taken exits with code 1 after ~1.1 s; a
  wallet-rpc after ~2.4 s. Both say "Failed to bind" on the console.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import attrs

from monerosim_core.daemon_specs import (
    LOOPBACK,
    NodeSpec,
    WalletSpec,
    check_loopback,
    free_tcp_ports,
    mesh_node_specs,
    new_rpc_login,
)
from monerosim_core.parent_death import terminate_with_parent
from monerosim_core.rpc import DaemonClient, RpcError, WalletClient
from monerosim_core.state_files import write_json_atomic

__all__ = [
    "LOOPBACK",
    "ChainTip",
    "ConvergenceTimeout",
    "Leftover",
    "ManagedProcess",
    "NodeSpec",
    "ProcessStartError",
    "ProcessSupervisor",
    "SupervisorError",
    "WalletSpec",
    "find_leftovers",
    "free_tcp_ports",
    "kill_leftovers",
    "mesh_node_specs",
    "new_rpc_login",
    "wait_peered",
    "wait_synced",
]

PIDS_FILE = "pids.json"
Kind = Literal["monerod", "wallet-rpc"]


class SupervisorError(Exception):
    """Base of the errors raised by this module."""


class ProcessStartError(SupervisorError):
    """A process died, or did not answer RPC in time, while starting.

    ``str()`` names the process, what went wrong and ends with the tail of its
    console log, which is where monerod and wallet-rpc say why they gave up.
    """

    def __init__(self, name: str, reason: str, log_tail: str) -> None:
        super().__init__(name, reason, log_tail)
        self.name, self.reason, self.log_tail = name, reason, log_tail

    def __str__(self) -> str:
        return f"{self.name} {self.reason}\n{self.log_tail}"


class ConvergenceTimeout(SupervisorError):
    """Nodes did not peer, or did not agree on a tip, within the time allowed."""


# ------------------------------------------------------------------ running them


@attrs.define(eq=False)
class ManagedProcess:
    """A process the supervisor started. ``ready`` once it has answered RPC."""

    name: str
    kind: Kind
    spec: NodeSpec | WalletSpec
    popen: subprocess.Popen[bytes]
    console_log: Path
    started_at: float  # wall clock, to tell our monerod from a stranger on its port
    ready: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 12) -> str:
        """The last lines of the console log (colour codes removed)."""
        try:
            text = self.console_log.read_bytes()[-16384:].decode("utf-8", "replace")
        except OSError as exc:
            return f"(no console log: {exc})"
        tail = _ANSI.sub("", text).splitlines()[-lines:]
        return f"--- last lines of {self.console_log} ---\n" + "\n".join(tail)

    def daemon_client(self, timeout: float = 30.0) -> DaemonClient:
        if not isinstance(self.spec, NodeSpec):
            raise TypeError(f"{self.name} is a {self.kind}, not a monerod")
        return DaemonClient(self.spec.host, self.spec.rpc_port, timeout=timeout)

    def wallet_client(self, timeout: float = 60.0) -> WalletClient:
        if not isinstance(self.spec, WalletSpec):
            raise TypeError(f"{self.name} is a {self.kind}, not a wallet-rpc")
        return WalletClient(
            self.spec.host, self.spec.rpc_port, login=self.spec.login, timeout=timeout
        )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@attrs.define
class ProcessSupervisor:
    """Runs monerod / wallet-rpc processes and guarantees to stop them.

    Each process gets its own session (a Ctrl-C in the terminal reaches only the
    parent, which then stops the children in order), is sent SIGTERM by the kernel
    if the parent dies without stopping it (SIGKILL, a crash), console output in
    ``state_dir/logs/NAME.console.log``, and a line in ``state_dir/pids.json``
    so the children of a parent that was killed can be found
    (:func:`find_leftovers`). Use as a context manager: leaving the block calls
    :meth:`stop_all`, whatever happened inside.
    """

    state_dir: Path
    _procs: dict[str, ManagedProcess] = attrs.field(factory=dict, init=False)
    _stopping: bool = attrs.field(default=False, init=False)

    @property
    def processes(self) -> Mapping[str, ManagedProcess]:
        return dict(self._procs)

    def start_node(self, spec: NodeSpec) -> ManagedProcess:
        spec.data_dir.mkdir(parents=True, exist_ok=True)
        return self._start(spec.name, "monerod", spec, spec.argv(), spec.data_dir)

    def start_wallet(self, spec: WalletSpec) -> ManagedProcess:
        spec.wallet_dir.mkdir(parents=True, exist_ok=True)
        spec.write_config_file()
        return self._start(spec.name, "wallet-rpc", spec, spec.argv(), spec.wallet_dir)

    def _start(
        self, name: str, kind: Kind, spec: NodeSpec | WalletSpec, argv: list[str], cwd: Path
    ) -> ManagedProcess:
        check_loopback(spec.host)
        if name in self._procs:
            raise ValueError(f"a process named {name!r} was already started")
        logs = self.state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        console = logs / f"{name}.console.log"
        with open(console, "wb") as out:
            try:
                popen = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    cwd=cwd, start_new_session=True, close_fds=True,
                    preexec_fn=terminate_with_parent,
                )  # fmt: skip
            except OSError as exc:
                raise ProcessStartError(
                    f"{kind} {name}", f"could not be started: {exc}", f"command: {argv[0]}"
                ) from None
        proc = ManagedProcess(name, kind, spec, popen, console, time.time())
        self._procs[name] = proc
        self._write_pids()
        return proc

    def wait_ready(self, names: Iterable[str] | None = None, *, timeout: float = 60.0) -> None:
        """Block until each named process (default: all) answers RPC.

        Raises ProcessStartError naming the first process that exited, or that was
        still silent at the deadline, with its log tail. The processes are left
        running: stop them with :meth:`stop_all` (the context manager does).
        """
        wanted = (
            [self._procs[n] for n in names] if names is not None else list(self._procs.values())
        )
        pending = [p for p in wanted if not p.ready]
        last_error: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while pending:
            for proc in list(pending):
                if not proc.alive:
                    raise ProcessStartError(
                        f"{proc.kind} {proc.name} (pid {proc.pid})",
                        f"exited with code {proc.popen.returncode} before answering RPC",
                        proc.log_tail(),
                    )
                try:
                    answered = _probe(proc)
                except RpcError as exc:
                    last_error[proc.name], answered = str(exc), False
                if answered and proc.alive:
                    proc.ready = True
                    pending.remove(proc)
            if pending and time.monotonic() > deadline:
                proc = pending[0]
                raise ProcessStartError(
                    f"{proc.kind} {proc.name} (pid {proc.pid})",
                    f"did not answer RPC at {proc.spec.rpc_address} within {timeout:g} s"
                    f" (last error: {last_error.get(proc.name, 'none')})",
                    proc.log_tail(),
                )
            if pending:
                time.sleep(0.1)

    def stop_all(self, *, grace: float = 15.0, term_grace: float = 5.0) -> None:
        """Stop every process this supervisor started, and reap it.

        Order: wallets by ``stop_wallet`` (so they save), then daemons by
        ``stop_daemon``, each kind allowed ``grace`` seconds to exit; whatever is
        left gets SIGTERM and ``term_grace`` seconds, then SIGKILL. Signals go to
        the recorded PIDs only. Processes that already died (even by SIGKILL from
        outside) are just reaped. Never raises for a process that misbehaves.

        Idempotent. If called again while running (from a signal handler during a
        stop in ``finally``), the inner call SIGKILLs what is left and returns:
        a second Ctrl-C means "now".
        """
        if self._stopping:
            for proc in self._procs.values():
                _signal(proc, signal.SIGKILL)
            return
        self._stopping = True
        try:
            for kind in ("wallet-rpc", "monerod"):
                polite = [p for p in self._procs.values() if p.kind == kind and p.alive and p.ready]
                for proc in polite:
                    if not _ask_to_stop(proc):
                        _signal(proc, signal.SIGTERM)  # no point waiting for a refusal
                _wait_exit(polite, grace)
            rest = [p for p in self._procs.values() if p.alive]
            for proc in rest:
                _signal(proc, signal.SIGTERM)
            _wait_exit(rest, term_grace)
            for proc in self._procs.values():
                _signal(proc, signal.SIGKILL)
            _wait_exit(list(self._procs.values()), 10.0)
        finally:
            self._stopping = False
            with contextlib.suppress(OSError):
                self._write_pids()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    def _write_pids(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        records = [
            {
                "name": p.name,
                "kind": p.kind,
                "pid": p.pid,
                "start_ticks": _start_ticks(p.pid),
                "rpc": p.spec.rpc_address,
                "exited": p.popen.returncode,
            }
            for p in self._procs.values()
        ]
        write_json_atomic(
            self.state_dir / PIDS_FILE, {"parent_pid": os.getpid(), "processes": records}
        )


def _probe(proc: ManagedProcess) -> bool:
    """Whether the process answers RPC now (RpcError: not yet)."""
    if isinstance(proc.spec, NodeSpec):
        with proc.daemon_client(timeout=2.0) as daemon:
            # A monerod that started before ours is a stranger holding our port.
            return daemon.get_info().start_time >= proc.started_at - 5
    with proc.wallet_client(timeout=2.0) as wallet:
        wallet.get_version()  # needs our random login: a stranger answers 401
        return True


def _ask_to_stop(proc: ManagedProcess) -> bool:
    """Send the stop RPC; False if it was not accepted (e.g. wallet-rpc with no
    wallet open answers stop_wallet with an error)."""
    try:
        if isinstance(proc.spec, NodeSpec):
            with proc.daemon_client(timeout=3.0) as daemon:
                daemon.stop_daemon()
        else:
            with proc.wallet_client(timeout=3.0) as wallet:
                wallet.stop_wallet()
    except RpcError:
        return False
    return True


def _signal(proc: ManagedProcess, sig: signal.Signals) -> None:
    # Popen.send_signal skips a process already reaped, so a recycled PID is safe.
    with contextlib.suppress(ProcessLookupError):
        proc.popen.send_signal(sig)


def _wait_exit(procs: Sequence[ManagedProcess], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while any(p.alive for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)


def _start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks (/proc), which tells a PID's owner
    apart from a later process that reuses the number; None if the process is
    gone or a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


@attrs.frozen
class Leftover:
    """A process recorded in ``pids.json`` that is still running."""

    name: str
    kind: str
    pid: int


def find_leftovers(state_dir: Path) -> list[Leftover]:
    """Processes of an earlier supervisor (say, one whose parent was killed) that
    still run: recorded in ``state_dir/pids.json`` with the same PID and start time."""
    try:
        doc = json.loads((state_dir / PIDS_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [
        Leftover(str(r["name"]), str(r["kind"]), int(r["pid"]))
        for r in doc.get("processes", [])
        if r.get("start_ticks") is not None and _start_ticks(int(r["pid"])) == r["start_ticks"]
    ]


def kill_leftovers(state_dir: Path, *, grace: float = 5.0) -> list[Leftover]:
    """SIGTERM the :func:`find_leftovers` processes, SIGKILL any still there after
    ``grace`` seconds; returns what was found. Each PID is re-checked against its
    recorded start time before every signal."""
    found = find_leftovers(state_dir)
    for sig, seconds in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for leftover in find_leftovers(state_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover.pid, sig)
        deadline = time.monotonic() + seconds
        while find_leftovers(state_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
    return found


# ------------------------------------------------------------------ network-level waits


@attrs.frozen
class ChainTip:
    height: int
    top_block_hash: str


def wait_peered(
    daemons: Mapping[str, DaemonClient],
    expected: int | Mapping[str, int] = 1,
    *,
    timeout: float = 30.0,
) -> dict[str, int]:
    """Wait until each node has completed a handshake with at least ``expected``
    distinct peers (a number for all, or per node name); returns the counts.
    In a full mesh of n nodes pass ``n - 1``."""
    need = expected if isinstance(expected, Mapping) else dict.fromkeys(daemons, expected)

    def peers(client: DaemonClient) -> int:
        conns = client.get_connections()
        return len({c.peer_id for c in conns if c.state != "before_handshake"})

    counts: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while True:
        for name, client in daemons.items():
            with contextlib.suppress(RpcError):
                counts[name] = peers(client)
        if all(counts.get(n, 0) >= need.get(n, 0) for n in daemons):
            return counts
        if time.monotonic() > deadline:
            shown = ", ".join(f"{n}: {counts.get(n, '?')}/{need.get(n, 0)}" for n in daemons)
            raise ConvergenceTimeout(
                f"nodes not peered after {timeout:g} s (peers/needed: {shown})"
            )
        time.sleep(0.2)


def wait_synced(
    daemons: Mapping[str, DaemonClient], *, min_height: int = 0, timeout: float = 30.0
) -> ChainTip:
    """Wait until every node reports the same top block and a ``height`` (block
    count, genesis included) of at least ``min_height``; returns that tip."""
    tips: dict[str, ChainTip | str] = {}
    deadline = time.monotonic() + timeout
    while True:
        for name, client in daemons.items():
            try:
                info = client.get_info()
                tips[name] = ChainTip(info.height, info.top_block_hash)
            except RpcError as exc:
                tips[name] = str(exc)
        distinct = set(tips.values())
        if len(distinct) == 1:
            (tip,) = distinct
            if isinstance(tip, ChainTip) and tip.height >= min_height:
                return tip
        if time.monotonic() > deadline:
            shown = "; ".join(
                f"{n}: h={t.height} {t.top_block_hash[:12]}"
                if isinstance(t, ChainTip)
                else f"{n}: {t}"
                for n, t in tips.items()
            )
            raise ConvergenceTimeout(
                f"nodes not in sync at height >= {min_height} after {timeout:g} s ({shown})"
            )
        time.sleep(0.1)
