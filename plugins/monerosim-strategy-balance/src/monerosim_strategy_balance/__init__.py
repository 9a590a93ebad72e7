"""The ``balance`` strategy: pay from the miner with the most unlocked funds.

Meant for the miner distributor, which needs a wallet that can actually pay.

Guarantees:

* The chosen miner has the highest ``context.unlocked_balance`` (atomic units) among
  the candidates whose balance could be read; candidates whose balance is ``None``
  (wallet unreachable) are skipped, never treated as 0 or as rich.
* Ties for the highest balance are broken with one ``rng.choice`` over the tied
  miners in candidate order, so a seed reproduces the choice and every tied miner
  can win. Without a tie the rng is not touched.
* It never guesses: when no balance can be read at all, or every readable balance
  is 0, it raises :class:`~monerosim_core.SelectionError` saying which, instead of
  returning a miner that cannot pay.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from monerosim_core import Miner, SelectionContext, SelectionError, hookimpl

__all__ = ["monerosim_select_miner"]


def _names(miners: Sequence[Miner]) -> str:
    return ", ".join(repr(m.agent_id) for m in miners)


@hookimpl
def monerosim_select_miner(
    candidates: Sequence[Miner], rng: random.Random, context: SelectionContext
) -> Miner | None:
    if not candidates:
        raise SelectionError("there are no candidate miners to choose from")
    best = 0
    richest: list[Miner] = []
    empty: list[Miner] = []
    unreadable: list[Miner] = []
    for miner in candidates:
        # Each read may be an RPC round trip (refresh + get_balance), so read once.
        balance = context.unlocked_balance(miner.agent_id)
        if balance is None:
            unreadable.append(miner)
        elif balance <= 0:
            empty.append(miner)
        elif balance > best:
            best, richest = balance, [miner]
        elif balance == best:
            richest.append(miner)
    if not richest and not empty:
        raise SelectionError(
            f"could not read the unlocked balance of any candidate miner ({_names(candidates)})"
        )
    if not richest:
        raise SelectionError(
            f"no miner has unlocked funds (balance 0: {_names(empty)}"
            + (f"; unreadable: {_names(unreadable)})" if unreadable else ")")
        )
    if len(richest) == 1:
        return richest[0]
    return rng.choice(richest)
