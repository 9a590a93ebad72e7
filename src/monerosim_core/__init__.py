"""monerosim: simulate a Monero proof-of-work network with real regtest daemons.

This module is the plugin API: everything a strategy or mining behaviour plugin
needs. ::

    from monerosim_core import Miner, SelectionContext, hookimpl

    @hookimpl
    def monerosim_select_miner(candidates, rng, context):
        return max(candidates, key=lambda m: m.hashrate)

The hook specifications, with every parameter documented, are in
:mod:`monerosim_core.plugins.hookspecs`; :mod:`monerosim_core.testing` has a stub
context, miner and agent factories, a loader for testing a strategy by name, and
:func:`~monerosim_core.testing.simulate_race` for trying a mining behaviour on the
controller's race model without daemons.
"""

from __future__ import annotations

from monerosim_core.plugins.hookspecs import (
    Parent,
    RaceEvent,
    RaceView,
    Reveal,
    SelectionContext,
    SelectionError,
    hookimpl,
)
from monerosim_core.records.registry import Agent, Miner, Registry

__all__ = [
    "Agent",
    "Miner",
    "Parent",
    "RaceEvent",
    "RaceView",
    "Registry",
    "Reveal",
    "SelectionContext",
    "SelectionError",
    "hookimpl",
]
