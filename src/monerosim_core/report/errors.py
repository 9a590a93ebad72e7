"""The report's one error: a run directory it cannot read."""

from __future__ import annotations


class ReportError(Exception):
    """A run directory is missing a required file or holds one of the wrong shape.

    The message names the file (and the entry and field, where there is one), so the
    CLI can print it as is, without a traceback.
    """
