"""The exit codes of ``monerosim`` and of the processes it starts, defined once."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # an expected failure: a daemon, an agent or the run could not go on
    CONFIG = 2  # the configuration (or a name in it) is invalid
    INTERRUPTED = 130  # Ctrl-C / SIGTERM: stopped cleanly on request
