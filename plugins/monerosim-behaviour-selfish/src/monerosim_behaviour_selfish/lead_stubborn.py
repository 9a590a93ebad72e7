"""The ``lead_stubborn`` mining behaviour: Nayak et al.'s lead-stubborn mining (L).

Like selfish mining, but the pool never overrides: whenever the honest miners find
a block and it is not behind, it publishes just enough to tie the public chain and
keeps the rest of its lead private. It never publishes on winning a block, a tie
included. Behind, it gives its branch up.
"""

from __future__ import annotations

from monerosim_core import Parent, RaceEvent, RaceView, Reveal, hookimpl

__all__ = ["monerosim_mining_parent", "monerosim_mining_reveal"]


@hookimpl
def monerosim_mining_parent(view: RaceView) -> Parent:
    return Parent.OWN


@hookimpl
def monerosim_mining_reveal(view: RaceView, event: RaceEvent) -> Reveal:
    if event is RaceEvent.WON:
        return Reveal()
    if view.lead < 0:
        return Reveal(abandon=True)
    return Reveal(publish=view.public - view.published)
