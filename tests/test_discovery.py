"""Agent discovery through the hook: the registry reader, its cache, its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monerosim_core import hookimpl
from monerosim_core.agents.discovery import AgentDiscovery
from monerosim_core.plugins.discovery import AgentDiscoveryError
from monerosim_core.plugins.host import get_plugin_manager
from monerosim_core.records.registry import Agent, Registry, build_miners, write_registry


def agent(agent_id: str, hashrate: float = 0.0, script: str | None = None) -> Agent:
    return Agent(
        id=agent_id,
        ip_addr="127.0.0.1",
        daemon_rpc_port=None if script else 30000,
        wallet_rpc_port=None if script else 30001,
        wallet_address=f"addr-{agent_id}",
        is_miner=hashrate > 0,
        hashrate=hashrate,
        user_script=script,
        attributes={"hashrate": str(hashrate)} if hashrate else {},
    )


AGENTS = (
    agent("miner-01", 70),
    agent("miner-02", 29),
    agent("miner-03", 1),
    agent("user-01"),
    agent("block-controller", script="agents.block_controller"),
)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    write_registry(tmp_path, Registry(AGENTS, build_miners(AGENTS, solo_threshold=2.0)))
    return tmp_path


def test_discovery_answers_the_design_documents_questions(shared: Path) -> None:
    ad = AgentDiscovery(shared, get_plugin_manager(autoload=False))
    assert [m.agent_id for m in ad.get_miner_agents()] == ["miner-01", "miner-02", "miner-03"]
    assert [m.agent_id for m in ad.get_solo_miners()] == ["miner-03"]
    assert [a.id for a in ad.get_wallet_agents()] == ["miner-01", "miner-02", "miner-03", "user-01"]
    assert [a.id for a in ad.get_block_controllers()] == ["block-controller"]
    assert ad.selection_probabilities() == pytest.approx(
        {"miner-01": 0.70, "miner-02": 0.29, "miner-03": 0.01}
    )


def test_discovery_is_cached_and_reloads_when_the_files_change(shared: Path) -> None:
    ad = AgentDiscovery(shared, get_plugin_manager(autoload=False))
    first = ad.registry()
    assert ad.registry() is first  # unchanged files: served from the cache
    fewer = AGENTS[1:]
    write_registry(shared, Registry(fewer, build_miners(fewer, solo_threshold=2.0)))
    assert [m.agent_id for m in ad.get_miner_agents()] == ["miner-02", "miner-03"]


def test_missing_registry_is_a_clear_error(tmp_path: Path) -> None:
    ad = AgentDiscovery(tmp_path, get_plugin_manager(autoload=False))
    with pytest.raises(AgentDiscoveryError, match=r"agent_registry\.json does not exist"):
        ad.get_miner_agents()


def test_malformed_registry_is_a_clear_error(shared: Path) -> None:
    (shared / "miners.json").write_text(json.dumps({"miners": [{"agent_id": "x"}]}))
    ad = AgentDiscovery(shared, get_plugin_manager(autoload=False))
    with pytest.raises(AgentDiscoveryError, match=r"miners.json: entry 0"):
        ad.registry()
    (shared / "miners.json").write_text("{not json")
    with pytest.raises(AgentDiscoveryError, match="not valid JSON"):
        ad.registry()
    (shared / "miners.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(AgentDiscoveryError, match="not UTF-8 text"):
        ad.registry()
    (shared / "miners.json").write_bytes(b"[" * 100_000)
    with pytest.raises(AgentDiscoveryError, match="JSON nested too deeply"):
        ad.registry()


def test_a_discovery_plugin_can_take_over(shared: Path) -> None:
    plugins = get_plugin_manager(autoload=False)
    only_users = Registry((agent("user-99"),), ())

    class Static:
        @hookimpl
        def monerosim_discover_agents(self, shared_dir):  # type: ignore[no-untyped-def]
            return only_users

    plugins.register(Static(), "static-discovery")
    assert AgentDiscovery(shared, plugins).registry() is only_users


def test_a_broken_discovery_plugin_is_skipped_not_fatal(shared: Path) -> None:
    plugins = get_plugin_manager(autoload=False)

    class Broken:
        @hookimpl
        def monerosim_discover_agents(self, shared_dir):  # type: ignore[no-untyped-def]
            raise RuntimeError("database unreachable")

    class Confused:
        @hookimpl
        def monerosim_discover_agents(self, shared_dir):  # type: ignore[no-untyped-def]
            return {"agents": []}

    plugins.register(Broken(), "broken-discovery")
    plugins.register(Confused(), "confused-discovery")
    ad = AgentDiscovery(shared, plugins)
    assert [m.agent_id for m in ad.get_miner_agents()] == ["miner-01", "miner-02", "miner-03"]
