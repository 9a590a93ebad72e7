"""The simulated network: Shadow's ``network.graph`` section, and the GML behind it.

Three cases, from the scenario's ``network`` section:

- nothing but ``type: 1_gbit_switch``: Shadow's built-in switch (1 Gbit up and
  down per host, 1 ms between any two hosts, no loss);
- ``gml: FILE``: that topology (checked when the config was loaded), copied into
  the run directory so the run keeps what it ran on;
- ``latency`` / ``bandwidth`` / ``packet_loss``: a one-node topology the engine
  writes, the switch's values standing in for what is not given. Bandwidth goes
  on the node, not the hosts: Shadow 3.x ignores a host's own bandwidth.

Shadow's rules for GML, followed by :func:`generated_gml`: one key and value per
line, a line break after every ``[``, a non-zero edge latency, and integer
quantities with units ("1 ms", "1000 Mbit").
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from monerosim_core.config.converters import bandwidth_bits
from monerosim_core.config.model import Network

TOPOLOGY_FILE = "topology.gml"
SWITCH_LATENCY_MS = 1.0
SWITCH_BANDWIDTH_BITS = 10**9


def graph_section(network: Network, directory: Path) -> dict[str, Any]:
    """Shadow's ``network.graph`` for ``network``; a topology file it names is
    written (or copied) into ``directory``."""
    if network.gml is not None:
        target = directory / TOPOLOGY_FILE
        shutil.copyfile(network.gml, target)
        return {"type": "gml", "file": {"path": str(target)}}
    if network.generated:
        target = directory / TOPOLOGY_FILE
        target.write_text(generated_gml(network), encoding="utf-8")
        return {"type": "gml", "file": {"path": str(target)}}
    return {"type": "1_gbit_switch"}


def generated_gml(network: Network) -> str:
    """A one-node topology with ``network``'s latency, bandwidth and loss."""
    latency = network.latency_ms if network.latency_ms is not None else SWITCH_LATENCY_MS
    bits = bandwidth_bits(network.bandwidth) if network.bandwidth else SWITCH_BANDWIDTH_BITS
    bandwidth = shadow_bandwidth(bits)
    loss = network.packet_loss or 0.0
    return "\n".join(
        [
            "graph [",
            "  directed 0",
            "  node [",
            "    id 0",
            f'    host_bandwidth_up "{bandwidth}"',
            f'    host_bandwidth_down "{bandwidth}"',
            "  ]",
            "  edge [",
            "    source 0",
            "    target 0",
            f'    latency "{shadow_latency(latency)}"',
            f"    packet_loss {loss!r}",
            "  ]",
            "]",
            "",
        ]
    )


def shadow_latency(milliseconds: float) -> str:
    """A latency as Shadow writes time: an integer with a unit (at least 1 ns)."""
    nanoseconds = max(1, round(milliseconds * 1_000_000))
    for unit, size in (("ms", 1_000_000), ("us", 1_000)):
        if nanoseconds % size == 0:
            return f"{nanoseconds // size} {unit}"
    return f"{nanoseconds} ns"


def shadow_bandwidth(bits: int) -> str:
    """A bandwidth as Shadow writes it: whole bits per second with the largest exact
    SI prefix ("1 Gbit"), rounded up to whole bytes as Shadow requires."""
    bits = max(8, -(-bits // 8) * 8)
    for unit, size in (("Gbit", 10**9), ("Mbit", 10**6), ("Kbit", 10**3)):
        if bits % size == 0:
            return f"{bits // size} {unit}"
    return f"{bits} bit"
