"""``monerosim run --engine shadow``: write the simulation, run Shadow, report.

Shadow runs as this process's child, in its own session, signalled by the kernel
if this process dies (as the local engine's daemons are), and recorded in
``pids.json``. Its log goes to ``logs/shadow.log``; while it runs, a progress line
shows simulated time (from Shadow's heartbeats) and the journals' tallies. Ctrl-C
or SIGTERM stops Shadow, which takes every simulated process with it.

Afterwards the processes' output is copied from ``shadow.data`` into ``logs/``
under the local engine's names (``ID.log`` for an agent, ``ID.console.log`` for a
monerod, ``ID-wallet.console.log`` for a wallet-rpc), block propagation is read
from the nodes' logs, ``run.json`` and ``timing.json`` are completed, and the
report is written as on the local engine. Shadow's exit status says whether every
process ended as expected; when not, its log names the processes.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import attrs

from monerosim_core.engine.progress import Progress
from monerosim_core.engine.shadow.placement import ENGINE_HOST
from monerosim_core.engine.shadow.propagation import record_propagation
from monerosim_core.engine.shadow.simulation import Simulation, Step, Variant, write_simulation
from monerosim_core.exit_codes import ExitCode
from monerosim_core.planning.plan import wallet_process_name
from monerosim_core.processes.leftovers import write_pids
from monerosim_core.processes.parent_death import terminate_with_parent
from monerosim_core.records.schema import Timing
from monerosim_core.report import ReportError, render_terminal, write_report

log = logging.getLogger("monerosim.shadow")

DEFAULT_SHADOW = Path("/opt/shadow/bin/shadow")
SHADOW_LOG = "shadow.log"
DAEMON_BINARIES = ("monerod", "monero-wallet-rpc")
STOP_GRACE = 30.0  # wall seconds Shadow gets to stop after SIGTERM
# Shadow's heartbeat: "... Process resource usage at simtime 60001012000 reported ..."
_SIMTIME = re.compile(rb"at simtime (\d+)")
# Shadow's verdict on a process: "Error: process 'HOST.EXE.PID' exited with status
# Normal(1); expected end state was exited: 0 but was exited: 1"
_PROCESS_FAILURE = re.compile(
    r"^Error: process '(?P<host>[^']+?)\.(?P<exe>[^']+)\.\d+' .*? but was (?P<actual>.+)$",
    re.MULTILINE,
)
_SHOWN_FAILURES = 10


class ShadowMissing(Exception):
    """Shadow (or a daemon it must run) is not installed."""


def find_shadow(given: Path | None = None) -> Path:
    """The Shadow binary: ``given``, else /opt/shadow/bin/shadow, else ``shadow`` on PATH."""
    if given is not None:
        if given.is_file() and os.access(given, os.X_OK):
            return given
        raise ShadowMissing(f"{given} is not an executable Shadow binary")
    if DEFAULT_SHADOW.is_file() and os.access(DEFAULT_SHADOW, os.X_OK):
        return DEFAULT_SHADOW
    found = shutil.which("shadow")
    if found is None:
        raise ShadowMissing(
            "Shadow is not installed (looked for /opt/shadow/bin/shadow and 'shadow' on PATH); "
            "build it with the kit (shared/tools/install-shadow /opt/shadow) or as "
            "https://shadow.github.io/docs/guide/install_shadow.html says, or pass --shadow PATH; "
            "'monerosim shadow CONFIG -o DIR' writes the simulation without running it"
        )
    return Path(found)


def check_daemons_installed() -> None:
    missing = [b for b in DAEMON_BINARIES if shutil.which(b) is None]
    if missing:
        raise ShadowMissing(
            f"not installed: {', '.join(missing)} (Debian/Ubuntu package 'monero'); "
            "Shadow runs them"
        )


def run_shadow(
    config: Path,
    *,
    run_dir: Path,
    seed: int | None = None,
    variant: Variant = Variant.STOCK,
    shadow: Path | None = None,
    progress: str = "auto",
) -> int:
    """Run ``config`` under Shadow; the process exit code."""
    binary = find_shadow(shadow)
    check_daemons_installed()
    started = time.monotonic()
    simulation = write_simulation(config, run_dir, seed=seed, variant=variant)
    for warning in simulation.placement.plan.scenario.warnings:
        print(f"monerosim: warning: {warning}", file=sys.stderr)
    print(f"monerosim: run directory {simulation.run.root}", file=sys.stderr)
    written = time.monotonic() - started
    return ShadowRun(simulation, binary, Progress.choose(progress), written).execute()


@attrs.define
class ShadowRun:
    simulation: Simulation
    binary: Path
    progress: Progress
    write_wall: float  # wall seconds writing the simulation took
    interrupted: bool = False
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.simulation.run.logs / SHADOW_LOG

    def execute(self) -> int:
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, self._on_signal)
        try:
            started = time.monotonic()
            returncode = self._simulate()
            wall = time.monotonic() - started
        finally:
            self._stop_shadow()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        collect_logs(self.simulation)
        record_propagation(self.simulation.run, self.simulation.nodes)
        return self._finish(returncode, wall)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self.interrupted:
            print("\nmonerosim: interrupted; stopping Shadow...", file=sys.stderr)
        self.interrupted = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def _simulate(self) -> int:
        sim = self.simulation
        with self.log_path.open("wb") as out:
            self._proc = subprocess.Popen(
                [str(self.binary), str(sim.config)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=sim.directory, start_new_session=True, preexec_fn=terminate_with_parent,
            )  # fmt: skip
        write_pids(sim.run.root, [("shadow", "shadow", self._proc.pid, "-", None)])
        self.progress.begin(sim.run, sim.placement.plan)
        clock = _ShadowClock(self.log_path)
        started = time.monotonic()
        while self._proc.poll() is None:
            time.sleep(self.progress.period)
            now = clock.read() - sim.timeline.t0
            wall = time.monotonic() - started
            self.progress.update(now, now / wall if now > 0 else None, [])
        stop_time = sim.timeline.stop_time
        self.progress.end(stop_time, stop_time / max(time.monotonic() - started, 1e-9))
        write_pids(sim.run.root, [("shadow", "shadow", self._proc.pid, "-", self._proc.returncode)])
        return self._proc.returncode

    def _stop_shadow(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _finish(self, returncode: int, wall: float) -> int:
        run = self.simulation.run
        info = run.read_info()
        failure = None
        if self.interrupted:
            reason, code = "interrupted", ExitCode.INTERRUPTED
        elif returncode != 0:
            reason, code = "failed", ExitCode.FAILED
            failure = (
                f"Shadow exited with {returncode}, {self.failures()} "
                f"(their logs: {self.simulation.run.logs})"
            )
        else:
            reason, code = info.end_reason or "failed", ExitCode.OK
            if info.end_reason is None:
                code = ExitCode.FAILED
                failure = "the final state was not recorded (see logs/shadow-final-state.log)"
        run.update_info(ended_wall=time.time(), end_reason=reason, failure=failure)
        stop_time = self.simulation.timeline.stop_time
        run.write_timing(
            Timing(
                phases={"write": round(self.write_wall, 3), "simulation": round(wall, 3)},
                pace=round(stop_time / wall, 3) if wall > 0 else None,
            )
        )
        if failure is not None:
            print(f"monerosim: error: {failure}", file=sys.stderr)
        try:
            report = write_report(run.root)
        except ReportError as exc:
            print(f"monerosim: could not write the report: {exc}", file=sys.stderr)
            return int(ExitCode.FAILED)
        print(render_terminal(report))
        print(f"report: {run.report / 'summary.md'}")
        return int(code)

    def failures(self) -> str:
        """Which processes Shadow says did not end as expected, in one line."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"no log ({exc})"
        found = [
            f"{m['host']} {'monerosim' if m['exe'].startswith('python') else m['exe']} "
            f"{m['actual']}"
            for m in _PROCESS_FAILURE.finditer(text)
        ]
        if not found:
            return "see its log"
        shown = "; ".join(found[:_SHOWN_FAILURES])
        more = f" and {len(found) - _SHOWN_FAILURES} more" if len(found) > _SHOWN_FAILURES else ""
        return f"processes that did not end as expected: {shown}{more}"


