"""The small sections: ``general``, ``network``, the block controller, script agents."""

from __future__ import annotations

from pathlib import Path

from monerosim_core.config.arguments import read_arguments
from monerosim_core.config.converters import (
    BANDWIDTH,
    BOOLEAN,
    DURATION,
    FRACTION,
    LATENCY,
    NON_NEGATIVE_DURATION,
    PERCENTAGE,
    STRATEGY,
    choice,
    existing_file,
    number_between,
    one_of,
    whole_number,
)
from monerosim_core.config.errors import ProblemLog
from monerosim_core.config.gml import read_gml
from monerosim_core.config.model import (
    DEFAULT_OUT_DEGREE,
    MAX_SPEED,
    MIN_SPEED,
    BlockControllerSpec,
    BlockTimes,
    General,
    Network,
    Peering,
    ScriptAgentSpec,
    ScriptKind,
)
from monerosim_core.config.reader import MappingReader
from monerosim_core.config.yaml_source import Node

LOG_LEVELS = ("debug", "info", "warning", "error")
BLOCK_CONTROLLER_SCRIPT = "agents.block_controller"
SCRIPT_KINDS = {"scripts.monitor": ScriptKind.MONITOR, "scripts.sync_check": ScriptKind.SYNC_CHECK}

# Coinbase outputs unlock after 60 blocks and a transfer needs 15 decoy outputs
# besides its own: below ~76 blocks every transfer fails (-19), and measured at
# 80, wallet-rpc stalled choosing decoys on its sixth transfer (at 120, 16 of 16
# transfers went through).
_BOOTSTRAP_BLOCKS_FOR_TRANSFERS = 100


def read_general(general: MappingReader) -> General | None:
    stop_time = general.require("stop_time", DURATION)
    fresh_blockchain = general.get("fresh_blockchain", BOOLEAN, True)
    log_level = general.get("log_level", one_of(*LOG_LEVELS), "info")
    seed = general.find("seed", whole_number())
    speed = general.find(
        "speed", number_between(MIN_SPEED, MAX_SPEED, "simulated seconds per second, at most")
    )
    bootstrap_blocks = general.get("bootstrap_blocks", whole_number(minimum=0), 100)
    general.finish()
    if bootstrap_blocks < _BOOTSTRAP_BLOCKS_FOR_TRANSFERS:
        general.warning(
            "bootstrap_blocks",
            f"{bootstrap_blocks} blocks leave too few spendable outputs: below "
            f"{_BOOTSTRAP_BLOCKS_FOR_TRANSFERS} transfers fail or stall in wallet-rpc's "
            "decoy selection",
        )
    if fresh_blockchain is False:
        general.warning(
            "fresh_blockchain",
            "the local engine always starts a fresh regtest chain; false has no effect",
        )
    if stop_time is None:
        return None
    return General(stop_time, fresh_blockchain, log_level, seed, speed, bootstrap_blocks)


# A GML topology sets these itself; they shape the topology the engine generates.
_GENERATED_TOPOLOGY_KEYS = ("latency", "bandwidth", "packet_loss")


def read_network(network: MappingReader, config_dir: Path) -> Network:
    network_type = network.find("type", one_of("1_gbit_switch"))
    gml = network.find("gml", existing_file(config_dir, "GML topology"))
    latency_ms = network.find("latency", LATENCY)
    bandwidth = network.find("bandwidth", BANDWIDTH)
    packet_loss = network.find("packet_loss", FRACTION)
    tx_propagation = network.find("tx_propagation", NON_NEGATIVE_DURATION)
    if tx_propagation is not None and tx_propagation > 0:
        network.warning(
            "tx_propagation",
            f"{tx_propagation:g} s: on the local engine a transfer sent in the last "
            f"{tx_propagation:g} s before a block is in it only if the relay happens to "
            "deliver it in time, so that block's content depends on this machine's speed "
            "(0 puts every earlier transfer in the block)",
        )
    gamma = network.get("gamma", number_between(0.0, 1.0, "share of honest mining"), 0.0)
    peering = network.get("peering", choice({p.value: p for p in Peering}), Peering.FULL_MESH)
    out_degree = network.find("out_degree", whole_number(minimum=1))
    network.finish()
    if network_type is not None and gml is not None:
        network.problem("gml", "give either network.type or network.gml, not both")
    if gml is not None:
        for key in _GENERATED_TOPOLOGY_KEYS:
            if network.child(key) is not None and network.ok(key):
                network.problem(key, "the GML topology (network.gml) sets its own; remove one")
    if latency_ms == 0:
        network.problem("latency", "expected a latency above 0 (Shadow needs one on every path)")
    if out_degree is not None and peering is not Peering.RANDOM and network.ok("peering"):
        network.problem("out_degree", 'applies to peering: "random" only')
    topology = None
    if gml is not None:
        topology = read_gml(gml, network.key_of("gml"), network.log)
    return Network(
        type=None if gml is not None else network_type or "1_gbit_switch",
        gml=gml,
        latency_ms=latency_ms,
        bandwidth=bandwidth,
        tx_propagation=tx_propagation,
        gamma=gamma,
        packet_loss=packet_loss,
        peering=peering,
        out_degree=out_degree or DEFAULT_OUT_DEGREE,
        topology=topology,
    )


def read_block_controller(controller: MappingReader) -> BlockControllerSpec | None:
    script = controller.require("script", one_of(BLOCK_CONTROLLER_SCRIPT))
    options = read_arguments(controller)
    controller.finish()
    interval = options.get("--interval", DURATION, 120.0)
    solo_miner_threshold = options.get("--solo-miner-threshold", PERCENTAGE, 0.0)
    strategy = options.find("--strategy", STRATEGY)
    block_times = options.get(
        "--block-times", choice({t.value: t for t in BlockTimes}), BlockTimes.FIXED
    )
    options.finish()
    if script is None:
        return None
    return BlockControllerSpec(
        controller.pos, script, interval, solo_miner_threshold, strategy, block_times
    )


def read_script_agent(node: Node, index: int, log: ProblemLog) -> ScriptAgentSpec | None:
    agent = MappingReader.open(node, log, "a mapping with script")
    if agent is None:
        return None
    script = agent.require("script", one_of(*SCRIPT_KINDS))
    options = read_arguments(agent)
    agent.finish()
    interval = options.get("--interval", DURATION, 60.0)
    options.finish()
    if script is None:
        return None
    return ScriptAgentSpec(index, node.pos, script, SCRIPT_KINDS[script], interval)
