"""One entry of ``agents.user_agents``: a daemon, a wallet, and who drives them."""

from __future__ import annotations

from monerosim_core.config.converters import (
    BOOLEAN,
    DURATION,
    MINING_BEHAVIOUR,
    STRATEGY,
    one_of,
    positive_number,
    whole_number,
)
from monerosim_core.config.errors import ProblemLog
from monerosim_core.config.model import Role, UserAgentSpec
from monerosim_core.config.reader import MappingReader
from monerosim_core.config.yaml_source import Node

USER_SCRIPTS = {
    "agents.regular_user": Role.REGULAR_USER,
    "agents.miner_distributor": Role.MINER_DISTRIBUTOR,
}

# The design lists these as the distributor's own; on another agent they would
# be ignored, which a researcher should hear about rather than discover later.
_DISTRIBUTOR_ONLY = ("transaction_frequency", "miner_selection_strategy", "recipient_selection")

_AMOUNT = positive_number("XMR")
_MIN_AMOUNT_DEFAULT = 0.1
_MAX_AMOUNT_DEFAULT = 1.0


WALLET_RPC = "monero-wallet-rpc"


def read_user_agent(node: Node, index: int, log: ProblemLog) -> UserAgentSpec | None:
    """The agent at ``node``, or ``None`` if it has problems (all of them logged)."""
    problems_before = len(log.problems)
    agent = MappingReader.open(node, log, "a mapping with daemon")
    if agent is None:
        return None
    daemon = agent.require("daemon", one_of("monerod"))
    wallet = agent.find("wallet", one_of(WALLET_RPC))
    user_script = agent.find("user_script", one_of(*USER_SCRIPTS))
    is_miner_here = agent.find("is_miner", BOOLEAN)
    attributes = agent.section("attributes", "a mapping of attributes") or MappingReader(
        agent.key_of("attributes"), node.pos, log, {}
    )
    agent.finish()

    is_miner_attribute = attributes.find("is_miner", BOOLEAN)
    hashrate = attributes.find("hashrate", positive_number("percent"))
    min_amount = attributes.find("min_transaction_amount", _AMOUNT)
    max_amount = attributes.find("max_transaction_amount", _AMOUNT)
    transaction_interval = attributes.get("transaction_interval", DURATION, 60.0)
    transaction_frequency = attributes.get("transaction_frequency", DURATION, 60.0)
    miner_selection_strategy = attributes.find("miner_selection_strategy", STRATEGY)
    transaction_priority = attributes.get("transaction_priority", whole_number(0, 3), 1)
    max_retries = attributes.get("max_retries", whole_number(minimum=0), 3)
    recipient_selection = attributes.find("recipient_selection", STRATEGY)
    mining_behaviour = attributes.find("mining_behaviour", MINING_BEHAVIOUR)
    attributes.finish()

    is_miner = _is_miner(agent, is_miner_here, is_miner_attribute)
    if is_miner:
        role = Role.MINER
    else:
        role = USER_SCRIPTS[user_script] if user_script else Role.REGULAR_USER
    if agent.ok("is_miner", "user_script", "attributes") and attributes.ok("is_miner"):
        _check_role(agent, attributes, role, user_script)
    if attributes.ok("min_transaction_amount", "max_transaction_amount"):
        _check_amounts(attributes, min_amount, max_amount)
    if wallet is None and role in (Role.MINER, Role.REGULAR_USER):
        # A miner's blocks pay its wallet; a user pays from and receives into its own.
        wallet = WALLET_RPC

    if daemon is None or len(log.problems) > problems_before:
        return None
    return UserAgentSpec(
        index=index,
        pos=node.pos,
        daemon=daemon,
        wallet=wallet,
        role=role,
        is_miner=is_miner,
        hashrate=hashrate or 0.0,
        user_script=user_script,
        transaction_interval=transaction_interval,
        min_transaction_amount=_MIN_AMOUNT_DEFAULT if min_amount is None else min_amount,
        max_transaction_amount=_MAX_AMOUNT_DEFAULT if max_amount is None else max_amount,
        transaction_frequency=transaction_frequency,
        miner_selection_strategy=miner_selection_strategy,
        transaction_priority=transaction_priority,
        max_retries=max_retries,
        recipient_selection=recipient_selection,
        mining_behaviour=mining_behaviour,
        raw_attributes=_raw_attributes(attributes, is_miner),
    )


def _is_miner(agent: MappingReader, here: bool | None, in_attributes: bool | None) -> bool:
    if here is not None and in_attributes is not None and here != in_attributes:
        agent.problem(
            "is_miner",
            f"is {str(here).lower()} but attributes.is_miner is "
            f"{str(in_attributes).lower()}; give is_miner once",
        )
    return bool(here if here is not None else in_attributes)


def _check_role(
    agent: MappingReader, attributes: MappingReader, role: Role, user_script: str | None
) -> None:
    has_hashrate = attributes.child("hashrate") is not None
    if role is Role.MINER and not has_hashrate:
        attributes.problem("hashrate", "a miner needs one; expected a positive number (percent)")
    if role is not Role.MINER and has_hashrate:
        attributes.problem("hashrate", "only miners have a hashrate; add is_miner: true or drop it")
    if role is not Role.MINER and attributes.child("mining_behaviour") is not None:
        attributes.problem(
            "mining_behaviour", "only miners have a mining behaviour; add is_miner: true or drop it"
        )
    if role is Role.MINER and user_script == "agents.miner_distributor":
        agent.problem(
            "user_script",
            "a miner cannot be the miner distributor; give the distributor its own agent",
        )
    if role is Role.MINER_DISTRIBUTOR:
        unused = ["transaction_interval"]
        reason = "the miner distributor paces itself by transaction_frequency"
    else:
        unused = list(_DISTRIBUTOR_ONLY)
        reason = 'only user_script "agents.miner_distributor" reads it'
    for name in unused:
        if attributes.child(name) is not None:
            attributes.warning(name, f"has no effect: {reason}")


def _check_amounts(attributes: MappingReader, low: float | None, high: float | None) -> None:
    low_or_default = _MIN_AMOUNT_DEFAULT if low is None else low
    high_or_default = _MAX_AMOUNT_DEFAULT if high is None else high
    if low_or_default <= high_or_default:
        return
    if low is not None:
        bound = f"{high_or_default:g}{'' if high is not None else ', the default'}"
        attributes.problem(
            "min_transaction_amount",
            f"expected at most max_transaction_amount ({bound}), found {low:g}",
        )
    else:
        attributes.problem(
            "max_transaction_amount",
            f"expected at least min_transaction_amount ({low_or_default:g}, the default), "
            f"found {high_or_default:g}",
        )


def _raw_attributes(attributes: MappingReader, is_miner: bool) -> tuple[tuple[str, str], ...]:
    # The registry's attributes are strings, as the design's agents read them
    # (`attributes["is_miner"] == "true"`), so is_miner is always there.
    written = {
        name: _as_text(entry.value.value)
        for name, entry in attributes.entries.items()
        if entry.value.value is not None
    }
    written["is_miner"] = _as_text(is_miner)
    return tuple(sorted(written.items()))


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
