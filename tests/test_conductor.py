"""The conductor owns simulated time: exact whatever the agents' wall-clock speed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from monerosim_core.simtime.clocks import ConductorClock, ConductorLost
from monerosim_core.simtime.conductor import (
    AgentHung,
    AgentLost,
    AgentMissing,
    Conductor,
    ConductorError,
)


@attrs.define
class Driven:
    """A conductor stepped by a background thread, as the engine's loop does."""

    conductor: Conductor
    error: ConductorError | None = None
    thread: threading.Thread | None = None

    def start(self) -> None:
        def loop() -> None:
            try:
                while not self.conductor.finished:
                    self.conductor.step(0.05)
            except ConductorError as exc:
                self.error = exc

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 30.0) -> None:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the conductor did not finish"


@pytest.fixture
def make_conductor(tmp_path: Path) -> Iterator[Callable[..., Driven]]:
    made: list[Driven] = []

    def make(
        agents: list[str], stop_time: float, leaders: frozenset[str] = frozenset(), **options: float
    ) -> Driven:
        conductor = Conductor(
            socket_path=tmp_path / f"c{len(made)}.sock",
            expected=frozenset(agents),
            stop_time=stop_time,
            speed=options.get("speed"),
            action_limit=options.get("action_limit") or 30.0,
            start_limit=options.get("start_limit") or 30.0,
            leaders=leaders,
        )
        driven = Driven(conductor)
        made.append(driven)
        driven.start()
        return driven

    yield make
    for driven in made:
        driven.conductor.finish()
        driven.join()  # the driver thread stops stepping before the socket closes
        driven.conductor.close()


def periodic_agent(
    driven: Driven,
    agent_id: str,
    period: float,
    work: float,
    seen: list[tuple[float, str]],
    *,
    log_end: bool = False,
) -> threading.Thread:
    """An agent acting every ``period`` simulated seconds, each action taking ``work``
    wall seconds; it records the simulated time of each action (and, with
    ``log_end``, its end, as ``"<agent_id> done"``)."""

    def run() -> None:
        clock = ConductorClock(driven.conductor.socket_path, agent_id, threading.Event())
        try:
            clock.connect()
            next_time = clock.now()
            while True:
                seen.append((clock.now(), agent_id))
                time.sleep(work)
                if log_end:
                    seen.append((clock.now(), f"{agent_id} done"))
                next_time += period
                if not clock.sleep_until(next_time):
                    break
        except ConductorLost:
            pass  # the test is over and closed the conductor
        clock.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_time_is_exact_and_waits_for_a_slow_agent(make_conductor: Callable[..., Driven]) -> None:
    driven = make_conductor(["fast", "slow"], stop_time=100.0)
    seen: list[tuple[float, str]] = []
    started = time.monotonic()
    threads = [
        periodic_agent(driven, "fast", 10.0, 0.0, seen),
        periodic_agent(driven, "slow", 25.0, 0.2, seen),  # 0.2 wall s per action
    ]
    driven.join()
    for t in threads:
        t.join(10)
    assert driven.error is None
    fast = [t for t, a in seen if a == "fast"]
    slow = [t for t, a in seen if a == "slow"]
    assert fast == [10.0 * i for i in range(10)]  # exact, to the bit
    assert slow == [0.0, 25.0, 50.0, 75.0]
    # Time never ran ahead of the slow agent: its 4 actions took >= 0.8 wall s.
    assert time.monotonic() - started >= 0.8
    # Every action of one instant happened before any action of a later instant.
    assert [t for t, _ in seen] == sorted(t for t, _ in seen)
    assert driven.conductor.now == 100.0
    assert driven.conductor.timing["slow"].actions == 4
    assert driven.conductor.timing["slow"].busy_wall >= 0.8


def test_a_leader_acts_alone_before_the_others_at_a_shared_instant(
    make_conductor: Callable[..., Driven],
) -> None:
    """The block controller's rule: at an instant it shares with others, it acts
    first and alone, however long it takes and however the threads are scheduled."""
    driven = make_conductor(
        ["controller", "user"], stop_time=50.0, leaders=frozenset({"controller"})
    )
    seen: list[tuple[float, str]] = []
    threads = [
        periodic_agent(driven, "controller", 10.0, 0.1, seen, log_end=True),
        periodic_agent(driven, "user", 5.0, 0.0, seen),
    ]
    driven.join()
    for t in threads:
        t.join(10)
    assert driven.error is None
    shared = [10.0 * i for i in range(5)]
    for instant in shared[1:]:  # t=0 is the start barrier, where everyone starts together
        at = [who for t, who in seen if t == instant]
        assert at == ["controller", "controller done", "user"], (instant, at)
    assert [t for t, who in seen if who == "user"] == [5.0 * i for i in range(10)]
    assert driven.conductor.advances == 9  # 5, 10, ..., 45: the follower's turn is no advance


