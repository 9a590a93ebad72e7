"""Which strategy each agent uses, with the defaults filled in, and checking them
(mining behaviours included: they are plugins named the same way).

Defaults: the block controller and the distributor's miner choice are
``weighted``; recipient choice is ``random``. A default is attributed to the
config entry that implied it, so an error about a missing default plugin still
points at the right place in the file.
"""

from __future__ import annotations

from monerosim_core.config import ConfigError, ConfigProblem
from monerosim_core.config.model import (
    BlockControllerSpec,
    Role,
    Scenario,
    ScriptAgentSpec,
    StrategyRef,
    UserAgentSpec,
)
from monerosim_core.plugins.host import MINER_HOOK, RECIPIENT_HOOK, Plugins

DEFAULT_MINER_STRATEGY = "weighted"
DEFAULT_RECIPIENT_STRATEGY = "random"


def controller_strategy(spec: BlockControllerSpec) -> StrategyRef:
    return spec.strategy or StrategyRef(
        DEFAULT_MINER_STRATEGY, "agents.block_controller.arguments --strategy", spec.pos
    )


def miner_strategy(spec: UserAgentSpec) -> StrategyRef:
    return spec.miner_selection_strategy or StrategyRef(
        DEFAULT_MINER_STRATEGY,
        f"agents.user_agents[{spec.index}].attributes.miner_selection_strategy",
        spec.pos,
    )


def recipient_strategy(spec: UserAgentSpec) -> StrategyRef:
    return spec.recipient_selection or StrategyRef(
        DEFAULT_RECIPIENT_STRATEGY,
        f"agents.user_agents[{spec.index}].attributes.recipient_selection",
        spec.pos,
    )


def strategies_of(
    spec: UserAgentSpec | BlockControllerSpec | ScriptAgentSpec, is_solo_miner: bool
) -> dict[str, StrategyRef]:
    """The strategies an agent will use, by hook name (empty for agents that choose nothing)."""
    if isinstance(spec, BlockControllerSpec):
        return {MINER_HOOK: controller_strategy(spec)}
    if isinstance(spec, ScriptAgentSpec):
        return {}
    if spec.role is Role.MINER_DISTRIBUTOR:
        return {MINER_HOOK: miner_strategy(spec), RECIPIENT_HOOK: recipient_strategy(spec)}
    if spec.role is Role.REGULAR_USER or is_solo_miner:
        return {RECIPIENT_HOOK: recipient_strategy(spec)}
    return {}


def check_strategies(scenario: Scenario, solo_ids: set[int], plugins: Plugins) -> None:
    """Raise one :class:`ConfigError` listing every strategy that cannot be used.

    ``solo_ids`` are the ``index`` values of the user agents that are solo miners.
    """
    problems: list[ConfigProblem] = []
    specs: list[UserAgentSpec | BlockControllerSpec] = list(scenario.user_agents)
    if scenario.block_controller is not None:
        specs.append(scenario.block_controller)
    for spec in specs:
        solo = isinstance(spec, UserAgentSpec) and spec.index in solo_ids
        for hook, ref in strategies_of(spec, solo).items():
            try:
                plugins.check(hook, ref)
            except ConfigError as exc:
                problems.extend(exc.problems)
        if isinstance(spec, UserAgentSpec) and spec.mining_behaviour is not None:
            try:
                plugins.mining_behaviour(spec.mining_behaviour)
            except ConfigError as exc:
                problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
