"""Mining behaviours: the built-in honest one, and calling the one a miner names.

A behaviour is a plugin implementing ``monerosim_mining_parent`` and
``monerosim_mining_reveal`` (see :mod:`.hookspecs`). :class:`MiningBehaviour` is a
behaviour bound by name, as the block controller uses it: it calls only the named
plugin, falls back to the honest answer for a hook that plugin leaves out, and
refuses an answer of the wrong type with the plugin's name in the message.
"""

from __future__ import annotations

import random
from typing import Any

import attrs

from monerosim_core.plugins.hookspecs import Parent, RaceEvent, RaceView, Reveal, hookimpl


class BehaviourError(Exception):
    """A mining behaviour answered something the controller cannot carry out."""


class HonestMining:
    """Mine on the public tip, publish at once, never fork.

    In a tie (another miner published a branch as long as the public one) an
    honest miner builds on that rival branch with probability ``gamma``: Eyal and
    Sirer's share of honest mining that sees the rival's block first.
    """

    @hookimpl
    def monerosim_mining_parent(self, view: RaceView, rng: random.Random) -> Parent:
        if view.tie and rng.random() < view.gamma:
            return Parent.RIVAL
        return Parent.PUBLIC

    @hookimpl
    def monerosim_mining_reveal(self, view: RaceView) -> Reveal:
        return Reveal(publish=view.withheld)


HONEST = HonestMining()


@attrs.frozen
class MiningBehaviour:
    """The behaviour ``name``, bound to its plugin's hook callers."""

    name: str
    _parent: Any  # pluggy subset hook callers holding only the named plugin
    _reveal: Any

    def parent(self, view: RaceView, rng: random.Random) -> Parent:
        answer = self._parent(view=view, rng=rng)
        if answer is None:
            answer = HONEST.monerosim_mining_parent(view, rng)
        if not isinstance(answer, Parent):
            raise BehaviourError(
                f"mining behaviour {self.name!r} answered {answer!r} for the parent, not a Parent"
            )
        if answer is Parent.RIVAL and not view.tie:
            return Parent.PUBLIC
        return answer

    def reveal(self, view: RaceView, event: RaceEvent, rng: random.Random) -> Reveal:
        answer = self._reveal(view=view, event=event, rng=rng)
        if answer is None:
            answer = HONEST.monerosim_mining_reveal(view)
        if not isinstance(answer, Reveal) or answer.publish < 0:
            raise BehaviourError(
                f"mining behaviour {self.name!r} answered {answer!r} for what to publish, "
                "not a Reveal with publish >= 0"
            )
        return answer
