"""What goes wrong in a config file, and the log the loader collects it in.

The loader never stops at the first mistake: every reader appends to one
:class:`ProblemLog`, and only :func:`monerosim_core.config.load_scenario` turns a
non-empty log into a :class:`ConfigError`, so a researcher sees every mistake of
a file at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs

from monerosim_core.config.model import SourcePos


@attrs.frozen
class ConfigProblem:
    """One mistake (or warning) in a config file.

    ``pos`` is where the offending value is written (the enclosing mapping when a
    key is missing); ``None`` only when the file itself cannot be read. ``key`` is
    the dotted path of the value, e.g. ``agents.user_agents[2].attributes.hashrate``.
    """

    pos: SourcePos | None
    key: str
    message: str

    def __str__(self) -> str:
        head = [str(self.pos)] if self.pos is not None else []
        if self.key:
            head.append(self.key)
        return ": ".join([*head, self.message])


def _reading_order(problem: ConfigProblem) -> tuple[int, int]:
    return (0, 0) if problem.pos is None else (problem.pos.line, problem.pos.col)


class ConfigError(Exception):
    """A config file cannot be loaded; ``str()`` lists every problem, one per line."""

    problems: list[ConfigProblem]

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        # Sorted by position so the list reads top to bottom like the file,
        # whatever order the sections were checked in.
        self.problems = sorted(problems, key=_reading_order)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


@attrs.define
class ProblemLog:
    """Problems and warnings found while reading one file."""

    problems: list[ConfigProblem] = attrs.Factory(list)
    warnings: list[ConfigProblem] = attrs.Factory(list)

    def error(self, pos: SourcePos | None, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(pos, key, message))

    def warn(self, pos: SourcePos | None, key: str, message: str) -> None:
        self.warnings.append(ConfigProblem(pos, key, message))


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """A "did you mean 'X'?" hint when ``word`` is close to one ``known`` name, else ''."""
    # Lowercased so "Hashrate" or "STOP_TIME" still find their key.
    lowered = {name.lower(): name for name in known}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean '{lowered[close[0]]}'?" if close else ""
