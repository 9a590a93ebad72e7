"""The agent and miner registries: who is in the network and how to reach them.

These are the values every part of a run shares. The planner writes them into
``shared/agent_registry.json`` and ``shared/miners.json``; discovery plugins read
them back; strategy hooks receive them as candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from monerosim_core.records.codec import RecordFormatError, decode, encode
from monerosim_core.records.files import RecordFileError, read_json, write_json_atomic
from monerosim_core.records.layout import AGENT_REGISTRY_FILE, MINER_REGISTRY_FILE


@attrs.frozen
class Agent:
    """One participant: a monerod, usually a wallet, and the script that drives it.

    ``hashrate`` is the configured percentage (0 for non-miners). ``attributes``
    holds the agent's remaining config attributes as strings, exactly as the
    scenario gave them after validation. A miner that may withhold blocks (a
    mining behaviour other than honest) also has a private node, peered with
    nobody, at ``private_daemon_rpc_port``: its withheld blocks are mined there.
    """

    id: str
    ip_addr: str
    daemon_rpc_port: int | None
    wallet_rpc_port: int | None
    wallet_address: str | None
    is_miner: bool
    hashrate: float
    user_script: str | None
    attributes: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    private_daemon_rpc_port: int | None = None

    @property
    def has_wallet(self) -> bool:
        return self.wallet_rpc_port is not None


@attrs.frozen
class Miner:
    """A miner as the block controller sees it.

    ``weight`` is the selection probability, hashrate / sum of all hashrates.
    ``is_solo_miner`` is true when the miner's share is under the solo threshold.
    """

    agent_id: str
    ip_addr: str
    wallet_address: str | None
    hashrate: float
    weight: float
    is_solo_miner: bool


@attrs.frozen
class Registry:
    """A consistent snapshot of both registries, joined by agent id."""

    agents: tuple[Agent, ...]
    miners: tuple[Miner, ...]

    def agent(self, agent_id: str) -> Agent:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise KeyError(agent_id)


class RegistryFormatError(ValueError):
    """A registry file exists but does not have the documented shape."""


def build_miners(agents: Iterable[Agent], solo_threshold: float) -> tuple[Miner, ...]:
    """Derive the miner registry from the agents: weights and solo flags."""
    miner_agents = [a for a in agents if a.is_miner]
    total = sum(a.hashrate for a in miner_agents)
    miners = []
    for agent in miner_agents:
        share = agent.hashrate / total if total > 0 else 0.0
        miners.append(
            Miner(
                agent_id=agent.id,
                ip_addr=agent.ip_addr,
                wallet_address=agent.wallet_address,
                hashrate=agent.hashrate,
                weight=share,
                is_solo_miner=share * 100.0 < solo_threshold,
            )
        )
    return tuple(miners)


def write_registry(shared_dir: Path, registry: Registry) -> None:
    """Write both registry files atomically (each is replaced whole)."""
    write_json_atomic(
        shared_dir / AGENT_REGISTRY_FILE, {"agents": [_agent_doc(a) for a in registry.agents]}
    )
    write_json_atomic(
        shared_dir / MINER_REGISTRY_FILE, {"miners": [encode(m) for m in registry.miners]}
    )


def _agent_doc(agent: Agent) -> dict[str, Any]:
    """The design's agent entry; the private node's port only for the miner that has one."""
    doc = encode(agent)
    if agent.private_daemon_rpc_port is None:
        del doc["private_daemon_rpc_port"]
    return doc


def read_registry(shared_dir: Path) -> Registry:
    """Read both registry files and join them by agent id.

    Raises ``FileNotFoundError`` when a file is missing and ``RegistryFormatError``
    (naming the file, the entry and the field) when one is malformed.
    """
    agents = tuple(_entries(shared_dir / AGENT_REGISTRY_FILE, "agents", Agent))
    miners = tuple(_entries(shared_dir / MINER_REGISTRY_FILE, "miners", Miner))
    known = {a.id for a in agents}
    for miner in miners:
        if miner.agent_id not in known:
            raise RegistryFormatError(
                f"{MINER_REGISTRY_FILE}: miner {miner.agent_id!r} has no entry in "
                f"{AGENT_REGISTRY_FILE}"
            )
    return Registry(agents=agents, miners=miners)


def _entries(path: Path, key: str, record_type: type[Any]) -> list[Any]:
    try:
        doc = read_json(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except RecordFileError as exc:
        raise RegistryFormatError(str(exc)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise RegistryFormatError(f'{path.name}: expected an object {{"{key}": [...]}}')
    try:
        return [decode(record_type, e, f"{path.name}: entry {i}") for i, e in enumerate(doc[key])]
    except RecordFormatError as exc:
        raise RegistryFormatError(str(exc)) from None
