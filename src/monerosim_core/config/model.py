"""The validated scenario: what a config file means, as frozen values.

The config loader (:mod:`monerosim_core.config`) is the only place that turns YAML
into these classes; nothing past it handles raw YAML. Values that are checked
later against installed plugins (strategy names) keep their source position so
that error can still name file:line:col.
"""

from __future__ import annotations

import enum

import attrs


@attrs.frozen
class SourcePos:
    """Where a value was written: 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@attrs.frozen
class StrategyRef:
    """A strategy named in the config, with the key that named it and where."""

    name: str
    key: str
    pos: SourcePos


class Role(enum.Enum):
    """What drives an agent. A miner with a user script is still a miner."""

    MINER = "miner"
    REGULAR_USER = "regular_user"
    MINER_DISTRIBUTOR = "miner_distributor"


class ScriptKind(enum.Enum):
    """The pure script agents monerosim ships."""

    MONITOR = "monitor"
    SYNC_CHECK = "sync_check"


class BlockTimes(enum.Enum):
    """How the block controller spaces blocks around ``--interval``."""

    FIXED = "fixed"
    EXPONENTIAL = "exponential"


# The mining behaviour of a miner that names none: mine on the tip, publish at once.
HONEST_BEHAVIOUR = "honest"

# The pace cap (--speed, general.speed): below this nothing would visibly move, above
# it no machine reaches.
MIN_SPEED = 0.001
MAX_SPEED = 1e6


@attrs.frozen
class General:
    stop_time: float  # simulated seconds
    fresh_blockchain: bool = True
    log_level: str = "info"
    seed: int | None = None  # None: the run picks one and records it
    speed: float | None = None  # local engine: the most simulated s per wall s; None: full pace
    bootstrap_blocks: int = 100


class Peering(enum.Enum):
    """How the daemons connect (each dials its peers as exclusive nodes)."""

    FULL_MESH = "full_mesh"  # every node dials every other
    RANDOM = "random"  # a ring plus random peers: ``out_degree`` dialled per node


DEFAULT_OUT_DEGREE = 8


@attrs.frozen
class GmlTopology:
    """A checked GML topology file (:mod:`monerosim_core.config.gml`): the parts the
    Shadow engine places hosts on."""

    path: str
    nodes: tuple[int, ...]  # ids, in file order
    self_loops: frozenset[int]  # nodes with an edge to themselves


@attrs.frozen
class Network:
    """The simulated network (Shadow engine; the local engine runs on loopback).

    One of: ``type`` (Shadow's built-in ``1_gbit_switch``), ``gml`` (a topology
    file, checked into ``topology``), or ``latency`` / ``bandwidth`` /
    ``packet_loss``, from which the engine generates a one-node topology.
    """

    type: str | None = "1_gbit_switch"
    gml: str | None = None  # path to a GML topology (Shadow engine)
    latency_ms: float | None = None
    bandwidth: str | None = None
    # Simulated seconds a transfer takes to reach every pool: before a block at T,
    # the transfers sent before T - tx_propagation must be in the winner's pool.
    # None: the engine's own (see planning.prepare.DEFAULT_TX_PROPAGATION).
    tx_propagation: float | None = None
    # Eyal and Sirer's gamma: in a tie between the public branch and a withholding
    # miner's, the share of honest mining that builds on the withholding miner's.
    gamma: float = 0.0
    packet_loss: float | None = None
    peering: Peering = Peering.FULL_MESH
    out_degree: int = DEFAULT_OUT_DEGREE  # random peering only
    topology: GmlTopology | None = None  # the checked ``gml`` file

    @property
    def generated(self) -> bool:
        """Whether the engine generates the topology from latency/bandwidth/loss."""
        given = (self.latency_ms, self.bandwidth, self.packet_loss)
        return self.gml is None and any(value is not None for value in given)


@attrs.frozen
class UserAgentSpec:
    """One entry of ``agents.user_agents``, validated and typed.

    Amounts are in XMR, intervals in simulated seconds. Fields that do not apply
    to the agent's role keep their defaults.
    """

    index: int  # position in user_agents, stable across runs
    pos: SourcePos
    daemon: str
    wallet: str | None
    role: Role
    is_miner: bool
    hashrate: float  # percent; 0.0 unless is_miner
    user_script: str | None
    transaction_interval: float = 60.0
    min_transaction_amount: float = 0.1
    max_transaction_amount: float = 1.0
    transaction_frequency: float = 60.0
    miner_selection_strategy: StrategyRef | None = None
    transaction_priority: int = 1
    max_retries: int = 3
    recipient_selection: StrategyRef | None = None
    mining_behaviour: StrategyRef | None = None  # miners only; None means "honest"
    # every attribute as written (strings), for the agent registry
    raw_attributes: tuple[tuple[str, str], ...] = ()

    @property
    def may_withhold(self) -> bool:
        """A miner with a behaviour other than honest: it may withhold blocks."""
        return self.mining_behaviour is not None and self.mining_behaviour.name != HONEST_BEHAVIOUR


@attrs.frozen
class BlockControllerSpec:
    pos: SourcePos
    script: str
    interval: float = 120.0
    solo_miner_threshold: float = 0.0  # percent of total hashrate
    strategy: StrategyRef | None = None  # None means the default, "weighted"
    block_times: BlockTimes = BlockTimes.FIXED


@attrs.frozen
class ScriptAgentSpec:
    """One entry of ``agents.pure_script_agents``."""

    index: int
    pos: SourcePos
    script: str
    kind: ScriptKind
    interval: float = 60.0  # simulated seconds between observations


@attrs.frozen
class Scenario:
    source: str  # the config file's path as given
    general: General
    network: Network
    user_agents: tuple[UserAgentSpec, ...]
    block_controller: BlockControllerSpec | None
    script_agents: tuple[ScriptAgentSpec, ...]
    warnings: tuple[str, ...] = ()  # shown to the user, e.g. hashrate normalisation

    @property
    def miners(self) -> tuple[UserAgentSpec, ...]:
        return tuple(a for a in self.user_agents if a.is_miner)

    @property
    def withholding_miner(self) -> UserAgentSpec | None:
        """The miner whose behaviour is not honest, if any (there is at most one)."""
        return next((a for a in self.miners if a.may_withhold), None)

    @property
    def total_hashrate(self) -> float:
        return sum(a.hashrate for a in self.miners)
