"""Agent discovery: how agents learn who else is in the network (the design's API)."""

from __future__ import annotations

from pathlib import Path

import attrs

from monerosim_core.planning.plan import BLOCK_CONTROLLER_SCRIPT
from monerosim_core.plugins.discovery import AgentDiscoveryError
from monerosim_core.plugins.host import Plugins
from monerosim_core.records.registry import Agent, Miner, Registry


@attrs.define
class AgentDiscovery:
    """The discovery API agents use (the mining design document's names).

    Every call asks the discovery hook, so changes to the registry are seen; the
    built-in plugin serves repeated calls from its cache while the files are
    unchanged.
    """

    shared_dir: Path
    plugins: Plugins

    def registry(self) -> Registry:
        registry = self.plugins.discover(self.shared_dir)
        if registry is None:
            raise AgentDiscoveryError(f"no discovery plugin answered for {self.shared_dir}")
        return registry

    def get_agent(self, agent_id: str) -> Agent:
        try:
            return self.registry().agent(agent_id)
        except KeyError:
            raise AgentDiscoveryError(f"agent {agent_id!r} is not in the registry") from None

    def get_miner_agents(self) -> list[Miner]:
        return list(self.registry().miners)

    def get_solo_miners(self) -> list[Miner]:
        return [m for m in self.registry().miners if m.is_solo_miner]

    def get_wallet_agents(self) -> list[Agent]:
        return [a for a in self.registry().agents if a.has_wallet]

    def get_block_controllers(self) -> list[Agent]:
        return [a for a in self.registry().agents if a.user_script == BLOCK_CONTROLLER_SCRIPT]

    def selection_probabilities(self) -> dict[str, float]:
        return {m.agent_id: m.weight for m in self.registry().miners}
