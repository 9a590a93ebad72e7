"""The ``random`` strategy: a uniform choice, for miners and for transfer recipients.

Guarantees:

* Miner selection: every candidate is equally likely, whatever its hashrate.
* Recipient selection: every candidate other than the sender is equally likely, and
  the sender is never returned. The caller is documented to remove the sender
  already; this strategy filters again rather than trust that, because paying
  oneself is a silent no-op transfer that would skew the run's statistics.
* All randomness comes from the ``rng`` passed in (one ``rng.choice`` per call), so a
  seed reproduces the sequence.

Raises :class:`~monerosim_core.SelectionError` when no candidate is left to choose
(recipient selection where the only candidate is the sender).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from monerosim_core import Agent, Miner, SelectionContext, SelectionError, hookimpl

__all__ = ["monerosim_select_miner", "monerosim_select_recipient"]


@hookimpl
def monerosim_select_miner(
    candidates: Sequence[Miner], rng: random.Random, context: SelectionContext
) -> Miner | None:
    if not candidates:
        raise SelectionError("there are no candidate miners to choose from")
    return rng.choice(candidates)


@hookimpl
def monerosim_select_recipient(
    sender_id: str,
    candidates: Sequence[Agent],
    rng: random.Random,
    context: SelectionContext,
) -> Agent | None:
    eligible = [agent for agent in candidates if agent.id != sender_id]
    if not eligible:
        why = "the sender is the only candidate" if candidates else "there are no candidates"
        raise SelectionError(f"no recipient for a transfer from {sender_id!r}: {why}")
    return rng.choice(eligible)
