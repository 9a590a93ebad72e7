"""The config loader on broken scenarios: every mistake named by file:line:col and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from monerosim_core.config import ConfigError, ConfigProblem, load_scenario
from monerosim_core.config.model import SourcePos

Problems = Callable[[str], list[str]]


@pytest.fixture
def problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Problems:
    """The problems loading YAML text from ``scenario.yaml`` reports, as printed."""
    monkeypatch.chdir(tmp_path)

    def problems_in(text: str) -> list[str]:
        Path("scenario.yaml").write_text(dedent(text))
        with pytest.raises(ConfigError) as caught:
            load_scenario("scenario.yaml")
        assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
        return str(caught.value).splitlines()

    return problems_in


def miner_scenario(
    attributes: str, *, extra: str = "wallet: monero-wallet-rpc", is_miner: str = "true"
) -> str:
    """One miner (line 4): is_miner on line 5, an extra key on 6, its attributes on 7."""
    return f"""\
        general: {{stop_time: 600}}
        agents:
          user_agents:
            - daemon: monerod
              is_miner: {is_miner}
              {extra}
              attributes: {attributes}
          block_controller: {{script: agents.block_controller}}
        """


def test_problem_reads_file_line_col_key_message() -> None:
    problem = ConfigProblem(SourcePos("a.yaml", 3, 7), "general.seed", "expected a whole number")
    assert str(problem) == "a.yaml:3:7: general.seed: expected a whole number"
    assert str(ConfigProblem(None, "", "cannot read")) == "cannot read"


def test_unknown_key_suggests_the_close_one(problems: Problems) -> None:
    assert problems("general:\n  stop_tme: 3h\nagents: {user_agents: [{daemon: monerod}]}\n") == [
        "scenario.yaml:2:3: general.stop_time: required key is missing; expected a positive "
        'duration such as "3h", "90m", "600s" or a number of seconds',
        "scenario.yaml:2:3: general.stop_tme: unknown key 'stop_tme'; did you mean 'stop_time'?",
    ]


def test_unknown_key_without_a_close_one_lists_the_known(problems: Problems) -> None:
    [problem] = problems(
        "general: {stop_time: 60}\nagents: {user_agents: [{daemon: monerod}]}\nengine: shadow\n"
    )
    assert problem == (
        "scenario.yaml:3:1: engine: unknown key 'engine'; known: general, network, agents"
    )


def test_hashrate_that_is_no_number(problems: Problems) -> None:
    assert problems(miner_scenario('{hashrate: "abc"}')) == [
        "scenario.yaml:7:30: agents.user_agents[0].attributes.hashrate: "
        'expected a positive number (percent), found "abc"'
    ]


def test_negative_hashrate(problems: Problems) -> None:
    assert problems(miner_scenario("{hashrate: -5}")) == [
        "scenario.yaml:7:30: agents.user_agents[0].attributes.hashrate: "
        "expected a positive number (percent), found -5"
    ]


def test_miner_without_hashrate_and_user_with_one(problems: Problems) -> None:
    assert problems(
        """\
        general: {stop_time: 600}
        agents:
          user_agents:
            - daemon: monerod
              is_miner: true
            - daemon: monerod
              attributes: {hashrate: 10}
          block_controller: {script: agents.block_controller}
        """
    ) == [
        "scenario.yaml:4:7: agents.user_agents[0].attributes.hashrate: "
        "a miner needs one; expected a positive number (percent)",
        "scenario.yaml:7:30: agents.user_agents[1].attributes.hashrate: "
        "only miners have a hashrate; add is_miner: true or drop it",
    ]


def test_min_amount_above_max_amount(problems: Problems) -> None:
    attributes = "{hashrate: 100, min_transaction_amount: '2', max_transaction_amount: 1.5}"
    assert problems(miner_scenario(attributes)) == [
        "scenario.yaml:7:59: agents.user_agents[0].attributes.min_transaction_amount: "
        "expected at most max_transaction_amount (1.5), found 2"
    ]


def test_min_amount_above_the_default_max_amount(problems: Problems) -> None:
    assert problems(miner_scenario("{hashrate: 100, min_transaction_amount: 3}")) == [
        "scenario.yaml:7:59: agents.user_agents[0].attributes.min_transaction_amount: "
        "expected at most max_transaction_amount (1, the default), found 3"
    ]


def test_transaction_priority_out_of_range(problems: Problems) -> None:
    assert problems(miner_scenario("{hashrate: 100, transaction_priority: '4'}")) == [
        "scenario.yaml:7:57: agents.user_agents[0].attributes.transaction_priority: "
        'expected a whole number from 0 to 3, found "4"'
    ]


def test_is_miner_yes_is_not_a_boolean(problems: Problems) -> None:
    # YAML 1.2 (ruamel's default) reads yes as the string "yes", not true.
    assert problems(
        "general: {stop_time: 600}\nagents:\n  user_agents: [{daemon: monerod, is_miner: yes}]\n"
    ) == ['scenario.yaml:3:45: agents.user_agents[0].is_miner: expected true or false, found "yes"']


@pytest.mark.parametrize(("here", "there"), [("true", "false"), ("false", "true")])
def test_is_miner_given_twice_and_disagreeing(problems: Problems, here: str, there: str) -> None:
    # Reported once: which one is meant is unknown, so the hashrate is not judged.
    assert problems(miner_scenario(f"{{hashrate: 100, is_miner: '{there}'}}", is_miner=here)) == [
        f"scenario.yaml:5:17: agents.user_agents[0].is_miner: "
        f"is {here} but attributes.is_miner is {there}; give is_miner once"
    ]


def test_unknown_user_script_lists_the_known_ones(problems: Problems) -> None:
    assert problems(miner_scenario("{hashrate: 100}", extra="user_script: agents.regular")) == [
        "scenario.yaml:6:20: agents.user_agents[0].user_script: expected one of "
        '"agents.regular_user", "agents.miner_distributor", found "agents.regular"; '
        "did you mean 'agents.regular_user'?"
    ]


def test_unknown_pure_script(problems: Problems) -> None:
    assert problems(
        """\
        general: {stop_time: 600}
        agents:
          user_agents: [{daemon: monerod}]
          pure_script_agents:
            - script: scripts.top
        """
    ) == [
        "scenario.yaml:5:15: agents.pure_script_agents[0].script: expected one of "
        '"scripts.monitor", "scripts.sync_check", found "scripts.top"; '
        "did you mean 'scripts.monitor'?"
    ]


def test_bad_block_controller_options_point_at_their_item(problems: Problems) -> None:
    assert problems(
        """\
        general: {stop_time: 600}
        agents:
          user_agents: [{daemon: monerod, is_miner: true, attributes: {hashrate: 100}}]
          block_controller:
            script: agents.block_controller
            arguments:
              - "--interval 120"
              - "--solo-miner-treshold 2"
              - "--strategy round robin"
              - "--interval"
        """
    ) == [
        "scenario.yaml:8:9: agents.block_controller.arguments[1]: "
        "unknown option '--solo-miner-treshold'; did you mean '--solo-miner-threshold'?",
        "scenario.yaml:9:9: agents.block_controller.arguments[2]: "
        "unexpected argument 'robin'; options start with '--'",
        "scenario.yaml:10:9: agents.block_controller.arguments[3]: "
        "option '--interval' is given twice",
    ]


def test_option_value_problems_name_the_option(problems: Problems) -> None:
    assert problems(
        """\
        general: {stop_time: 600}
        agents:
          user_agents: [{daemon: monerod, is_miner: true, attributes: {hashrate: 100}}]
          block_controller:
            script: agents.block_controller
            arguments: ["--interval", "soon", "--block-times"]
        """
    ) == [
        "scenario.yaml:6:31: agents.block_controller.arguments --interval: expected a positive "
        'duration such as "3h", "90m", "600s" or a number of seconds, found "soon"',
        "scenario.yaml:6:39: agents.block_controller.arguments --block-times: "
        'expected one of "fixed", "exponential", found nothing',
    ]


def test_yaml_syntax_error_has_a_position(problems: Problems) -> None:
    assert problems("general:\n  stop_time: 3h\n  seed: [1, 2\nagents: {}\n") == [
        "scenario.yaml:4:7: invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 3, column 9)"
    ]


def test_duplicate_key_is_a_yaml_error(problems: Problems) -> None:
    [problem] = problems("general: {stop_time: 3h}\ngeneral: {stop_time: 2h}\n")
    assert problem.startswith('scenario.yaml:2:1: invalid YAML: found duplicate key "general"')


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as caught:
        load_scenario("/nonexistent/scenario.yaml")
    assert caught.value.problems == [
        ConfigProblem(
            None,
            "",
            'cannot read config file "/nonexistent/scenario.yaml": No such file or directory',
        )
    ]


def test_empty_file(problems: Problems) -> None:
    assert problems("") == [
        "scenario.yaml:1:1: expected a mapping with general and agents, found nothing"
    ]


def test_miners_need_a_block_controller(problems: Problems) -> None:
    assert problems(
        """\
        general: {stop_time: 600}
        agents:
          user_agents: [{daemon: monerod, is_miner: true, attributes: {hashrate: 100}}]
        """
    ) == [
        "scenario.yaml:3:3: agents.block_controller: required when there are miners; "
        'expected a mapping with script: "agents.block_controller"'
    ]


def test_a_block_controller_needs_miners(problems: Problems) -> None:
    assert problems(
        """\
        general: {stop_time: 600}
        agents:
          user_agents: [{daemon: monerod, user_script: agents.miner_distributor}]
          block_controller: {script: agents.block_controller}
        """
    ) == [
        "scenario.yaml:3:17: agents.user_agents[0]: "
        "the miner distributor needs at least one miner to pay from",
        "scenario.yaml:4:21: agents.block_controller: "
        "has no miners to choose from; add is_miner: true to an agent or remove it",
    ]


def test_every_problem_is_reported_at_once_in_file_order(problems: Problems) -> None:
    assert problems(
        """\
        agents:
          user_agents:
            - daemon: monerod
              is_miner: true
              attributes: {hashrate: "abc"}
            - daemon: monerod
              wallet: monero-wallet
              attributes: {transaction_priority: 9}
          block_controller:
            script: agents.block_controller
            arguments: ["--intervl 60"]
        general:
          stop_time: forever
          log_level: info
          sed: 3
        """
    ) == [
        "scenario.yaml:5:30: agents.user_agents[0].attributes.hashrate: "
        'expected a positive number (percent), found "abc"',
        "scenario.yaml:7:15: agents.user_agents[1].wallet: "
        'expected one of "monero-wallet-rpc", found "monero-wallet"; '
        "did you mean 'monero-wallet-rpc'?",
        "scenario.yaml:8:42: agents.user_agents[1].attributes.transaction_priority: "
        "expected a whole number from 0 to 3, found 9",
        "scenario.yaml:11:17: agents.block_controller.arguments[0]: "
        "unknown option '--intervl'; did you mean '--interval'?",
        "scenario.yaml:13:14: general.stop_time: expected a positive duration such as "
        '"3h", "90m", "600s" or a number of seconds, found "forever"',
        "scenario.yaml:15:3: general.sed: unknown key 'sed'; did you mean 'seed'?",
    ]


def test_yaml_python_cannot_build_is_still_a_config_error(problems: Problems) -> None:
    assert problems("general: {stop_time: 2024-13-01}\n") == [
        'invalid YAML in "scenario.yaml": month must be in 1..12'
    ]


def test_missing_gml_topology(problems: Problems) -> None:
    assert problems(
        "general: {stop_time: 60}\n"
        "network: {gml: nope.gml}\n"
        "agents: {user_agents: [{daemon: monerod}]}\n"
    ) == [
        "scenario.yaml:2:16: network.gml: expected the path of a GML topology file, "
        'found "nope.gml"; no such file: nope.gml'
    ]


def test_gamma_is_a_share(problems: Problems) -> None:
    text = miner_scenario("{hashrate: 100}") + "network: {gamma: 1.5}\n"
    assert problems(text) == [
        "scenario.yaml:9:18: network.gamma: expected a number from 0 to 1 "
        "(share of honest mining), found 1.5"
    ]


def test_only_miners_have_a_mining_behaviour(problems: Problems) -> None:
    [problem] = problems(
        """\
        general: {stop_time: 600}
        agents:
          user_agents:
            - {daemon: monerod, is_miner: true, attributes: {hashrate: 100}}
            - {daemon: monerod, wallet: monero-wallet-rpc, attributes: {mining_behaviour: selfish}}
          block_controller: {script: agents.block_controller}
        """
    )
    assert problem.startswith("scenario.yaml:5:")
    assert "mining_behaviour: only miners have a mining behaviour" in problem


def test_only_one_miner_withholds(problems: Problems) -> None:
    miner = (
        "{{daemon: monerod, is_miner: true, attributes: {{hashrate: {}, mining_behaviour: {}}}}}"
    )
    [problem] = problems(
        f"""\
        general: {{stop_time: 600}}
        agents:
          user_agents:
            - {miner.format(30, "selfish")}
            - {miner.format(60, "honest")}
            - {miner.format(10, "lead_stubborn")}
          block_controller: {{script: agents.block_controller}}
        """
    )
    assert problem.startswith("scenario.yaml:6:")
    assert "only one miner may withhold blocks (user_agents[0] already" in problem


def test_network_keys_that_do_not_fit(problems: Problems) -> None:
    assert problems(
        """\
        general: {stop_time: 60}
        network:
          latency: 0
          packet_loss: 1.5
          peering: ring
          out_degree: 0
        agents: {user_agents: [{daemon: monerod}]}
        """
    ) == [
        "scenario.yaml:3:12: network.latency: expected a latency above 0 (Shadow needs one "
        "on every path)",
        "scenario.yaml:4:16: network.packet_loss: expected a fraction from 0 to 1 (0.01 is "
        "1 %), found 1.5",
        'scenario.yaml:5:12: network.peering: expected one of "full_mesh", "random", found "ring"',
        "scenario.yaml:6:15: network.out_degree: expected a whole number of at least 1, found 0",
    ]


def test_out_degree_needs_random_peering_and_gml_excludes_generated_keys(
    problems: Problems,
) -> None:
    Path("topology.gml").write_text(GOOD_GML)
    assert problems(
        """\
        general: {stop_time: 60}
        network:
          gml: topology.gml
          bandwidth: "10 Mbit"
          out_degree: 4
        agents: {user_agents: [{daemon: monerod}]}
        """
    ) == [
        "scenario.yaml:4:14: network.bandwidth: the GML topology (network.gml) sets its own; "
        "remove one",
        'scenario.yaml:5:15: network.out_degree: applies to peering: "random" only',
    ]


GOOD_GML = """\
graph [
  node [
    id 0
    host_bandwidth_up "1 Gbit"
    host_bandwidth_down "1 Gbit"
  ]
  edge [
    source 0
    target 0
    latency "1 ms"
  ]
]
"""


@pytest.mark.parametrize(
    ("gml", "expected"),
    [
        (
            "graph [ directed 0 ]\n",
            [
                "topology.gml:1:8: network.gml: Shadow needs a line break after '['; "
                "found 'directed 0 ]'"
            ],
        ),
        (
            GOOD_GML.replace("    id 0\n", '    id 0 label "x"\n'),
            ["topology.gml:3:9: network.gml: Shadow needs one entry per line; found 'label \"x\"'"],
        ),
        (
            GOOD_GML.replace('"1 ms"', '"0 ms"'),
            ["topology.gml:10:5: network.gml: latency: Shadow needs it above zero"],
        ),
        (
            GOOD_GML.replace('"1 ms"', "1"),
            [
                "topology.gml:10:5: network.gml: latency: expected a quoted duration such as "
                '"10 ms", found 1'
            ],
        ),
        (
            GOOD_GML.replace('    host_bandwidth_down "1 Gbit"\n', "").replace(
                "target 0", "target 3"
            ),
            [
                "topology.gml:2:3: network.gml: node has no host_bandwidth_down; expected a "
                'bandwidth such as "100 Mbit"',
                "topology.gml:8:5: network.gml: target 3 is not a node id",
            ],
        ),
        (
            GOOD_GML.replace(
                "]\n]\n",
                "]\n  node [\n    id 1\n    host_bandwidth_up "
                '"1 Gbit"\n    host_bandwidth_down "1 Gbit"\n  ]\n]\n',
            ),
            [
                "topology.gml:1:1: network.gml: the graph is not connected: no path from node 0 "
                "to node(s) 1"
            ],
        ),
        (
            GOOD_GML[: GOOD_GML.rindex("]")],
            ["topology.gml:1:1: network.gml: 'graph [' is never closed"],
        ),
    ],
)
def test_gml_topology_breaking_shadows_rules(
    problems: Problems, gml: str, expected: list[str]
) -> None:
    Path("topology.gml").write_text(gml)
    assert (
        problems(
            """\
            general: {stop_time: 60}
            network: {gml: topology.gml}
            agents: {user_agents: [{daemon: monerod}]}
            """
        )
        == expected
    )
