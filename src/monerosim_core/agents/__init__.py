"""The agents: one process per agent (``monerosim agent ID``), the same code on every engine.

``runtime`` is what every agent process has (identity, time, RPC, stop flag);
``launch`` picks its behaviour: the block controller, the miner distributor, a
regular user (or a solo miner's user side), or an observer (monitor, sync check).
"""
