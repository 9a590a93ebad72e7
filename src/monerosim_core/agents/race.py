"""The race between a withholding miner's branch and the public chain, as a model.

The block controller keeps this model to know, for every block, which block each
choice of parent means and what a miner's position is (the :class:`RaceView` a
mining behaviour sees). It holds no daemon: the controller carries its steps out
on the nodes, and the nodes' own fork choice makes the chain. With only honest
miners the model is trivial: the fork point is always the public tip.

Terms: the **fork point** is the last block the withholding miner's branch and
the public chain share. ``own`` are the withholding miner's blocks after it (the
oldest ``published`` of them are public); ``public`` are the other miners' blocks
after it on the public chain. In a **tie** the withholding miner has published as
many blocks as the public chain holds: two public branches of equal length, of
which the network saw the honest one first (the withholding miner only ever
publishes in reaction to it).

Settling, after every step: when the published part of the branch is longer than
the public one, the network follows the branch (the public blocks since the fork
point are orphaned) and the fork point moves to the last published block; when
the branch is empty, the fork point is the public tip.
"""

from __future__ import annotations

import random

import attrs

from monerosim_core.plugins.behaviour import HONEST, MiningBehaviour
from monerosim_core.plugins.hookspecs import Parent, RaceEvent, RaceView


@attrs.frozen
class BlockRef:
    hash: str
    height: int


@attrs.define
class Race:
    fork: BlockRef
    gamma: float = 0.0
    own: list[BlockRef] = attrs.field(factory=list)
    published: int = 0
    public: list[BlockRef] = attrs.field(factory=list)

    @property
    def tie(self) -> bool:
        return 0 < self.published == len(self.public)

    @property
    def public_tip(self) -> BlockRef:
        """The tip most of the network mines on (in a tie, the one it saw first)."""
        return self.public[-1] if self.public else self.fork

    @property
    def withheld(self) -> list[BlockRef]:
        return self.own[self.published :]

    def view(self, *, withholding: bool) -> RaceView:
        """The position of the withholding miner, or of any other (who has no branch)."""
        if not withholding:
            return RaceView(tie=self.tie, gamma=self.gamma)
        return RaceView(
            own=len(self.own),
            published=self.published,
            public=len(self.public),
            tie=self.tie,
            gamma=self.gamma,
        )

    def parent_block(self, parent: Parent, *, withholding: bool) -> BlockRef:
        """The block a winner builds on. The withholding miner chooses between its
        branch (``OWN``; ``RIVAL`` is its own branch too) and the public tip; any
        other miner between the public tip and, in a tie, the rival branch."""
        if withholding:
            if parent is not Parent.PUBLIC and self.own:
                return self.own[-1]
            return self.public_tip
        if parent is Parent.RIVAL and self.tie:
            return self.own[self.published - 1]
        return self.public_tip

    def add_block(self, block: BlockRef, parent: BlockRef, *, withholding: bool) -> None:
        """``block``, just mined on ``parent`` (a block :meth:`parent_block` gave)."""
        if withholding:
            if self.own and parent == self.own[-1]:
                self.own.append(block)
            else:  # on the public tip: a new branch, the old one given up
                self.fork, self.own, self.published, self.public = parent, [block], 0, []
        elif self.tie and parent == self.own[self.published - 1]:
            # The rival branch, now longer, is what the network follows.
            self.fork = parent
            self.own = self.own[self.published :]
            self.published, self.public = 0, [block]
        else:
            self.public.append(block)
        self._settle()

    def reveal(self, count: int) -> list[BlockRef]:
        """Publish the ``count`` oldest withheld blocks (at most all); the blocks."""
        blocks = self.withheld[:count]
        self.published += len(blocks)
        self._settle()
        return blocks

    def abandon(self) -> list[BlockRef]:
        """Give the branch up; its blocks (orphaned, or never published)."""
        lost = self.own
        self.fork, self.own, self.published, self.public = self.public_tip, [], 0, []
        return lost

    def _settle(self) -> None:
        if self.published > len(self.public):
            self.fork = self.own[self.published - 1]
            self.own = self.own[self.published :]
            self.published, self.public = 0, []
        if not self.own:
            self.fork, self.public = self.public_tip, []


@attrs.frozen
class Reaction:
    """What the withholding miner did after a block: the blocks it published (to be
    handed to the network), or the branch it gave up."""

    published: tuple[BlockRef, ...] = ()
    abandoned: tuple[BlockRef, ...] = ()


@attrs.define
class Referee:
    """Asks the mining behaviours and moves the race: every decision of a block,
    without daemons. The block controller carries the decisions out on the nodes;
    :func:`monerosim_core.testing.simulate_race` uses the same referee on its own.

    ``behaviour`` is the withholding miner's (``None``: every miner is honest);
    every other miner is honest. ``rng`` is the only randomness of the decisions.
    """

    race: Race
    behaviour: MiningBehaviour | None
    rng: random.Random

    def parent(self, *, withholding: bool) -> BlockRef:
        """The block the winner builds on (``withholding``: the winner is the
        withholding miner)."""
        view = self.race.view(withholding=withholding)
        if withholding and self.behaviour is not None:
            choice = self.behaviour.parent(view, self.rng)
        else:
            choice = HONEST.monerosim_mining_parent(view, self.rng)
        return self.race.parent_block(choice, withholding=withholding)

    def after_block(self, *, withholder_won: bool) -> Reaction:
        """Once the block is in the race: the withholding miner's reaction."""
        if self.behaviour is None or (not withholder_won and not self.race.own):
            return Reaction()  # no branch: nothing to decide
        event = RaceEvent.WON if withholder_won else RaceEvent.PUBLIC
        reveal = self.behaviour.reveal(self.race.view(withholding=True), event, self.rng)
        if reveal.abandon:
            return Reaction(abandoned=tuple(self.race.abandon()))
        return Reaction(published=tuple(self.race.reveal(reveal.publish)))
