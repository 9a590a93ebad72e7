"""The conductor: the one owner of simulated time on the local engine.

Every agent process connects to it over a Unix socket (:mod:`.protocol`) and, after
each action, asks to sleep until a simulated instant. The conductor advances time to
the earliest pending wake-up only when **every** agent is waiting, so an action takes
no simulated time however long it takes in wall time, and intervals are exact on a
loaded machine as on an idle one. The run goes as fast as the agents' actions allow;
``speed`` (simulated seconds per wall second) only caps the pace, for watching.

Agents due at one instant act together, except the ``leaders``: they act first and
alone, and the others wake at that instant once the leaders wait again. The engine
makes the block controller the leader, so the block due at T is mined from the
state before T, and a transfer sent at T goes into a later block, however the
machine schedules the processes (as under Shadow, where the transfer's own RPC
calls take simulated time).

Bounded and recorded: an agent busy longer than ``action_limit`` wall seconds is
:class:`AgentHung`; one whose connection closes mid-run is :class:`AgentLost`.
Both name the agent; the engine then stops the run cleanly.

The engine drives it from its main thread: :meth:`Conductor.step` in a loop until
:attr:`Conductor.finished`.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import time
from collections.abc import Iterable
from pathlib import Path

import attrs

from monerosim_core.simtime import protocol


class ConductorError(Exception):
    """Simulated time cannot go on: an agent hung, was lost, or never connected."""

    def __init__(self, agent_id: str, message: str) -> None:
        super().__init__(agent_id, message)
        self.agent_id = agent_id
        self.message = message

    def __str__(self) -> str:
        return self.message


class AgentHung(ConductorError):
    """An agent has been busy with one action for longer than the limit."""


class AgentLost(ConductorError):
    """An agent's connection closed while the run was going on (it exited or crashed)."""


class AgentMissing(ConductorError):
    """An agent did not connect in time at the start."""


@attrs.define
class _Peer:
    conn: socket.socket
    lines: protocol.LineBuffer = attrs.field(factory=protocol.LineBuffer)
    agent_id: str | None = None
    waiting_until: float | None = None  # None: busy with an action (or not started)
    busy_since: float = 0.0  # wall clock (monotonic) when the current action began
    done: bool = False


@attrs.define
class AgentTiming:
    """Wall time one agent spent in its actions (simulated time stood still meanwhile)."""

    actions: int = 0
    busy_wall: float = 0.0
    longest_action: float = 0.0


