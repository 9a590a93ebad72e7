"""The agent processes of a local run: start, watch, stop — by PID only.

Each agent runs as ``python -m monerosim_core.cli agent ID --run-dir DIR`` in its
own session (so a terminal Ctrl-C reaches only the engine, which then stops
them in order), with its output in ``logs/ID.log``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
import time

import attrs

from monerosim_core.agents.launch import runs_a_process
from monerosim_core.parent_death import terminate_with_parent
from monerosim_core.plan import Plan
from monerosim_core.rundir import RunDir, RunInfo

log = logging.getLogger("monerosim.engine")


@attrs.define
class AgentProcesses:
    run: RunDir
    procs: dict[str, subprocess.Popen[bytes]] = attrs.field(factory=dict)
    failed: list[str] = attrs.field(factory=list)

    def start(self, plan: Plan, info: RunInfo) -> None:
        solo = {m.agent_id for m in plan.registry().miners if m.is_solo_miner}
        for p in plan.agents:
            if not runs_a_process(p.spec, p.agent.id in solo):
                continue
            argv = [sys.executable, "-m", "monerosim_core.cli", "agent", p.agent.id]
            with open(self.log_path(p.agent.id), "ab") as out:
                self.procs[p.agent.id] = subprocess.Popen(
                    [*argv, "--run-dir", str(self.run.root)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=terminate_with_parent,
                )
        log.info("started %d agent processes: %s", len(self.procs), ", ".join(self.procs))

    def log_path(self, agent_id: str) -> str:
        return str(self.run.logs / f"{agent_id}.log")

    def log_tail(self, agent_id: str, lines: int = 15) -> str:
        try:
            with open(self.log_path(agent_id), encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def poll(self) -> list[str]:
        """Agents that exited with an error since the last poll (also kept in ``failed``)."""
        crashed = []
        for agent_id, proc in self.procs.items():
            code = proc.poll()
            if code not in (None, 0) and agent_id not in self.failed:
                self.failed.append(agent_id)
                crashed.append(agent_id)
                log.error(
                    "agent %s exited with code %s; last lines of its log:\n%s",
                    agent_id,
                    code,
                    self.log_tail(agent_id),
                )
        return crashed

    def wait_all(self, seconds: float) -> None:
        """Give agents ``seconds`` to reach the end of their loops by themselves."""
        deadline = time.monotonic() + seconds
        while any(p.poll() is None for p in self.procs.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.poll()

    def stop(self, grace: float) -> None:
        """SIGTERM the agents still running, SIGKILL any left after ``grace`` s, reap all."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        self.wait_all(grace)
        self.kill()

    def kill(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
