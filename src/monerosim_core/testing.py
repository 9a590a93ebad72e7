"""A test kit for plugins: a stub context, miner and agent factories, a loader that
calls an installed strategy by name, exactly as the block controller and the
distributor do, and for mining behaviours a loader and :func:`simulate_race`. ::

    from monerosim_core.testing import StubContext, load_strategy, make_miners

    def test_richest_wins():
        strategy = load_strategy("richest")          # the installed entry point
        miners = make_miners([50, 50])
        context = StubContext({"miner-01": 5, "miner-02": 9})
        assert strategy.select_miner(miners, context=context).agent_id == "miner-02"

Nothing here starts a daemon; balances are whatever the test gives.
:func:`simulate_race` runs a behaviour through the block controller's own race
model (:mod:`monerosim_core.agents.race`), so thousands of blocks take a second and
the result can be held against theory before a run on real daemons.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

import attrs

from monerosim_core.agents.race import BlockRef, Race, Referee
from monerosim_core.config.model import SourcePos, StrategyRef
from monerosim_core.plugins.behaviour import MiningBehaviour
from monerosim_core.plugins.host import Plugins, get_plugin_manager
from monerosim_core.plugins.selection import StrategyContext
from monerosim_core.records.registry import Agent, Miner

__all__ = [
    "LoadedStrategy",
    "RaceOutcome",
    "StubContext",
    "load_behaviour",
    "load_strategy",
    "make_agents",
    "make_miners",
    "simulate_race",
]

_TEST_POS = SourcePos("<test>", 1, 1)


@attrs.define
class StubContext:
    """A :class:`~monerosim_core.SelectionContext` with balances fixed by the test.

    ``reads`` lists every agent id whose balance the strategy asked for, in order.
    """

    balances: Mapping[str, int | None] = attrs.field(factory=dict)
    state: MutableMapping[str, Any] = attrs.field(factory=dict)
    reads: list[str] = attrs.field(factory=list)

    def unlocked_balance(self, agent_id: str) -> int | None:
        self.reads.append(agent_id)
        return self.balances.get(agent_id)


def make_miners(
    hashrates: Sequence[float],
    prefix: str = "miner",
    *,
    ids: Sequence[str] | None = None,
    solo_threshold: float = 0.0,
) -> tuple[Miner, ...]:
    """Miners with these hashrates (percent) and the weights and solo flags the
    registry would give them, named ``ids`` or ``{prefix}-01``, ``{prefix}-02``..."""
    total = sum(hashrates)
    names = (
        list(ids)
        if ids is not None
        else [f"{prefix}-{i:02d}" for i in range(1, 1 + len(hashrates))]
    )
    if len(names) != len(hashrates):
        raise ValueError("make_miners: one id per hashrate")
    return tuple(
        Miner(
            agent_id=name,
            ip_addr="127.0.0.1",
            wallet_address=None,
            hashrate=h,
            weight=h / total if total else 0.0,
            is_solo_miner=total > 0 and 100.0 * h / total < solo_threshold,
        )
        for name, h in zip(names, hashrates, strict=True)
    )


def make_agents(ids: Iterable[str], *, wallets: bool = True) -> tuple[Agent, ...]:
    """Agents with these ids, each with a daemon and (``wallets``) a wallet."""
    return tuple(
        Agent(
            id=agent_id,
            ip_addr="127.0.0.1",
            daemon_rpc_port=18081,
            wallet_rpc_port=18082 if wallets else None,
            wallet_address=None,
            is_miner=False,
            hashrate=0.0,
            user_script=None,
        )
        for agent_id in ids
    )


@attrs.define
class LoadedStrategy:
    """One strategy reached through the plugin host, as core reaches it."""

    name: str
    plugins: Plugins

    def select_miner(
        self,
        candidates: Sequence[Miner],
        *,
        rng: random.Random | None = None,
        context: StubContext | None = None,
    ) -> Miner:
        selector = self.plugins.miner_selector(
            self._ref(), rng or random.Random(0), _as_context(context)
        )
        return selector.select(candidates)

    def select_recipient(
        self,
        sender_id: str,
        candidates: Sequence[Agent],
        *,
        rng: random.Random | None = None,
        context: StubContext | None = None,
    ) -> Agent:
        selector = self.plugins.recipient_selector(
            self._ref(), rng or random.Random(0), _as_context(context)
        )
        return selector.select(candidates, sender_id=sender_id)

    def _ref(self) -> StrategyRef:
        return StrategyRef(self.name, f"strategy {self.name!r}", _TEST_POS)


def load_strategy(name: str, plugin: object | None = None) -> LoadedStrategy:
    """The strategy ``name``: the installed entry point, or ``plugin`` registered by hand
    (then no entry point is loaded, so the test does not depend on what is installed).

    :raises monerosim_core.config.ConfigError: when no usable strategy has that name,
        with the message a user would see.
    """
    if plugin is None:
        plugins = get_plugin_manager(autoload=True)
    else:
        plugins = get_plugin_manager(autoload=False)
        plugins.register(plugin, name)
    return LoadedStrategy(name, plugins)


def load_behaviour(name: str, plugin: object | None = None) -> MiningBehaviour:
    """The mining behaviour ``name`` as the block controller calls it: the installed
    entry point, or ``plugin`` registered by hand (then no entry point is loaded).

    :raises monerosim_core.config.ConfigError: when no behaviour has that name.
    """
    if plugin is None:
        plugins = get_plugin_manager(autoload=True)
    else:
        plugins = get_plugin_manager(autoload=False)
        plugins.register(plugin, name)
    return plugins.mining_behaviour(StrategyRef(name, f"behaviour {name!r}", _TEST_POS))


@attrs.frozen
class RaceOutcome:
    """Where the blocks of a simulated race ended."""

    blocks: int  # mined in all
    main_chain: int  # on the final public chain
    withholder_on_chain: int  # of those, the withholding miner's
    withheld_at_end: int  # still withheld when the race stopped (neither won nor lost)

    @property
    def relative_revenue(self) -> float:
        """The withholding miner's share of the main chain (Eyal and Sirer's R)."""
        return self.withholder_on_chain / self.main_chain if self.main_chain else 0.0


def simulate_race(
    behaviour: MiningBehaviour, *, alpha: float, gamma: float, blocks: int, seed: int
) -> RaceOutcome:
    """``blocks`` blocks between a withholding miner with share ``alpha`` of the
    hashrate and honest miners, decided by the controller's referee, each winner
    drawn with the miners' weights. The main chain is the public chain at the end."""
    draws = random.Random(f"race/{seed}/winners")
    genesis = BlockRef("genesis", 0)
    referee = Referee(Race(genesis, gamma=gamma), behaviour, random.Random(f"race/{seed}"))
    parent_of: dict[str, str] = {}
    withholders: set[str] = set()
    for number in range(blocks):
        withholding = draws.random() < alpha
        parent = referee.parent(withholding=withholding)
        block = BlockRef(f"b{number}", parent.height + 1)
        parent_of[block.hash] = parent.hash
        if withholding:
            withholders.add(block.hash)
        referee.race.add_block(block, parent, withholding=withholding)
        referee.after_block(withholder_won=withholding)
    chain = []
    cursor = referee.race.public_tip.hash
    while cursor != genesis.hash:
        chain.append(cursor)
        cursor = parent_of[cursor]
    return RaceOutcome(
        blocks=blocks,
        main_chain=len(chain),
        withholder_on_chain=sum(1 for h in chain if h in withholders),
        withheld_at_end=len(referee.race.withheld),
    )


def _as_context(stub: StubContext | None) -> StrategyContext:
    """Core's context over a stub's balances and state (a fresh one without a stub)."""
    if stub is None:
        return StrategyContext()
    return StrategyContext(stub.unlocked_balance, stub.state)
