"""The Shadow engine: the same scenario, daemons and agents inside the Shadow simulator.

Shadow (https://shadow.github.io) runs unmodified programs over a simulated network
in simulated time: every timer inside monerod (Dandelion++ stems and embargoes,
block relay) runs on Shadow's clock, and hosts talk over the configured topology.

- :mod:`.placement`: one host per agent, addresses, topology nodes, peers;
- :mod:`.topology`: the network graph (switch, GML file, or generated);
- :mod:`.timeline`: when each process starts and stops;
- :mod:`.shim`: the setsockopt shim stock Shadow needs for monerod;
- :mod:`.simulation`: the run directory and ``shadow.yaml``;
- :mod:`.steps`: the engine's steps inside the simulation (setup, final state);
- :mod:`.run`: running Shadow and finishing the run (logs, propagation, report);
- :mod:`.propagation`: block propagation read from the nodes' logs.

What differs from the local engine: simulated time is Shadow's, not a conductor's;
wallets are created in the simulation (see :mod:`.steps`), not restored from the
run seed; the block controller hands no transfer to the winner, since the network
itself propagates them; and propagation delays are measured.
"""
