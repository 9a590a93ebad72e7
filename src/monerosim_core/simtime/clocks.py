"""The clocks agents read simulated time from.

An agent sees one interface, :class:`SimClock`: ``now()`` and ``sleep_until(t)``.
Actions take no simulated time: between two sleeps ``now()`` does not move, however
long the action takes in wall time.

* :class:`ConductorClock` (local engine): asks the run's conductor
  (:mod:`monerosim_core.simtime.conductor`), which advances time only when every
  agent waits, so simulated intervals are exact whatever the machine's load.
* :class:`ProcessClock` (Shadow engine): the process clock, which Shadow itself
  simulates; ``now()`` is seconds since the run's simulated start.
* :class:`FixedClock`: time that never moves, for code run outside simulated time
  (the bootstrap, tests).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Protocol

import attrs

from monerosim_core.simtime import protocol

POLL = 0.2  # seconds between looks at the stop flag while waiting for the conductor


class SimClock(Protocol):
    def now(self) -> float:
        """Simulated seconds since the run's t=0."""

    def sleep_until(self, sim_time: float) -> bool:
        """Wait until ``sim_time``; False when the run ends first or the agent must stop."""

    def close(self) -> None:
        """Leave: the agent has nothing more to do."""


class ConductorLost(Exception):
    """The conductor closed the connection or answered nonsense (the engine is gone)."""


@attrs.define
class ConductorClock:
    """Simulated time from the conductor at ``path``, for agent ``agent_id``.

    :meth:`connect` blocks until every agent of the run has connected (the start
    barrier), so every agent starts at t=0 together.
    """

    path: Path
    agent_id: str
    stop: threading.Event
    _sock: socket.socket | None = None
    _lines: protocol.LineBuffer = attrs.field(factory=protocol.LineBuffer)
    _now: float = 0.0
    _over: bool = False

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(self.path))
        sock.settimeout(POLL)
        self._sock = sock
        self._send({protocol.HELLO: self.agent_id})
        self._receive()

    def now(self) -> float:
        return self._now

    def sleep_until(self, sim_time: float) -> bool:
        if self._over or self.stop.is_set():
            return False
        self._send({protocol.SLEEP_UNTIL: sim_time})
        return self._receive()

    def close(self) -> None:
        if self._sock is None:
            return
        try:
            if not self._over:
                self._send({protocol.DONE: True})
        except ConductorLost:
            pass  # nothing to tell a conductor that is gone
        finally:
            self._sock.close()
            self._sock = None

    def _send(self, message: dict[str, object]) -> None:
        assert self._sock is not None, "connect() first"
        try:
            self._sock.sendall(protocol.encode(message))
        except OSError as exc:
            raise ConductorLost(f"the conductor at {self.path} is gone ({exc})") from None

    def _receive(self) -> bool:
        """Wait for the conductor's answer; False if the run is over or we must stop."""
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(protocol.MAX_LINE)
            except TimeoutError:
                if self.stop.is_set():
                    return False
                continue
            except OSError as exc:
                raise ConductorLost(f"the conductor at {self.path} is gone ({exc})") from None
            if not data:
                raise ConductorLost(f"the conductor at {self.path} closed the connection")
            lines = self._lines.feed(data)
            if lines:
                answer = protocol.decode(lines[-1])
                try:
                    self._now = float(answer[protocol.NOW])
                except (KeyError, TypeError, ValueError):
                    raise ConductorLost(f"unexpected answer from the conductor: {answer}") from None
                self._over = bool(answer.get(protocol.STOP, False))
                return not self._over


@attrs.define
class ProcessClock:
    """The process's own clock, counted from ``epoch`` (Unix seconds at simulated t=0).

    Under Shadow the process clock is simulated, so sleeping is exact.
    """

    epoch: float
    stop: threading.Event
    stop_time: float

    def now(self) -> float:
        return time.time() - self.epoch

    def sleep_until(self, sim_time: float) -> bool:
        target = min(sim_time, self.stop_time)
        delay = target - self.now()
        if delay > 0 and self.stop.wait(delay):
            return False
        return not self.stop.is_set() and sim_time < self.stop_time

    def close(self) -> None:
        pass


@attrs.define
class FixedClock:
    """Time standing still at ``at``: sleeping is refused."""

    at: float = 0.0

    def now(self) -> float:
        return self.at

    def sleep_until(self, sim_time: float) -> bool:
        return False

    def close(self) -> None:
        pass
