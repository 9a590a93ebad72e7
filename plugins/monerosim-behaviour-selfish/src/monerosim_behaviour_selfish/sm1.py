"""The ``selfish`` mining behaviour: Eyal and Sirer's SM1.

The pool keeps its blocks private and builds on its own branch. When the honest
miners find a block it reacts by how far ahead it is, counted after their block:

* behind: it gives its branch up and mines on the public chain;
* level (it was one ahead): it publishes everything, which makes a tie;
* one ahead (it was two ahead): it publishes everything and overrides them;
* further ahead: it publishes just enough to match the public chain.

When it wins a block during a tie in which it had nothing more in reserve (Eyal
and Sirer's state 0'), it publishes at once and wins the tie. With blocks in
reserve (a tie it made by matching while further ahead) it keeps the new one
private too: publishing would let the honest miners stop wasting their work.
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
        state_zero_prime = view.tie and view.withheld == 1  # the new block is all it holds
        return Reveal(publish=view.withheld if state_zero_prime else 0)
    if view.lead < 0:
        return Reveal(abandon=True)
    if view.lead <= 1:
        return Reveal(publish=view.withheld)
    return Reveal(publish=view.public - view.published)
