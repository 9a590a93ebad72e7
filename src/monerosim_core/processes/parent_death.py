"""Children that die with the run: the kernel signals them if their parent dies.

Used as ``preexec_fn`` for every process a run starts. Orderly shutdown stops
children by PID; this covers the one case no ``finally`` can: the parent being
killed with SIGKILL. (Linux only; elsewhere it does nothing.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys

_PR_SET_PDEATHSIG = 1


def terminate_with_parent() -> None:
    """In the child, before exec: ask for SIGTERM when the parent thread exits."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
