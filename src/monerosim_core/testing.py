"""A test kit for strategy plugins: a stub context, miner and agent factories, and a
loader that calls an installed strategy by name, exactly as the block controller and
the distributor do. ::

    from monerosim_core.testing import StubContext, load_strategy, make_miners

    def test_richest_wins():
        strategy = load_strategy("richest")          # the installed entry point
        miners = make_miners([50, 50])
        context = StubContext({"miner-01": 5, "miner-02": 9})
        assert strategy.select_miner(miners, context=context).agent_id == "miner-02"

Nothing here starts a daemon; balances are whatever the test gives.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

import attrs

from monerosim_core.config.model import SourcePos, StrategyRef
from monerosim_core.plugins.host import Plugins, get_plugin_manager
from monerosim_core.plugins.selection import StrategyContext
from monerosim_core.records.registry import Agent, Miner

__all__ = ["LoadedStrategy", "StubContext", "load_strategy", "make_agents", "make_miners"]

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


def _as_context(stub: StubContext | None) -> StrategyContext:
    """Core's context over a stub's balances and state (a fresh one without a stub)."""
    if stub is None:
        return StrategyContext()
    return StrategyContext(stub.unlocked_balance, stub.state)
