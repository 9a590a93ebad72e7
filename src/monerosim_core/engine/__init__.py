"""Engines: what turns a plan into running processes.

``local``: real daemons on loopback, simulated time from a conductor (the default).
``shadow``: the same daemons and agents inside the Shadow network simulator.
"""
