"""Engines: what turns a plan into running processes (local: real daemons on loopback)."""
