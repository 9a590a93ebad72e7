"""The scenario file as a whole: its sections, and the checks that span them."""

from __future__ import annotations

import os
from pathlib import Path

from monerosim_core.config.errors import ConfigError, ProblemLog
from monerosim_core.config.model import (
    BlockControllerSpec,
    Network,
    Role,
    Scenario,
    ScriptAgentSpec,
    UserAgentSpec,
)
from monerosim_core.config.reader import MappingReader
from monerosim_core.config.sections import (
    BLOCK_CONTROLLER_SCRIPT,
    read_block_controller,
    read_general,
    read_network,
    read_script_agent,
)
from monerosim_core.config.user_agents import read_user_agent
from monerosim_core.config.yaml_source import Node, load_yaml

_HASHRATE_TOTAL = 100.0
_HASHRATE_TOLERANCE = 1e-9


def load_scenario(
    path: str | os.PathLike[str], relative_to: str | os.PathLike[str] | None = None
) -> Scenario:
    """Read, validate and type the scenario in ``path``.

    Relative file paths in it (``network.gml``) are taken from ``relative_to``,
    by default the file's own directory (a run reads its copy of the config with
    the original's directory).

    Every problem in the file is collected before anything is raised, each with
    file:line:col, the dotted key, and what was expected and found. Strategy
    names are only checked for form here; whether a plugin provides them is
    checked later, against the installed plugins.

    :returns: the scenario; anything the researcher should know but that does
        not stop the run (a hashrate total other than 100) is in its ``warnings``.
    :raises ConfigError: if the file is missing, unreadable, not YAML, or not a
        valid scenario.
    """
    source = os.fspath(path)
    log = ProblemLog()
    root = load_yaml(source, log)
    base_dir = Path(relative_to) if relative_to is not None else Path(source).parent
    scenario = None if root is None else _read_scenario(root, base_dir, log)
    if scenario is None or log.problems:
        raise ConfigError(log.problems)
    return scenario


def _read_scenario(root: Node, config_dir: Path, log: ProblemLog) -> Scenario | None:
    top = MappingReader.open(root, log, "a mapping with general and agents")
    if top is None:
        return None
    general_section = top.section("general", "a mapping with stop_time", required=True)
    network_section = top.section("network", "a mapping")
    agents_section = top.section("agents", "a mapping with user_agents", required=True)
    top.finish()

    general = None if general_section is None else read_general(general_section)
    network = Network() if network_section is None else read_network(network_section, config_dir)
    if agents_section is None:
        return None
    users, controller, scripts = _read_agents(agents_section, log)
    if general is None:
        return None
    return Scenario(
        source=root.pos.file,
        general=general,
        network=network,
        user_agents=users,
        block_controller=controller,
        script_agents=scripts,
        warnings=tuple(str(warning) for warning in log.warnings),
    )


def _read_agents(
    agents: MappingReader, log: ProblemLog
) -> tuple[tuple[UserAgentSpec, ...], BlockControllerSpec | None, tuple[ScriptAgentSpec, ...]]:
    items = agents.items("user_agents", "a list of agents", required=True)
    if items == []:
        agents.problem("user_agents", "expected at least one agent, found an empty list")
    read = [read_user_agent(item, index, log) for index, item in enumerate(items or [])]
    controller_section = agents.section("block_controller", "a mapping with script")
    controller = None if controller_section is None else read_block_controller(controller_section)
    scripts = agents.items("pure_script_agents", "a list of script agents") or []
    script_agents = [read_script_agent(item, index, log) for index, item in enumerate(scripts)]
    agents.finish()

    users = [user for user in read if user is not None]
    # An agent with problems has no trustworthy role: judging "no miners" with
    # it missing would report mistakes the researcher did not make.
    every_role_known = len(users) == len(read) and agents.ok("block_controller")
    _check_mining(agents, users, controller_section is not None, every_role_known)
    return (
        tuple(users),
        controller,
        tuple(agent for agent in script_agents if agent is not None),
    )


def _check_mining(
    agents: MappingReader, users: list[UserAgentSpec], has_controller: bool, every_role_known: bool
) -> None:
    miners = [user for user in users if user.is_miner]
    if miners and not has_controller and agents.ok("block_controller"):
        agents.problem(
            "block_controller",
            f"required when there are miners; expected a mapping with "
            f'script: "{BLOCK_CONTROLLER_SCRIPT}"',
        )
    if not miners and every_role_known:
        if has_controller and users:
            agents.problem(
                "block_controller",
                "has no miners to choose from; add is_miner: true to an agent or remove it",
            )
        for user in users:
            if user.role is Role.MINER_DISTRIBUTOR:
                agents.log.error(
                    user.pos,
                    f"{agents.key_of('user_agents')}[{user.index}]",
                    "the miner distributor needs at least one miner to pay from",
                )
    withholding = [m for m in miners if m.may_withhold]
    first = withholding[0].mining_behaviour if withholding else None
    for extra in withholding[1:]:
        assert first is not None and extra.mining_behaviour is not None
        agents.log.error(
            extra.mining_behaviour.pos,
            extra.mining_behaviour.key,
            f"only one miner may withhold blocks (user_agents[{withholding[0].index}] already "
            f"has mining_behaviour {first.name!r}); a race between several private branches "
            "is not modelled",
        )
    total = sum(miner.hashrate for miner in miners)
    if miners and abs(total - _HASHRATE_TOTAL) > _HASHRATE_TOLERANCE:
        agents.warning(
            "user_agents",
            f"miner hashrates add up to {total:.12g}, not {_HASHRATE_TOTAL:g}; each miner "
            f"finds a block with probability hashrate / {total:.12g}",
        )
