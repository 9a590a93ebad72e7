"""Agent discovery: how agents learn who else is in the network.

Agents never read the registry files directly; they ask :class:`AgentDiscovery`,
which asks the ``monerosim_discover_agents`` hook. The built-in answer comes from
:class:`RegistryFileDiscovery`, a plugin like any other, registered first so that
a research plugin can take over discovery by answering before it.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from monerosim_core.hookspecs import hookimpl
from monerosim_core.plugins import Plugins
from monerosim_core.registry import (
    AGENT_REGISTRY_FILE,
    MINER_REGISTRY_FILE,
    Agent,
    Miner,
    Registry,
    RegistryFormatError,
    read_registry,
)

BLOCK_CONTROLLER_SCRIPT = "agents.block_controller"


class AgentDiscoveryError(Exception):
    """The registry of a run is missing, malformed or empty where agents were expected."""


_Signature = tuple[tuple[int, int, int], ...]


@attrs.define(eq=False)  # a service: identity, not value (pluggy keeps plugins in sets)
class RegistryFileDiscovery:
    """Reads ``agent_registry.json`` + ``miners.json``, cached until either file changes."""

    _cache: dict[Path, tuple[_Signature, Registry]] = attrs.field(factory=dict)

    @hookimpl
    def monerosim_discover_agents(self, shared_dir: Path) -> Registry | None:
        signature = _signature(shared_dir)
        cached = self._cache.get(shared_dir)
        if cached is not None and cached[0] == signature:
            return cached[1]
        try:
            registry = read_registry(shared_dir)
        except (FileNotFoundError, RegistryFormatError) as exc:
            raise AgentDiscoveryError(f"cannot discover agents in {shared_dir}: {exc}") from None
        self._cache[shared_dir] = (signature, registry)
        return registry


def _signature(shared_dir: Path) -> _Signature:
    """What changes when a registry file is replaced (atomic writes change the inode)."""
    parts = []
    for name in (AGENT_REGISTRY_FILE, MINER_REGISTRY_FILE):
        try:
            st = os.stat(shared_dir / name)
        except FileNotFoundError:
            parts.append((0, 0, 0))
        else:
            parts.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(parts)


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
