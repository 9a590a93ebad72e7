"""Reproducible randomness: every random choice of a run flows from one seed.

Each (agent, purpose) pair gets its own ``random.Random``, seeded from the run seed
with a string (Python hashes string seeds with SHA-512, stable across processes
and versions), so one agent's draws never shift another's.
"""

from __future__ import annotations

import enum
import random
import secrets


class RngPurpose(enum.Enum):
    """What a random stream is for. The values are part of the seed string: changing
    one changes every run's draws for that purpose."""

    BOOTSTRAP_SELECTION = "bootstrap-selection"  # winners of the bootstrap blocks
    MINER_SELECTION = "miner-selection"  # winners of blocks / paying miners
    RECIPIENT_SELECTION = "recipient-selection"
    BLOCK_TIMES = "block-times"  # exponential block spacing
    AMOUNTS = "amounts"  # transfer amounts, users' first turn
    MINING_BEHAVIOUR = "mining-behaviour"  # mining behaviours' choices (gamma in a tie)
    PEERING = "peering"  # which nodes dial which (random peering)


def new_run_seed() -> int:
    """A seed for a scenario that gives none; the run records it for replay."""
    return secrets.randbits(63)


def rng_for(seed: int, agent_id: str, purpose: RngPurpose) -> random.Random:
    return random.Random(f"monerosim/{seed}/{agent_id}/{purpose.value}")