@attrs.define
class _ShadowClock:
    """Shadow's simulated seconds, as far as its log has told (heartbeats)."""

    path: Path
    _offset: int = 0
    _seconds: float = 0.0

    def read(self) -> float:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return self._seconds
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        for match in _SIMTIME.finditer(chunk[:complete]):
            self._seconds = max(self._seconds, int(match[1]) / 1e9)
        return self._seconds


def collect_logs(simulation: Simulation) -> None:
    """Copy every simulated process's output into ``logs/`` under the local engine's
    names: the agents' (their log is on stderr), the daemons' console output, and
    the engine's steps'."""
    logs = simulation.run.logs
    for host, outputs in _outputs(simulation.data_directory / "hosts"):
        if host == ENGINE_HOST:
            pythons = [o for o in outputs if o[0].startswith("python")]
            names = [f"shadow-{step.value}" for step in Step]
            for (_exe, files), name in zip(pythons, names, strict=False):
                _concatenate(files, logs / f"{name}.log")
            continue
        for exe, files in outputs:
            if exe == "monerod":
                _concatenate(files, logs / f"{host}.console.log")
            elif exe == "monero-wallet-rpc":
                _concatenate(files, logs / f"{wallet_process_name(host)}.console.log")
            elif exe.startswith("python"):
                _concatenate(files, simulation.run.log_path(host))


def _outputs(hosts_dir: Path) -> Iterator[tuple[str, list[tuple[str, list[Path]]]]]:
    """Per host, its processes in start order as (executable, [stdout, stderr])."""
    if not hosts_dir.is_dir():
        return
    for host_dir in sorted(hosts_dir.iterdir()):
        by_pid: dict[int, tuple[str, list[Path]]] = {}
        for path in host_dir.iterdir():
            parts = path.name.rsplit(".", 2)
            if len(parts) != 3 or parts[2] not in ("stdout", "stderr") or not parts[1].isdigit():
                continue
            exe, pid = parts[0], int(parts[1])
            by_pid.setdefault(pid, (exe, []))[1].append(path)
        yield host_dir.name, [by_pid[pid] for pid in sorted(by_pid)]


def _concatenate(files: list[Path], target: Path) -> None:
    with target.open("wb") as out:
        for path in sorted(files, key=lambda p: p.suffix != ".stdout"):  # stdout first
            out.write(path.read_bytes())