def test_the_conductor_sleeps_while_an_agent_is_busy(
    make_conductor: Callable[..., Driven],
) -> None:
    # A conductor that polled its socket while an agent works would take a core
    # from the daemons that agent waits for (it did: 0.27 CPU s per block).
    driven = make_conductor(["worker"], stop_time=20.0)
    selector = driven.conductor._selector
    polls = 0
    select = selector.select

    def counted(timeout: float | None = None) -> list[tuple[object, int]]:
        nonlocal polls
        polls += 1
        return select(timeout)

    selector.select = counted  # type: ignore[method-assign]
    seen: list[tuple[float, str]] = []
    agent = periodic_agent(driven, "worker", 10.0, 0.5, seen)  # 2 actions of 0.5 wall s
    driven.join()
    agent.join(10)
    assert driven.error is None
    assert [t for t, _ in seen] == [0.0, 10.0]
    # 1 wall s of work at 0.05 s per step: ~20 waits, and a few for the messages.
    assert polls < 100, f"{polls} polls in 1 s of waiting"


def test_speed_caps_the_pace(make_conductor: Callable[..., Driven]) -> None:
    driven = make_conductor(["a"], stop_time=50.0, speed=100.0)
    started = time.monotonic()
    thread = periodic_agent(driven, "a", 5.0, 0.0, [])
    driven.join()
    thread.join(10)
    assert driven.error is None
    assert time.monotonic() - started >= 50.0 / 100.0 * 0.9


def test_an_agent_that_dies_mid_run_is_named(make_conductor: Callable[..., Driven]) -> None:
    driven = make_conductor(["steady", "doomed"], stop_time=1000.0)
    steady = periodic_agent(driven, "steady", 10.0, 0.0, [])
    clock = ConductorClock(driven.conductor.socket_path, "doomed", threading.Event())
    clock.connect()
    assert clock.sleep_until(30.0)
    clock._sock.close()  # type: ignore[union-attr]  # dies without a word
    driven.join()
    assert isinstance(driven.error, AgentLost)
    assert driven.error.agent_id == "doomed"
    assert "at simulated 30.000 s" in str(driven.error)
    # What the engine does next: the others are told to stop, now or when they ask.
    driven.conductor.finish()
    deadline = time.monotonic() + 10
    while steady.is_alive() and time.monotonic() < deadline:
        driven.conductor.step(0.05)
    assert not steady.is_alive()


def test_an_agent_busy_too_long_is_reported_as_hung(make_conductor: Callable[..., Driven]) -> None:
    driven = make_conductor(["stuck"], stop_time=100.0, action_limit=0.3)
    periodic_agent(driven, "stuck", 10.0, 2.0, [])
    driven.join()
    assert isinstance(driven.error, AgentHung)
    assert driven.error.agent_id == "stuck"
    assert "busy for over 0.3 s" in str(driven.error)


def test_an_agent_that_never_connects_is_reported(make_conductor: Callable[..., Driven]) -> None:
    driven = make_conductor(["here", "absent"], stop_time=100.0, start_limit=0.3)
    periodic_agent(driven, "here", 10.0, 0.0, [])
    driven.join()
    assert isinstance(driven.error, AgentMissing)
    assert driven.error.agent_id == "absent"


def test_an_agent_that_leaves_early_does_not_stop_time(
    make_conductor: Callable[..., Driven],
) -> None:
    driven = make_conductor(["stays", "leaves"], stop_time=40.0)
    seen: list[tuple[float, str]] = []
    stays = periodic_agent(driven, "stays", 10.0, 0.0, seen)
    clock = ConductorClock(driven.conductor.socket_path, "leaves", threading.Event())
    clock.connect()
    clock.close()  # nothing to do: says done and goes
    driven.join()
    stays.join(10)
    assert driven.error is None
    assert [t for t, _ in seen] == [0.0, 10.0, 20.0, 30.0]


def test_the_socket_is_private(make_conductor: Callable[..., Driven]) -> None:
    driven = make_conductor(["a"], stop_time=1.0)
    assert driven.conductor.socket_path.stat().st_mode & 0o077 == 0
    driven.conductor.finish()


def test_time_waits_for_a_restarted_agent_and_goes_on_with_it(
    make_conductor: Callable[..., Driven],
) -> None:
    driven = make_conductor(["steady", "phoenix"], stop_time=100.0)
    seen: list[tuple[float, str]] = []
    periodic_agent(driven, "steady", 10.0, 0.0, seen)
    first = ConductorClock(driven.conductor.socket_path, "phoenix", threading.Event())
    first.connect()
    assert first.sleep_until(20.0)
    first._sock.close()  # type: ignore[union-attr]  # dies mid-action at t=20
    driven.join()
    assert isinstance(driven.error, AgentLost) and driven.error.agent_id == "phoenix"

    # What the engine does: expect it back, keep stepping; time must not move.
    driven.conductor.expect_rejoin("phoenix")
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        driven.conductor.step(0.05)
    assert driven.conductor.now == 20.0
    again = ConductorClock(driven.conductor.socket_path, "phoenix", threading.Event())
    joined = threading.Thread(target=again.connect)
    joined.start()
    while joined.is_alive():
        driven.conductor.step(0.05)
    assert again.now() == 20.0  # it joins at the current time
    driven.error, driven.thread = None, None
    driven.start()
    assert again.sleep_until(50.0) and again.now() == 50.0
    again.close()
    driven.join()
    assert driven.error is None
    assert [t for t, _ in seen] == [10.0 * k for k in range(10)]
