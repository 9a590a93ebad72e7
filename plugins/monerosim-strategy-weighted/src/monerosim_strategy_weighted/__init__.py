"""The ``weighted`` strategy: pick a miner with probability proportional to its hashrate.

Guarantees:

* Each candidate is chosen with probability ``hashrate / sum of the candidates'
  hashrates``: the weights are renormalised over the candidates given, so a subset
  (some miners unreachable) is still a proper distribution.
* A miner with hashrate 0 is never chosen, wherever it sits in the list.
* One ``rng.random()`` per draw and nothing else, so a seed reproduces the sequence.
* O(log n) per draw once the cumulative table for a candidate set exists. The table
  is kept in ``context.state`` for the last candidate set and rebuilt when the set
  (or any miner's hashrate) changes. Passing the same tuple object each time skips
  even the O(n) equality check.

Raises :class:`~monerosim_core.SelectionError` when the candidates' total hashrate is
0 (nobody can find a block) or a hashrate is negative or not finite.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence

import attrs

from monerosim_core import Miner, SelectionContext, SelectionError, hookimpl

__all__ = ["monerosim_select_miner"]

_STATE_KEY = "cumulative_table"


@attrs.frozen
class _CumulativeTable:
    """The cumulative hashrates of one candidate set, zero-hashrate miners left out.

    ``positions[i]`` is the index into the candidates of the i-th miner with a
    positive hashrate, and ``cumulative[i]`` the running total up to and including it.
    """

    candidates: tuple[Miner, ...]
    positions: tuple[int, ...]
    cumulative: tuple[float, ...]


def _build_table(candidates: tuple[Miner, ...]) -> _CumulativeTable:
    if not candidates:
        raise SelectionError("there are no candidate miners to choose from")
    positions: list[int] = []
    weights: list[float] = []
    for index, miner in enumerate(candidates):
        hashrate = float(miner.hashrate)
        if not math.isfinite(hashrate) or hashrate < 0:
            raise SelectionError(
                f"miner {miner.agent_id!r} has hashrate {miner.hashrate!r}; "
                "hashrates must be finite and not negative"
            )
        # Dropping zero weights (instead of keeping flat steps in the table) is what
        # makes "never choose a zero-hashrate miner" hold: the design document's scan
        # returns the first miner when the draw is exactly 0, whatever its hashrate.
        if hashrate > 0:
            positions.append(index)
            weights.append(hashrate)
    if not positions:
        names = ", ".join(repr(m.agent_id) for m in candidates)
        raise SelectionError(f"the candidate miners ({names}) have a total hashrate of 0")
    return _CumulativeTable(
        candidates=candidates,
        positions=tuple(positions),
        cumulative=tuple(itertools.accumulate(weights)),
    )


def _table_for(candidates: Sequence[Miner], context: SelectionContext) -> _CumulativeTable:
    cached = context.state.get(_STATE_KEY)
    if isinstance(cached, _CumulativeTable):
        # Identity first: the caller usually passes the same registry tuple, and a
        # tuple of frozen values cannot have changed since the table was built.
        if cached.candidates is candidates:
            return cached
        # Otherwise compare by value (Miner is frozen attrs, so equality covers id and
        # hashrate). Tuple equality short-cuts on identical elements, so re-wrapping
        # the same miners in a new list costs one C-level pass, not a rebuild.
        snapshot = tuple(candidates)
        if snapshot == cached.candidates:
            return cached
    else:
        snapshot = tuple(candidates)
    table = _build_table(snapshot)
    context.state[_STATE_KEY] = table
    return table


@hookimpl
def monerosim_select_miner(
    candidates: Sequence[Miner], rng: random.Random, context: SelectionContext
) -> Miner | None:
    table = _table_for(candidates, context)
    total = table.cumulative[-1]
    draw = rng.random() * total
    # The draw and the table's last entry are the same float, and random() < 1 keeps
    # the rounded product below it, so bisect_right stays in range. Capping ``hi``
    # anyway means a draw of exactly ``total`` (an rng subclass returning 1.0) goes to
    # the last miner with a positive hashrate instead of past the end. The design
    # document's scan gets this wrong twice: it compares against a total summed
    # separately (on 3.12+ sum() is compensated, so it can exceed the running
    # cumulative) and then falls back to the LAST miner, even one with hashrate 0.
    slot = bisect.bisect_right(table.cumulative, draw, 0, len(table.cumulative) - 1)
    # Index the sequence we were given, so the result is one of *these* candidates
    # even when the cached table was built from equal but distinct Miner objects.
    return candidates[table.positions[slot]]
