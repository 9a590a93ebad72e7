"""Named points where tests (and RELIABILITY.md's experiments) can hold a process still.

``MONEROSIM_FAULT_PAUSE=NAME:SECONDS:MARKER`` makes a process that reaches the point
``NAME`` create the file ``MARKER`` and sleep ``SECONDS``, so a test can see it is
there and kill it exactly at that point, for example between mining a block and
recording it. Once the marker exists, no process pauses again (a restarted process
goes through). Unset, as always outside such tests, a point costs one lookup.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_ENV = "MONEROSIM_FAULT_PAUSE"


def pause(point: str) -> None:
    """Pause here if ``MONEROSIM_FAULT_PAUSE`` names this point and its marker is absent."""
    setting = os.environ.get(PAUSE_ENV)
    if not setting:
        return
    name, seconds, marker = [*setting.split(":", 2), "", ""][:3]
    if name != point or not marker:
        return
    try:
        Path(marker).touch(exist_ok=False)
    except FileExistsError:
        return
    time.sleep(float(seconds or "0"))
