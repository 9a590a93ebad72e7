"""The config loader on valid scenarios: the shipped examples and what each key means."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from monerosim_core.config import load_scenario, parse_duration
from monerosim_core.config.model import (
    BlockControllerSpec,
    BlockTimes,
    General,
    GmlTopology,
    Network,
    Peering,
    Role,
    Scenario,
    ScriptAgentSpec,
    ScriptKind,
    SourcePos,
    StrategyRef,
    UserAgentSpec,
)

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

Load = Callable[[str], Scenario]


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Load:
    """Load YAML text from ``scenario.yaml`` in a fresh working directory."""
    monkeypatch.chdir(tmp_path)

    def load_text(text: str) -> Scenario:
        Path("scenario.yaml").write_text(dedent(text))
        return load_scenario("scenario.yaml")

    return load_text


ONE_MINER = """\
    general:
      stop_time: 600
    agents:
      user_agents:
        - daemon: monerod
          is_miner: true
          attributes:
            hashrate: 100
      block_controller:
        script: agents.block_controller
    """


def test_mining_architecture_example_loads_with_the_90_percent_warning() -> None:
    path = str(CONFIGS / "mining_architecture.yaml")
    scenario = load_scenario(path)

    assert scenario.source == path
    assert scenario.general.stop_time == 3 * 3600
    assert [a.hashrate for a in scenario.miners] == [25, 25, 10, 10, 10, 5, 5]
    assert scenario.total_hashrate == 90
    assert [a.role for a in scenario.user_agents] == [Role.MINER] * 7 + [Role.REGULAR_USER]
    assert all(a.wallet == "monero-wallet-rpc" for a in scenario.user_agents)
    assert scenario.miners[0].raw_attributes == (("hashrate", "25"), ("is_miner", "true"))

    user = scenario.user_agents[7]
    assert (user.index, user.user_script, user.is_miner) == (7, "agents.regular_user", False)
    assert user.transaction_interval == 60.0
    assert (user.min_transaction_amount, user.max_transaction_amount) == (0.5, 2.0)

    controller = scenario.block_controller
    assert controller is not None
    assert (controller.interval, controller.solo_miner_threshold) == (120.0, 2.0)
    assert controller.strategy is None  # the default, "weighted"

    [warning] = scenario.warnings
    assert "agents.user_agents" in warning
    assert "add up to 90, not 100" in warning
    assert "hashrate / 90" in warning


def test_miner_distributor_example_loads_with_typed_attributes() -> None:
    path = str(CONFIGS / "miner_distributor.yaml")
    scenario = load_scenario(path)

    assert scenario.general == General(stop_time=10800.0, fresh_blockchain=True, log_level="info")
    assert scenario.network == Network(type="1_gbit_switch")
    assert [a.role for a in scenario.user_agents] == [
        Role.MINER,
        Role.MINER,
        Role.MINER_DISTRIBUTOR,
    ]
    assert [a.hashrate for a in scenario.miners] == [25, 25]  # is_miner: 'true' in attributes

    distributor = scenario.user_agents[2]
    assert distributor.transaction_frequency == 60.0
    assert (distributor.min_transaction_amount, distributor.max_transaction_amount) == (0.1, 1.0)
    assert (distributor.transaction_priority, distributor.max_retries) == (1, 3)
    prefix = "agents.user_agents[2].attributes"
    assert distributor.miner_selection_strategy == StrategyRef(
        "weighted", f"{prefix}.miner_selection_strategy", SourcePos(path, 35, 35)
    )
    assert distributor.recipient_selection == StrategyRef(
        "random", f"{prefix}.recipient_selection", SourcePos(path, 38, 30)
    )
    assert dict(distributor.raw_attributes)["transaction_priority"] == "1"
    assert dict(distributor.raw_attributes)["is_miner"] == "false"

    assert scenario.block_controller is not None
    assert scenario.block_controller.interval == 120.0
    assert [s.kind for s in scenario.script_agents] == [ScriptKind.MONITOR, ScriptKind.SYNC_CHECK]
    assert [s.interval for s in scenario.script_agents] == [60.0, 60.0]
    assert len(scenario.warnings) == 1
    assert "add up to 50" in scenario.warnings[0]


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("3h", 10800.0),
        ("90m", 5400.0),
        ("600s", 600.0),
        ("600", 600.0),
        (600, 600.0),
        (1.5, 1.5),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        (" 2 min ", 120.0),
        ("3H", 10800.0),
        ("1 day", 86400.0),
    ],
)
def test_parse_duration_reads_units_and_bare_seconds(written: str | float, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize("written", ["abc", "", "-5s", "5 parsecs", "h", math.inf, -1, True])
def test_parse_duration_rejects_what_is_no_duration(written: str | float) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(written)


def test_omitted_keys_take_the_model_defaults(load: Load) -> None:
    scenario = load(
        """\
        general:
          stop_time: 600
        agents:
          user_agents:
            - daemon: monerod
          pure_script_agents:
            - script: scripts.monitor
        """
    )
    assert scenario.general == General(stop_time=600.0)
    assert scenario.network == Network()
    assert scenario.user_agents == (
        UserAgentSpec(
            index=0,
            pos=SourcePos("scenario.yaml", 5, 7),
            daemon="monerod",
            wallet="monero-wallet-rpc",  # a user cannot work without one: implied
            role=Role.REGULAR_USER,
            is_miner=False,
            hashrate=0.0,
            user_script=None,
            raw_attributes=(("is_miner", "false"),),
        ),
    )
    assert scenario.block_controller is None
    assert scenario.script_agents == (
        ScriptAgentSpec(0, SourcePos("scenario.yaml", 7, 7), "scripts.monitor", ScriptKind.MONITOR),
    )
    assert scenario.warnings == ()


def test_block_controller_options_in_every_written_form(load: Load) -> None:
    scenario = load(
        """\
        general: {stop_time: 90m}
        agents:
          user_agents:
            - {daemon: monerod, is_miner: true, attributes: {hashrate: 100}}
          block_controller:
            script: agents.block_controller
            arguments:
              - "--interval 90 --solo-miner-threshold 2.5"
              - "--strategy"
              - "round-robin"
              - "--block-times=exponential"
        """
    )
    assert scenario.block_controller == BlockControllerSpec(
        pos=SourcePos("scenario.yaml", 6, 5),
        script="agents.block_controller",
        interval=90.0,
        solo_miner_threshold=2.5,
        strategy=StrategyRef(
            "round_robin",
            "agents.block_controller.arguments --strategy",
            SourcePos("scenario.yaml", 10, 9),
        ),
        block_times=BlockTimes.EXPONENTIAL,
    )


@pytest.mark.parametrize(
    ("agent", "is_miner"),
    [
        ("{daemon: monerod, is_miner: true, attributes: {hashrate: 50}}", True),
        ("{daemon: monerod, attributes: {is_miner: 'TRUE', hashrate: 50}}", True),
        ("{daemon: monerod, is_miner: 'false', attributes: {is_miner: false}}", False),
        ("{daemon: monerod}", False),
    ],
)
def test_is_miner_at_top_level_or_in_attributes(load: Load, agent: str, is_miner: bool) -> None:
    controller = "block_controller: {script: agents.block_controller}" if is_miner else ""
    scenario = load(
        f"general: {{stop_time: 600}}\nagents:\n  user_agents: [{agent}]\n  {controller}\n"
    )
    [loaded] = scenario.user_agents
    assert loaded.is_miner is is_miner
    assert loaded.role is (Role.MINER if is_miner else Role.REGULAR_USER)
    assert dict(loaded.raw_attributes)["is_miner"] == str(is_miner).lower()


def test_a_miner_with_the_regular_user_script_stays_a_miner(load: Load) -> None:
    scenario = load(
        """\
        general: {stop_time: 600}
        agents:
          user_agents:
            - daemon: monerod
              wallet: monero-wallet-rpc
              is_miner: true
              user_script: agents.regular_user
              attributes: {hashrate: "100", transaction_interval: "2m"}
          block_controller: {script: agents.block_controller}
        """
    )
    [miner] = scenario.user_agents
    assert (miner.role, miner.user_script) == (Role.MINER, "agents.regular_user")
    assert miner.transaction_interval == 120.0
    assert scenario.warnings == ()  # the hashrates add up to 100


def test_general_and_network_keys(load: Load) -> None:
    scenario = load(
        """\
        general:
          stop_time: "2h"
          fresh_blockchain: "False"
          log_level: DEBUG
          seed: "7"
          speed: 60
          bootstrap_blocks: 120
        network:
          latency: 10ms
          bandwidth: "100 Mbit"
          packet_loss: 0.01
          peering: random
          out_degree: 3
        agents:
          user_agents: [{daemon: monerod}]
        """
    )
    assert scenario.general == General(7200.0, False, "debug", 7, 60.0, 120)
    assert scenario.network == Network(
        latency_ms=10.0,
        bandwidth="100 Mbit",
        packet_loss=0.01,
        peering=Peering.RANDOM,
        out_degree=3,
    )
    assert scenario.network.generated


def test_gml_topology_is_checked_and_kept(load: Load, tmp_path: Path) -> None:
    (tmp_path / "topology.gml").write_text(
        dedent(
            """\
            graph [
              directed 0
              node [
                id 4
                host_bandwidth_up "100 Mbit"
                host_bandwidth_down "100 Mbit"
              ]
              node [
                id 7
                host_bandwidth_up "10 Mbit"
                host_bandwidth_down "20 Mbit"
              ]
              edge [
                source 4
                target 7
                latency "40 ms"
                packet_loss 0.001
              ]
              edge [
                source 7
                target 7
                latency "2 ms"
              ]
            ]
            """
        )
    )
    scenario = load(
        """\
        general: {stop_time: 600}
        network: {gml: topology.gml}
        agents: {user_agents: [{daemon: monerod}]}
        """
    )
    network = scenario.network
    assert (network.type, network.gml, network.generated) == (None, "topology.gml", False)
    assert network.topology == GmlTopology("topology.gml", (4, 7), frozenset({7}))


def test_latency_as_a_bare_number_is_milliseconds(load: Load) -> None:
    scenario = load(
        """\
        general: {stop_time: 600}
        network: {type: 1_gbit_switch, latency: 25}
        agents: {user_agents: [{daemon: monerod}]}
        """
    )
    assert scenario.network.latency_ms == 25.0


def test_few_bootstrap_blocks_and_ignored_attributes_warn(load: Load) -> None:
    scenario = load(
        """\
        general: {stop_time: 600, bootstrap_blocks: 20}
        agents:
          user_agents:
            - daemon: monerod
              attributes: {recipient_selection: random}
        """
    )
    assert scenario.warnings == (
        "scenario.yaml:1:45: general.bootstrap_blocks: 20 blocks leave too few spendable "
        "outputs: below 100 transfers fail or stall in wallet-rpc's decoy selection",
        "scenario.yaml:5:41: agents.user_agents[0].attributes.recipient_selection: has no "
        'effect: only user_script "agents.miner_distributor" reads it',
    )


def test_a_transfer_window_before_blocks_warns_that_blocks_then_depend_on_the_machine(
    load: Load,
) -> None:
    default = load("general: {stop_time: 600}\nagents: {user_agents: [{daemon: monerod}]}\n")
    assert default.network.tx_propagation is None and default.warnings == ()
    scenario = load(
        """\
        general: {stop_time: 600}
        network: {tx_propagation: 5}
        agents: {user_agents: [{daemon: monerod}]}
        """
    )
    assert scenario.network.tx_propagation == 5.0
    [warning] = scenario.warnings
    assert warning.startswith("scenario.yaml:2:27: network.tx_propagation: 5 s: on the local")
    assert "depends on this machine's speed" in warning


def test_path_objects_are_accepted_and_kept_as_given(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(dedent(ONE_MINER))
    scenario = load_scenario(path)
    assert scenario.source == str(path)
    assert scenario.user_agents[0].pos.file == str(path)
