"""Simulated time on the local engine.

All agents of a run share one clock: simulated time is ``(wall - epoch) * speed``,
with the epoch and speed recorded in ``run.json``. Sleeping for a simulated
duration sleeps ``duration / speed`` wall seconds, waking early when the agent is
asked to stop.
"""

from __future__ import annotations

import threading
import time

import attrs


@attrs.frozen
class Clock:
    epoch_wall: float
    speed: float

    def now(self) -> float:
        """Simulated seconds since the epoch."""
        return (time.time() - self.epoch_wall) * self.speed

    def wall_at(self, sim_time: float) -> float:
        return self.epoch_wall + sim_time / self.speed

    def sleep_until(self, sim_time: float, stop: threading.Event) -> bool:
        """Sleep until ``sim_time``; False if ``stop`` was set first."""
        delay = self.wall_at(sim_time) - time.time()
        if delay <= 0:
            return not stop.is_set()
        return not stop.wait(delay)
