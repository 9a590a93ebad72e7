"""The ``round_robin`` strategy: transfer recipients in turn, ordered by agent id.

Guarantees:

* The order is the candidates sorted by ``Agent.id`` (plain string order, so
  ``user10`` sorts before ``user2``; zero-padded ids sort numerically). It does not
  depend on registry order, so it is the same in every process of a run.
* Each call returns the first candidate after the previously chosen id, wrapping
  around, that is not the sender. With a fixed sender and candidate set, one cycle
  visits every other agent exactly once.
* The last chosen id is kept in ``context.state``. When the candidate set changes
  between calls (agents join, leave or become unreachable) the walk continues from
  where that id sits in the new sorted order, even if it is no longer a candidate,
  rather than restarting at the first agent.
* The sender is never returned, even if the caller left it among the candidates.
* No randomness: the ``rng`` is accepted (it is part of the hook) and never used.

Raises :class:`~monerosim_core.SelectionError` when no candidate other than the
sender exists.
"""

from __future__ import annotations

import bisect
import operator
import random
from collections.abc import Sequence

from monerosim_core import Agent, SelectionContext, SelectionError, hookimpl

__all__ = ["monerosim_select_recipient"]

_LAST_ID = "last_recipient_id"
_by_id = operator.attrgetter("id")


@hookimpl
def monerosim_select_recipient(
    sender_id: str,
    candidates: Sequence[Agent],
    rng: random.Random,
    context: SelectionContext,
) -> Agent | None:
    # Sorting per call (O(n log n)) is what lets the candidate set change freely
    # between calls; recipient lists are small next to an RPC transfer's cost.
    ordered = sorted(candidates, key=_by_id)
    last = context.state.get(_LAST_ID)
    # bisect_right places us just past ``last`` whether or not it is still a candidate.
    start = bisect.bisect_right(ordered, last, key=_by_id) if isinstance(last, str) else 0
    for step in range(len(ordered)):
        agent = ordered[(start + step) % len(ordered)]
        if agent.id != sender_id:
            context.state[_LAST_ID] = agent.id
            return agent
    why = "the sender is the only candidate" if candidates else "there are no candidates"
    raise SelectionError(f"no recipient for a transfer from {sender_id!r}: {why}")
