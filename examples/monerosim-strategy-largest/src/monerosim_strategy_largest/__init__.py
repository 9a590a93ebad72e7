"""The largest pool finds every block (ties broken by the seeded rng)."""

import random
from collections.abc import Sequence

from monerosim_core import Miner, SelectionContext, hookimpl


@hookimpl
def monerosim_select_miner(
    candidates: Sequence[Miner], rng: random.Random, context: SelectionContext
) -> Miner:
    top = max(m.hashrate for m in candidates)
    return rng.choice([m for m in candidates if m.hashrate == top])
