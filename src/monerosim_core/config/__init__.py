"""The config loader: the one place where a scenario's YAML becomes typed values.

::

    from monerosim_core.config import ConfigError, load_scenario

    try:
        scenario = load_scenario("configs/quickstart.yaml")
    except ConfigError as error:
        print(error)  # every problem, "file:line:col: key: message", one per line
"""

from __future__ import annotations

from monerosim_core.config.durations import parse_duration
from monerosim_core.config.errors import ConfigError, ConfigProblem
from monerosim_core.config.loader import load_scenario

__all__ = ["ConfigError", "ConfigProblem", "load_scenario", "parse_duration"]
