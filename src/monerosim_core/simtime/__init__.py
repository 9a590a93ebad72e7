"""Simulated time: the conductor that owns it on the local engine, and the clocks
agents read it from (the conductor's, or the process clock under Shadow)."""
