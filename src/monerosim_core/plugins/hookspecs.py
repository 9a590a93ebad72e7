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
"""

from __future__ import annotations

import random
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any, Protocol

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
