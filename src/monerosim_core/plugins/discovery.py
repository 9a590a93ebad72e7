"""The built-in discovery plugin: the registry files of the run.

Agents never read the registry files directly; they ask
:class:`~monerosim_core.agents.discovery.AgentDiscovery`, which asks the
``monerosim_discover_agents`` hook. The built-in answer comes from
:class:`RegistryFileDiscovery`, a plugin like any other, registered first so that
a research plugin can take over discovery by answering before it.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from monerosim_core.plugins.hookspecs import hookimpl
from monerosim_core.records.layout import AGENT_REGISTRY_FILE, MINER_REGISTRY_FILE
from monerosim_core.records.registry import Registry, RegistryFormatError, read_registry


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
