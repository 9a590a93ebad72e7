"""The monerosim hook specifications: the contract between core and plugins.

A plugin is a module (or object) with functions decorated ``@monerosim_core.hookimpl``
and named after the specs below. It is published through the entry-point group
``monerosim`` (see :data:`monerosim_core.plugins.host.ENTRY_POINT_GROUP`); the entry
point's name is the **strategy name** a scenario uses to pick it, for example::

    [project.entry-points.monerosim]
    weighted = "monerosim_strategy_weighted"

Selection hooks are called on the one plugin the scenario named, never on all of
them, so a strategy plugin need not check whether it was meant. Every parameter
listed in a spec is passed by keyword; an implementation may accept any subset of
them and must not give its parameters default values (pluggy never uses them).

Randomness: strategies draw only from the ``rng`` they are given. It is seeded from
``general.seed``, so the same scenario and seed reproduce the same choices.

Mining behaviours (``attributes.mining_behaviour`` of a miner, default ``honest``)
are named the same way and implement the two ``monerosim_mining_*`` hooks. A
behaviour decides only; the block controller carries its decisions out on the
daemons (where a block is mined, which withheld blocks reach the other nodes) and
the daemons' own fork choice decides what the chain becomes. A behaviour that
leaves one of the two hooks out gets the honest answer for it.
"""

from __future__ import annotations

import enum
import random
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import pluggy

from monerosim_core.records.registry import Agent, Miner, Registry

PROJECT_NAME = "monerosim"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class SelectionError(Exception):
    """A strategy cannot make a sound choice and says why, instead of guessing.

    Raised by strategy implementations; callers report the message and skip the
    round (they never fall back silently to another strategy).
    """


class SelectionContext(Protocol):
    """What a selection hook may ask of the agent that calls it."""

    @property
    def state(self) -> MutableMapping[str, Any]:
        """Scratch space private to this strategy in this caller.

        It persists between calls of the same caller, so a stateful strategy
        (round-robin) can continue where it left off. It starts empty. Each hook a
        caller uses gets its own context, so miner and recipient selection by the
        same plugin never see each other's state.
        """

    def unlocked_balance(self, agent_id: str) -> int | None:
        """The unlocked balance of ``agent_id``'s wallet, in atomic units.

        Read from the real wallet (refreshed first) where the caller has wallets;
        ``None`` when it cannot be read (wallet unreachable, no wallet, or a caller
        without wallet access such as a unit test's stub).
        """


@hookspec(firstresult=True)
def monerosim_select_miner(
    candidates: Sequence[Miner], rng: random.Random, context: SelectionContext
) -> Miner | None:
    """Choose one miner among ``candidates``.

    Used by the block controller (who finds the next block) and the miner
    distributor (whose wallet pays the next transfer).

    :param candidates: the miners to choose from, non-empty, in registry order.
        ``Miner.weight`` is each one's selection probability among ALL miners of
        the scenario (candidates may be a subset when some are unreachable; a
        strategy that weighs should renormalise over the candidates).
    :param rng: the only source of randomness allowed.
    :param context: balances and per-caller state, see :class:`SelectionContext`.
    :return: one element of ``candidates``. ``None`` means "this plugin does not
        implement miner selection"; core reports that as a configuration error.
    :raises SelectionError: when no sound choice can be made (for example no
        balance could be read); the message is shown to the user.
    """


@hookspec(firstresult=True)
def monerosim_select_recipient(
    sender_id: str,
    candidates: Sequence[Agent],
    rng: random.Random,
    context: SelectionContext,
) -> Agent | None:
    """Choose who receives the next transfer from ``sender_id``.

    :param sender_id: the agent id of the paying wallet.
    :param candidates: agents with wallets, in registry order, never empty (a caller
        with nobody to pay skips the round). The caller has already removed the
        sender; a strategy must still never return it.
    :param rng: the only source of randomness allowed.
    :param context: per-caller state (and balances), see :class:`SelectionContext`.
    :return: one element of ``candidates``; ``None`` means "this plugin does not
        implement recipient selection", reported as a configuration error.
    :raises SelectionError: when no sound choice can be made.
    """


@hookspec(firstresult=True)
def monerosim_discover_agents(shared_dir: Path) -> Registry | None:
    """Find the agents and miners of the run whose shared state is ``shared_dir``.

    Called on every registered plugin, newest first, until one returns a
    ``Registry``. Core registers a reader of ``agent_registry.json`` and
    ``miners.json`` first, so it answers when no other plugin does. A plugin that
    answers must return a consistent snapshot (miners join agents by id).

    :param shared_dir: the run's private ``shared/`` directory.
    :return: the registry, or ``None`` to let the next plugin answer.
    :raises monerosim_core.plugins.discovery.AgentDiscoveryError: when the plugin is
        responsible for this run but its source is missing or malformed.
    """


class Parent(enum.Enum):
    """Which block a winning miner builds its block on."""

    PUBLIC = "public"  # the public chain's tip; in a tie, the branch the network saw first
    RIVAL = "rival"  # in a tie, the tip of the other branch (the withholding miner's)
    OWN = "own"  # the tip of the miner's own branch, withheld blocks included


class RaceEvent(enum.Enum):
    """Why a behaviour is asked what to publish."""

    WON = "won"  # this miner's new block just joined its branch, still withheld
    PUBLIC = "public"  # another miner's block just joined the public chain


@attrs.frozen
class RaceView:
    """One miner's position in the race between its own branch and the public chain.

    Counts are blocks since the fork point, the last block both share. A miner
    that withholds nothing has ``own == 0``, and then ``public == 0`` too (the fork
    point is the public tip).
    """

    own: int = 0  # this miner's blocks on its branch, published or not
    published: int = 0  # of those, the ones already public (always the oldest)
    public: int = 0  # other miners' blocks on the public chain since the fork point
    tie: bool = False  # the network is split between two public branches of equal length
    gamma: float = 0.0  # network.gamma: share of honest mining that takes the rival in a tie

    @property
    def withheld(self) -> int:
        return self.own - self.published

    @property
    def lead(self) -> int:
        """How many blocks the miner's branch is ahead of the public chain (< 0: behind)."""
        return self.own - self.public


@attrs.frozen
class Reveal:
    """What a miner does with its branch: publish its ``publish`` oldest withheld
    blocks (more than it withholds means all), or ``abandon`` it (its withheld
    blocks are never published; it mines on the public tip from now on)."""

    publish: int = 0
    abandon: bool = False


@hookspec(firstresult=True)
def monerosim_mining_parent(view: RaceView, rng: random.Random) -> Parent | None:
    """The block this miner, who won the next block, builds on.

    :param view: the miner's position before its block.
    :param rng: the only source of randomness allowed (seeded per run).
    :return: ``OWN`` continues its branch (without one it is the public tip);
        ``RIVAL`` outside a tie is taken as ``PUBLIC``. ``None``: not implemented
        here (the honest answer is used).
    """


@hookspec(firstresult=True)
def monerosim_mining_reveal(view: RaceView, event: RaceEvent, rng: random.Random) -> Reveal | None:
    """What this miner publishes now, or whether it gives up its branch.

    Asked of the winner after its block joined its branch (``WON``; the new block is
    counted in ``view.own``, withheld) and of a miner with a branch after another
    miner's block joined the public chain (``PUBLIC``). Published blocks go to
    every miner's node at once; the nodes then choose their chain themselves.

    :return: the decision; ``None``: not implemented here (the honest answer is used).
    """
