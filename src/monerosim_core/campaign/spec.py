"""The campaign file: a base scenario, seeds, and a grid of overrides.

::

    scenario: ../quickstart.yaml      # the base scenario, relative to this file
    seeds: 5                          # seeds 1..5, or a list: [3, 7, 11]
    grid:                             # every combination of these values is a cell
      agents.user_agents[8].attributes.miner_selection_strategy: [weighted, balance]
      agents.block_controller.interval: [60, 120]
    plot_metrics: [transfers.confirmed, confirmation.mean_blocks]   # optional

Without ``grid`` the campaign has one cell: the base scenario, once per seed.
The file is read like a scenario: every problem is reported at once, each with
this file's line and column.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import attrs

from monerosim_core.campaign.overrides import OverrideError, OverridePath, Scalar, Value
from monerosim_core.config.converters import Conv, Unfit, existing_file
from monerosim_core.config.errors import ConfigError, ProblemLog
from monerosim_core.config.model import SourcePos
from monerosim_core.config.reader import MappingReader
from monerosim_core.config.yaml_source import Node, describe, load_yaml, sequence_items

_SEED_PATH = "general.seed"


@attrs.frozen
class Parameter:
    """One grid axis. ``name`` is the short name that cells, columns and plots use:
    the path's last key, or as many trailing steps as make it unique."""

    name: str
    path: OverridePath
    values: tuple[Value, ...]
    pos: SourcePos  # where the path is written in the campaign file


@attrs.frozen
class CampaignSpec:
    source: Path  # the campaign file
    scenario: Path  # the base scenario
    seeds: tuple[int, ...]
    parameters: tuple[Parameter, ...]
    plot_metrics: tuple[str, ...] = ()


def load_campaign(path: str | os.PathLike[str]) -> CampaignSpec:
    """Read and check a campaign file.

    :raises ConfigError: every problem, with this file's line and column.
    """
    source = os.fspath(path)
    log = ProblemLog()
    root = load_yaml(source, log)
    spec = None if root is None else _read(root, Path(source), log)
    if spec is None or log.problems:
        raise ConfigError(log.problems)
    return spec


def _read(root: Node, source: Path, log: ProblemLog) -> CampaignSpec | None:
    top = MappingReader.open(root, log, "a mapping with scenario and seeds")
    if top is None:
        return None
    scenario = top.require("scenario", existing_file(source.parent, "scenario"))
    seeds = top.require("seeds", _SEEDS)
    grid = top.section("grid", "a mapping of dotted paths to lists of values")
    plot_metrics = top.find("plot_metrics", _NAMES)
    top.finish()
    parameters = () if grid is None else _read_grid(grid)
    if scenario is None or seeds is None:
        return None
    return CampaignSpec(source, Path(scenario), seeds, parameters, plot_metrics or ())


def _seeds(node: Node) -> tuple[int, ...]:
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        if node.value < 1:
            raise Unfit("a count must be at least 1")
        return tuple(range(1, node.value + 1))
    items = sequence_items(node)
    if not items:
        raise Unfit
    seeds = []
    for item in items:
        if isinstance(item.value, bool) or not isinstance(item.value, int) or item.value < 0:
            raise Unfit(f"{item.pos}: {describe(item.value)} is not a seed")
        seeds.append(item.value)
    repeated = [s for s, n in Counter(seeds).items() if n > 1]
    if repeated:
        raise Unfit(f"seed {repeated[0]} is listed twice")
    return tuple(seeds)


_SEEDS = Conv("a number of seeds (1, 2, ... N) or a list of seeds (whole numbers)", _seeds)


def _names(node: Node) -> tuple[str, ...]:
    items = sequence_items(node)
    if items is None or not all(isinstance(i.value, str) and i.value for i in items):
        raise Unfit
    return tuple(str(i.value) for i in items)


_NAMES = Conv("a list of metric names", _names)


def _read_grid(grid: MappingReader) -> tuple[Parameter, ...]:
    read: list[tuple[OverridePath, tuple[Value, ...], SourcePos]] = []
    for name, entry in grid.entries.items():
        try:
            path = OverridePath.parse(name)
        except OverrideError as exc:
            grid.log.error(entry.pos, entry.key, str(exc))
            continue
        if path.text == _SEED_PATH:
            grid.log.error(entry.pos, entry.key, "seeds are given by the campaign's seeds key")
            continue
        values = _values(entry.value, grid.log)
        if values is not None:
            read.append((path, values, entry.pos))
    names = _short_names([path for path, _, _ in read])
    return tuple(
        Parameter(name, path, values, pos)
        for name, (path, values, pos) in zip(names, read, strict=True)
    )


def _values(node: Node, log: ProblemLog) -> tuple[Value, ...] | None:
    items = sequence_items(node)
    if not items:
        found = "an empty list" if items == [] else describe(node.value)
        log.error(node.pos, node.key, f"expected a list of values to try, found {found}")
        return None
    values: list[Value] = []
    for item in items:
        value = _value(item)
        if value is None:
            log.error(
                item.pos,
                item.key,
                f"expected a value (a string, number, true/false, or a list of them), "
                f"found {describe(item.value)}",
            )
        elif value in values:
            log.error(item.pos, item.key, f"{describe(item.value)} is listed twice")
        else:
            values.append(value)
    return tuple(values) if len(values) == len(items) else None


def _value(node: Node) -> Value | None:
    if isinstance(node.value, Scalar):
        return node.value
    items = sequence_items(node)
    if items is None or not all(isinstance(i.value, Scalar) for i in items):
        return None
    return tuple(i.value for i in items if isinstance(i.value, Scalar))


def _short_names(paths: list[OverridePath]) -> list[str]:
    """The shortest trailing part of each path that tells it from the others."""

    def tail(path: OverridePath, parts: int) -> str:
        return ".".join(path.text.split(".")[-parts:])

    parts = [1] * len(paths)
    while True:
        names = [tail(p, n) for p, n in zip(paths, parts, strict=True)]
        clashing = {n for n, count in Counter(names).items() if count > 1}
        if not clashing:
            return names
        # Distinct paths differ somewhere, so growing the clashing ones ends.
        parts = [n + 1 if name in clashing else n for name, n in zip(names, parts, strict=True)]