@attrs.define
class Conductor:
    """Simulated time for the agents ``expected``, from 0 to ``stop_time``.

    ``speed``: None for full pace, else the most simulated seconds per wall second.
    ``leaders``: agents that act alone, before the others, at an instant they share.
    """

    socket_path: Path
    expected: frozenset[str]
    stop_time: float
    speed: float | None
    action_limit: float
    start_limit: float
    leaders: frozenset[str] = frozenset()
    now: float = 0.0
    finished: bool = False
    started_wall: float | None = None  # time.time() at t=0
    finished_wall: float | None = None  # time.time() when the run ended
    advances: int = 0
    timing: dict[str, AgentTiming] = attrs.field(factory=dict)
    _listener: socket.socket = attrs.field(init=False)
    _selector: selectors.DefaultSelector = attrs.field(init=False)
    _peers: dict[socket.socket, _Peer] = attrs.field(factory=dict, init=False)
    _opened_at: float = attrs.field(init=False)
    _rejoining: dict[str, float] = attrs.field(factory=dict, init=False)  # id -> since

    def __attrs_post_init__(self) -> None:
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket file is created 0600: the owner only
        try:
            self._listener.bind(str(self.socket_path))
        finally:
            os.umask(old_umask)
        self._listener.listen(max(16, len(self.expected)))
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._opened_at = time.monotonic()

    # ------------------------------------------------------------------ driving it

    def step(self, timeout: float) -> None:
        """Handle what the agents sent (waiting up to ``timeout`` s), then advance
        time if every agent waits. Raises :class:`ConductorError` subclasses."""
        deadline = time.monotonic() + timeout
        while True:
            # Sleep in select until an agent speaks, the pace allows the next
            # advance, or the deadline: never spin (a spinning conductor takes a
            # core from the daemons it waits for).
            release = self._pace_release()
            wake = deadline if release is None else min(deadline, release)
            wait = max(0.0, wake - time.monotonic())
            for key, _ in self._selector.select(wait):
                if key.fileobj is self._listener:
                    self._accept()
                else:
                    self._read(self._peers[key.fileobj])  # type: ignore[index]
            self._check_limits()
            if self._try_advance() or time.monotonic() >= deadline or self.finished:
                return

    def expect_rejoin(self, agent_id: str) -> None:
        """A lost agent is being restarted: hold time until it connects again (within
        ``start_limit`` wall seconds, else :class:`AgentMissing`)."""
        self._rejoining[agent_id] = time.monotonic()

    def finish(self, at: float | None = None) -> None:
        """End the run (at ``stop_time``, or now when the engine is stopping): every
        waiting agent is told to stop."""
        if not self.finished:
            self.finished = True
            self.finished_wall = time.time()
            if at is not None:
                self.now = at
            for peer in self._live():
                if peer.waiting_until is not None:
                    self._answer(peer, stop=True)

    def close(self) -> None:
        """Close every connection and the socket (agents then see the conductor gone)."""
        for peer in list(self._peers.values()):
            self._drop(peer)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(self._listener)
        self._listener.close()
        self._selector.close()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    @property
    def pace(self) -> float | None:
        """Simulated seconds per wall second so far; None before t=0."""
        if self.started_wall is None:
            return None
        elapsed = (self.finished_wall or time.time()) - self.started_wall
        return self.now / elapsed if elapsed > 0 else None

    def waiting_for(self) -> list[str]:
        """The agents busy with an action right now (what time is waiting on)."""
        return sorted(p.agent_id for p in self._live() if p.waiting_until is None and p.agent_id)

    # ------------------------------------------------------------------ internals

    def _live(self) -> Iterable[_Peer]:
        return (p for p in self._peers.values() if p.agent_id is not None and not p.done)

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        self._peers[conn] = _Peer(conn, busy_since=time.monotonic())
        self._selector.register(conn, selectors.EVENT_READ)

    def _read(self, peer: _Peer) -> None:
        try:
            data = peer.conn.recv(protocol.MAX_LINE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._lost(peer)
            return
        try:
            for line in peer.lines.feed(data):
                self._handle(peer, protocol.decode(line))
        except protocol.ProtocolError as exc:
            name = peer.agent_id or "an unnamed agent"
            self._drop(peer)
            raise AgentLost(name, f"agent {name} spoke nonsense to the conductor: {exc}") from None

    def _handle(self, peer: _Peer, message: dict[str, object]) -> None:
        if protocol.HELLO in message:
            agent_id = str(message[protocol.HELLO])
            if agent_id not in self.expected:
                self._drop(peer)
                raise AgentLost(agent_id, f"unexpected agent {agent_id!r} joined the run")
            if self.started_wall is not None and agent_id not in self._rejoining:
                self._drop(peer)
                raise AgentLost(agent_id, f"agent {agent_id!r} joined the run twice")
            peer.agent_id = agent_id
            self.timing.setdefault(agent_id, AgentTiming())
            if agent_id in self._rejoining:
                # A restarted agent joins at the current time, as busy: its first
                # action (catching up) happens now.
                self._rejoining.pop(agent_id)
                self._answer(peer)
            else:
                peer.waiting_until = 0.0  # at the start barrier
        elif protocol.SLEEP_UNTIL in message:
            until = message[protocol.SLEEP_UNTIL]
            if isinstance(until, bool) or not isinstance(until, int | float) or until != until:
                raise protocol.ProtocolError(f"sleep_until {until!r} is not a time")
            self._end_action(peer)
            peer.waiting_until = max(float(until), self.now)
            if self.finished:
                self._answer(peer, stop=True)  # the run ended while it was busy
        elif protocol.DONE in message:
            self._end_action(peer)
            peer.done = True
        else:
            raise protocol.ProtocolError(f"unknown message {message}")

    def _end_action(self, peer: _Peer) -> None:
        if peer.agent_id is None:
            raise protocol.ProtocolError("a message before hello")
        if peer.waiting_until is None:
            busy = time.monotonic() - peer.busy_since
            t = self.timing[peer.agent_id]
            t.actions += 1
            t.busy_wall += busy
            t.longest_action = max(t.longest_action, busy)

    def _lost(self, peer: _Peer) -> None:
        self._drop(peer)
        if peer.done or self.finished or peer.agent_id is None:
            return
        raise AgentLost(
            peer.agent_id,
            f"agent {peer.agent_id} left the run at simulated {self.now:.3f} s "
            "without finishing (it exited or crashed)",
        )

    def _drop(self, peer: _Peer) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(peer.conn)
        peer.conn.close()
        self._peers.pop(peer.conn, None)

    def _check_limits(self) -> None:
        clock = time.monotonic()
        if self.started_wall is None:
            missing = self.expected - {p.agent_id for p in self._live()}
            if missing and clock - self._opened_at > self.start_limit:
                first = sorted(missing)[0]
                raise AgentMissing(
                    first,
                    f"agent(s) {', '.join(sorted(missing))} did not connect to the conductor "
                    f"within {self.start_limit:g} s",
                )
            return
        for agent_id, since in self._rejoining.items():
            if clock - since > self.start_limit:
                raise AgentMissing(
                    agent_id,
                    f"restarted agent {agent_id} did not rejoin within {self.start_limit:g} s",
                )
        for peer in self._live():
            if peer.waiting_until is None and clock - peer.busy_since > self.action_limit:
                assert peer.agent_id is not None
                raise AgentHung(
                    peer.agent_id,
                    f"agent {peer.agent_id} has been busy for over {self.action_limit:g} s "
                    f"of wall time at simulated {self.now:.3f} s (hung?)",
                )

    def _pace_release(self) -> float | None:
        """The monotonic clock at which ``speed`` lets the next advance happen; None
        when nothing holds it back but the agents (full pace, or one is busy)."""
        if self.speed is None or self.started_wall is None:
            return None
        upcoming = self._next_wake()
        if upcoming is None:
            return None
        target_wall = self.started_wall + min(upcoming, self.stop_time) / self.speed
        return time.monotonic() + max(0.0, target_wall - time.time())

    def _next_wake(self) -> float | None:
        peers = list(self._live())
        if self._rejoining or not peers or any(p.waiting_until is None for p in peers):
            return None
        return min(p.waiting_until for p in peers if p.waiting_until is not None)

    def _try_advance(self) -> bool:
        """Wake the agents due next, if everyone waits; True if time moved (or started)."""
        if self.finished:
            return False
        if self.started_wall is None:
            connected = {p.agent_id for p in self._live()}
            if connected != set(self.expected):
                return False
            self.started_wall = time.time()
            for peer in self._live():
                self._answer(peer)
            return True
        upcoming = self._next_wake()
        if upcoming is None:
            # Every agent has left (done: nothing more for it before stop_time), so
            # nothing else happens before stop_time.
            if not self._rejoining and not any(True for _ in self._live()):
                self.finish(at=self.stop_time)
                return True
            return False
        if upcoming >= self.stop_time:
            self.finish(at=self.stop_time)
            return True
        release = self._pace_release()
        if release is not None and release > time.monotonic():
            return False
        if upcoming > self.now:
            self.advances += 1
        self.now = upcoming
        due = [
            p for p in self._live() if p.waiting_until is not None and p.waiting_until <= upcoming
        ]
        leading = [p for p in due if p.agent_id in self.leaders]
        for peer in leading or due:
            self._answer(peer)
        return True

    def _answer(self, peer: _Peer, *, stop: bool = False) -> None:
        message: dict[str, object] = {protocol.NOW: self.now}
        if stop:
            message[protocol.STOP] = True
        peer.waiting_until = None
        peer.busy_since = time.monotonic()
        with contextlib.suppress(OSError):  # gone: its EOF is handled on the next read
            peer.conn.sendall(protocol.encode(message))
