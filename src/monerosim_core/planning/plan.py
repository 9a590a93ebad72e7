"""Planning: from a validated scenario to agent ids, addresses and ports.

Agent ids depend only on the scenario (role and order), so every process of a run
derives the same id for the same config entry. Addresses come from the engine: the
local engine hands in free loopback ports; ``monerosim registry`` hands in a
fixed range so its output is stable.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from monerosim_core.config.model import (
    BlockControllerSpec,
    Role,
    Scenario,
    ScriptAgentSpec,
    UserAgentSpec,
)
from monerosim_core.config.sections import BLOCK_CONTROLLER_SCRIPT
from monerosim_core.planning.wallet_keys import wallet_keys
from monerosim_core.records.registry import Agent, Registry, build_miners

__all__ = ["BLOCK_CONTROLLER_ID", "BLOCK_CONTROLLER_SCRIPT", "AgentPlan", "Plan", "make_plan"]

# The one agent whose id does not come from a counter.
BLOCK_CONTROLLER_ID = "block-controller"

AgentSpec = UserAgentSpec | BlockControllerSpec | ScriptAgentSpec

_ROLE_PREFIX = {
    Role.MINER: "miner",
    Role.REGULAR_USER: "user",
    Role.MINER_DISTRIBUTOR: "distributor",
}


def node_process_name(agent_id: str) -> str:
    """The name of ``agent_id``'s monerod among the run's processes (logs, pids.json)."""
    return agent_id


def private_node_process_name(agent_id: str) -> str:
    """The name of the private monerod of a miner that may withhold blocks."""
    return f"{agent_id}-private"


def wallet_process_name(agent_id: str) -> str:
    """The name of ``agent_id``'s monero-wallet-rpc among the run's processes."""
    return f"{agent_id}-wallet"


def agent_process_name(agent_id: str) -> str:
    """The name of ``agent_id``'s own process (``monerosim agent``) among the run's processes."""
    return f"{agent_id}-agent"


@attrs.frozen
class AgentPlan:
    """One agent of the run: its registry entry, its config entry, its P2P port
    (and its private node's, for a miner that may withhold blocks)."""

    agent: Agent
    spec: AgentSpec
    p2p_port: int | None  # None for agents without a daemon
    private_p2p_port: int | None = None


@attrs.frozen
class Plan:
    scenario: Scenario
    agents: tuple[AgentPlan, ...]

    @property
    def solo_miner_threshold(self) -> float:
        bc = self.scenario.block_controller
        return bc.solo_miner_threshold if bc is not None else 0.0

    @property
    def nodes(self) -> tuple[AgentPlan, ...]:
        """The agents that run a monerod, in registry order."""
        return tuple(p for p in self.agents if p.agent.daemon_rpc_port is not None)

    def registry(self) -> Registry:
        agents = tuple(p.agent for p in self.agents)
        return Registry(agents=agents, miners=build_miners(agents, self.solo_miner_threshold))


def agent_specs(scenario: Scenario) -> dict[str, AgentSpec]:
    """Every agent id of the scenario mapped to its config entry, in a stable order."""
    specs: dict[str, AgentSpec] = {}
    counters: dict[str, int] = {}

    def next_id(prefix: str) -> str:
        counters[prefix] = counters.get(prefix, 0) + 1
        return f"{prefix}-{counters[prefix]:02d}"

    for user in scenario.user_agents:
        specs[next_id(_ROLE_PREFIX[user.role])] = user
    if scenario.block_controller is not None:
        specs[BLOCK_CONTROLLER_ID] = scenario.block_controller
    for script in scenario.script_agents:
        specs[next_id(script.kind.value.replace("_", "-"))] = script
    return specs


def withholding_agent_id(scenario: Scenario) -> str | None:
    """The agent id of the miner that may withhold blocks, if the scenario has one."""
    return next(
        (
            agent_id
            for agent_id, spec in agent_specs(scenario).items()
            if isinstance(spec, UserAgentSpec) and spec.may_withhold
        ),
        None,
    )


def ports_needed(scenario: Scenario) -> int:
    """How many ports :func:`make_plan` takes for ``scenario``."""
    return sum(
        (3 if spec.wallet else 2) + (2 if spec.may_withhold else 0) for spec in scenario.user_agents
    )


def make_plan(
    scenario: Scenario, ports: Iterator[int], *, seed: int | None, host: str = "127.0.0.1"
) -> Plan:
    """Assign addresses: each user agent gets P2P, daemon RPC and (with a wallet)
    wallet RPC ports on ``host``, and a miner that may withhold blocks two more for
    its private node; controller and scripts get none. With the run's
    ``seed``, each wallet's address is known (derived from the seed, see
    :mod:`.wallet_keys`); without it (a config without a seed, not run) it is None."""
    plans = []
    for agent_id, spec in agent_specs(scenario).items():
        if isinstance(spec, UserAgentSpec):
            p2p, rpc = next(ports), next(ports)
            wallet = next(ports) if spec.wallet else None
            private_rpc, private_p2p = (
                (next(ports), next(ports)) if spec.may_withhold else (None, None)
            )
            agent = Agent(
                id=agent_id,
                ip_addr=host,
                daemon_rpc_port=rpc,
                wallet_rpc_port=wallet,
                wallet_address=(
                    wallet_keys(seed, agent_id).address if wallet and seed is not None else None
                ),
                is_miner=spec.is_miner,
                hashrate=spec.hashrate,
                user_script=spec.user_script,
                attributes=dict(spec.raw_attributes),
                private_daemon_rpc_port=private_rpc,
            )
            plans.append(AgentPlan(agent, spec, p2p, private_p2p))
        else:
            agent = Agent(
                id=agent_id,
                ip_addr=host,
                daemon_rpc_port=None,
                wallet_rpc_port=None,
                wallet_address=None,
                is_miner=False,
                hashrate=0.0,
                user_script=spec.script,
                attributes={},
            )
            plans.append(AgentPlan(agent, spec, None))
    return Plan(scenario=scenario, agents=tuple(plans))
