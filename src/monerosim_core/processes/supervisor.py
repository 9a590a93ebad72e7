"""Start, watch and stop every process of a run: daemons, wallets and agents.

One :class:`ProcessSupervisor` owns all of them. What to run comes from the specs
(:mod:`monerosim_core.processes.specs`); the supervisor runs each on loopback, in
its own session, with its console in a log file; waits until daemons answer RPC;
and stops them all by PID, in order: agents (SIGTERM, so they finish what they
are doing), then wallets (``stop_wallet``, so they save), then daemons
(``stop_daemon``); whatever is left gets SIGTERM, then SIGKILL.

Measured on the development machine (2 cores, monero 0.18.0.0, regtest):

* monerod answers its first RPC 1.2-1.35 s after start. RSS: ~27 MB until it
  first mines or verifies a block, then ~300 MB (RandomX cache); ~550 MB on the
  node that runs ``generateblocks``.
* monero-wallet-rpc answers its first RPC ~1.1 s after start (HTTP 401 without
  the login); ``create_wallet`` takes 1.4-2.0 s; RSS ~32 MB.
* ``stop_all`` of two nodes and a wallet with an open wallet: 1.0-1.4 s.
* A monerod whose RPC or P2P port is taken exits with code 1 after ~1.1 s; a
  wallet-rpc after ~2.4 s. Both say "Failed to bind" on the console.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import attrs

from monerosim_core.processes.leftovers import write_pids
from monerosim_core.processes.parent_death import terminate_with_parent
from monerosim_core.processes.specs import (
    AgentProcessSpec,
    Kind,
    NodeSpec,
    ProcessSpec,
    WalletSpec,
    check_loopback,
)
from monerosim_core.rpc import DaemonClient, RpcError, WalletClient
from monerosim_core.timeouts import timeouts

STOP_ORDER: tuple[Kind, ...] = ("agent", "wallet-rpc", "monerod")


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


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@attrs.define(eq=False)
class ManagedProcess:
    """A process the supervisor started. ``ready`` once it has answered RPC
    (agents: once started)."""

    spec: ProcessSpec
    popen: subprocess.Popen[bytes]
    console_log: Path
    started_at: float  # wall clock, to tell our monerod from a stranger on its port
    ready: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> Kind:
        return self.spec.kind

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self.popen.poll()

    def log_tail(self, lines: int = 12) -> str:
        """The last lines of the console log (colour codes removed)."""
        try:
            text = self.console_log.read_bytes()[-16384:].decode("utf-8", "replace")
        except OSError as exc:
            return f"(no console log: {exc})"
        tail = _ANSI.sub("", text).splitlines()[-lines:]
        return f"--- last lines of {self.console_log} ---\n" + "\n".join(tail)

    def daemon_client(self, timeout: float | None = None) -> DaemonClient:
        if not isinstance(self.spec, NodeSpec):
            raise TypeError(f"{self.name} is a {self.kind}, not a monerod")
        return DaemonClient(
            self.spec.host, self.spec.rpc_port, login=self.spec.login, timeout=timeout
        )

    def wallet_client(self, timeout: float | None = None) -> WalletClient:
        if not isinstance(self.spec, WalletSpec):
            raise TypeError(f"{self.name} is a {self.kind}, not a wallet-rpc")
        return WalletClient(
            self.spec.host, self.spec.rpc_port, login=self.spec.login, timeout=timeout
        )


@attrs.define
class ProcessSupervisor:
    """Runs a run's processes and guarantees to stop them.

    Each process gets its own session (a Ctrl-C in the terminal reaches only the
    parent, which then stops the children in order), is sent SIGTERM by the kernel
    if the parent dies without stopping it (SIGKILL, a crash), and a line in
    ``state_dir/pids.json`` so the children of a parent that was killed can be found
    (:mod:`monerosim_core.processes.leftovers`). Use as a context manager: leaving
    the block calls :meth:`stop_all`, whatever happened inside.
    """

    state_dir: Path
    _procs: dict[str, ManagedProcess] = attrs.field(factory=dict, init=False)
    _stopping: bool = attrs.field(default=False, init=False)

    @property
    def processes(self) -> Mapping[str, ManagedProcess]:
        return dict(self._procs)

    def of_kind(self, kind: Kind) -> list[ManagedProcess]:
        return [p for p in self._procs.values() if p.kind == kind]

    def start(self, spec: ProcessSpec, console_log: Path | None = None) -> ManagedProcess:
        """Start ``spec``'s process with its output in ``console_log`` (default:
        ``state_dir/logs/NAME.console.log``)."""
        if console_log is None:
            console_log = self.state_dir / "logs" / f"{spec.name}.console.log"
        check_loopback(spec.host)
        previous = self._procs.get(spec.name)
        if previous is not None and previous.alive:
            raise ValueError(f"a process named {spec.name!r} is already running")
        spec.prepare()
        argv = spec.argv()
        console_log.parent.mkdir(parents=True, exist_ok=True)
        with open(console_log, "ab") as out:
            try:
                popen = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    cwd=spec.workdir, start_new_session=True, close_fds=True,
                    preexec_fn=terminate_with_parent,
                )  # fmt: skip
            except OSError as exc:
                raise ProcessStartError(
                    f"{spec.kind} {spec.name}",
                    f"could not be started: {exc}",
                    f"command: {argv[0]}",
                ) from None
        proc = ManagedProcess(spec, popen, console_log, time.time())
        proc.ready = isinstance(spec, AgentProcessSpec)  # agents have no RPC to probe
        self._procs[spec.name] = proc
        self._write_pids()
        return proc

    def wait_ready(
        self, names: Iterable[str] | None = None, *, timeout: float | None = None
    ) -> None:
        """Block until each named process (default: all) answers RPC.

        Raises ProcessStartError naming the first process that exited, or that was
        still silent at the deadline, with its log tail. The processes are left
        running: stop them with :meth:`stop_all` (the context manager does).
        """
        wait = timeouts().process_start if timeout is None else timeout
        wanted = (
            [self._procs[n] for n in names] if names is not None else list(self._procs.values())
        )
        pending = [p for p in wanted if not p.ready]
        last_error: dict[str, str] = {}
        deadline = time.monotonic() + wait
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
                    f"did not answer RPC at {proc.spec.rpc_address} within {wait:g} s"
                    f" (last error: {last_error.get(proc.name, 'none')})",
                    proc.log_tail(),
                )
            if pending:
                time.sleep(0.1)

    def stop(self, kinds: Sequence[Kind]) -> None:
        """Stop the processes of ``kinds``, kind by kind, in the order given.

        Each kind is asked politely (agents: SIGTERM; wallets and daemons: their
        stop RPC) and given its grace (:class:`~monerosim_core.timeouts.Timeouts`);
        what is left gets SIGTERM, then SIGKILL. Signals go to the recorded PIDs
        only; processes that already died are just reaped. Never raises for a
        process that misbehaves.

        If called again while running (from a signal handler during a stop in
        ``finally``), the inner call SIGKILLs what is left and returns: a second
        Ctrl-C means "now".
        """
        if self._stopping:
            for proc in self._procs.values():
                _signal(proc, signal.SIGKILL)
            return
        self._stopping = True
        try:
            for kind in kinds:
                _stop_politely([p for p in self.of_kind(kind) if p.alive])
        finally:
            self._stopping = False
            with contextlib.suppress(OSError):
                self._write_pids()

    def stop_one(self, name: str) -> None:
        """Stop one process as :meth:`stop` would (it can be started again after)."""
        proc = self._procs[name]
        if proc.alive:
            _stop_politely([proc])
        with contextlib.suppress(OSError):
            self._write_pids()

    def stop_all(self) -> None:
        """Stop every process this supervisor started (agents, wallets, daemons). Idempotent."""
        self.stop(STOP_ORDER)

    def kill_all(self) -> None:
        """SIGKILL everything still running and reap it: for when waiting is not an option."""
        for proc in self._procs.values():
            _signal(proc, signal.SIGKILL)
        _wait_exit(list(self._procs.values()), timeouts().signal_stop)

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
        write_pids(
            self.state_dir,
            [
                (p.name, p.kind, p.pid, p.spec.rpc_address, p.popen.returncode)
                for p in self._procs.values()
            ],
        )


def _probe(proc: ManagedProcess) -> bool:
    """Whether the process answers RPC now (RpcError: not yet)."""
    probe = timeouts().rpc_probe
    if isinstance(proc.spec, NodeSpec):
        with proc.daemon_client(timeout=probe) as daemon:
            # A monerod that started before ours is a stranger holding our port.
            return daemon.get_info().start_time >= proc.started_at - 5
    with proc.wallet_client(timeout=probe) as wallet:
        wallet.get_version()  # needs our random login: a stranger answers 401
        return True


def _ask_to_stop(proc: ManagedProcess) -> bool:
    """Ask the process to exit: stop RPC for daemons and wallets, SIGTERM for agents.
    False if the RPC was not accepted (e.g. wallet-rpc with no wallet open answers
    stop_wallet with an error, and one not ready yet cannot answer)."""
    if isinstance(proc.spec, AgentProcessSpec):
        _signal(proc, signal.SIGTERM)
        return True
    if not proc.ready:
        return False
    try:
        if isinstance(proc.spec, NodeSpec):
            with proc.daemon_client(timeout=timeouts().rpc_probe) as daemon:
                daemon.stop_daemon()
        else:
            with proc.wallet_client(timeout=timeouts().rpc_probe) as wallet:
                wallet.stop_wallet()
    except RpcError:
        return False
    return True


def _stop_politely(procs: Sequence[ManagedProcess]) -> None:
    """Ask ``procs`` (all of one kind) to exit, then SIGTERM, then SIGKILL what is left."""
    limits = timeouts()
    for proc in procs:
        if not _ask_to_stop(proc):
            _signal(proc, signal.SIGTERM)  # no point waiting for a refusal
    grace = limits.agent_stop if procs and procs[0].kind == "agent" else limits.daemon_stop
    _wait_exit(procs, grace)
    rest = [p for p in procs if p.alive]
    for proc in rest:
        _signal(proc, signal.SIGTERM)
    _wait_exit(rest, limits.signal_stop)
    for proc in rest:
        _signal(proc, signal.SIGKILL)
    _wait_exit(rest, limits.signal_stop)


def _signal(proc: ManagedProcess, sig: signal.Signals) -> None:
    # Popen.send_signal skips a process already reaped, so a recycled PID is safe.
    with contextlib.suppress(ProcessLookupError):
        proc.popen.send_signal(sig)


def _wait_exit(procs: Sequence[ManagedProcess], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while any(p.alive for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
