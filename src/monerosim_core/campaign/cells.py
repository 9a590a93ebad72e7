"""The grid's cells: each a combination of parameter values, written out as a
scenario file of its own and validated by the normal loader before anything runs.

A cell's scenario is the base scenario's YAML document with the cell's overrides
applied, so a mistake an override makes is reported by the loader at a line and
column of the cell's file, and tagged with the cell and the override (and where
the campaign file wrote it).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import re
from collections.abc import Sequence
from pathlib import Path

import attrs
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from monerosim_core.campaign.layout import CampaignDir
from monerosim_core.campaign.overrides import OverrideError, Value, apply_override
from monerosim_core.campaign.spec import CampaignSpec, Parameter
from monerosim_core.config.errors import ConfigError, ConfigProblem
from monerosim_core.planning.prepare import validated_plan
from monerosim_core.plugins.host import Plugins

BASE_CELL = "base"  # the one cell of a campaign without a grid
_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]")
_LONGEST_DIRECTORY = 80


@attrs.frozen
class Setting:
    parameter: Parameter
    value: Value


@attrs.frozen
class Cell:
    """One combination of the grid's values. ``name`` reads ``param=value,...``;
    ``directory`` is the same made safe (and short) for the file system."""

    name: str
    directory: str
    settings: tuple[Setting, ...]

    def value_of(self, parameter: str) -> Value:
        return next(s.value for s in self.settings if s.parameter.name == parameter)


def show_value(value: Value) -> str:
    """A parameter value as cell names, tables and columns show it."""
    if isinstance(value, tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def expand(spec: CampaignSpec) -> tuple[Cell, ...]:
    """Every combination of the grid's values; the first parameter varies slowest."""
    if not spec.parameters:
        return (Cell(BASE_CELL, BASE_CELL, ()),)
    cells = []
    for combination in itertools.product(*(p.values for p in spec.parameters)):
        settings = tuple(Setting(p, v) for p, v in zip(spec.parameters, combination, strict=True))
        name = ",".join(f"{s.parameter.name}={show_value(s.value)}" for s in settings)
        cells.append(Cell(name, _directory(name), settings))
    return tuple(cells)


def _directory(name: str) -> str:
    safe = _UNSAFE.sub("_", name)
    if len(safe) <= _LONGEST_DIRECTORY and safe == name:
        return safe
    # Made safe or shortened, two names could meet; the digest keeps them apart.
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{safe[: _LONGEST_DIRECTORY - 9]}-{digest}"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)  # the style of the shipped configs
    return yaml


def cell_scenario_text(spec: CampaignSpec, cell: Cell) -> str:
    """The base scenario with ``cell``'s overrides, as YAML text.

    :raises ConfigError: naming the campaign file's position of an override whose
        path does not fit the base scenario.
    """
    yaml = _yaml()
    document = yaml.load(spec.scenario.read_text(encoding="utf-8"))
    problems = []
    for s in cell.settings:
        try:
            apply_override(document, s.parameter.path, s.value)
        except OverrideError as exc:
            problems.append(ConfigProblem(s.parameter.pos, f"grid.{s.parameter.path}", str(exc)))
    if problems:
        raise ConfigError(problems)
    _anchor_paths(document, spec.scenario.parent)
    out = io.StringIO()
    yaml.dump(document, out)
    # Names as the campaign file gives them, not as the command line did: the file's
    # digest tells a resumed run whether its scenario changed, and running the
    # campaign from another directory, or by an absolute path, changes nothing.
    base = os.path.relpath(spec.scenario, spec.source.parent)
    header = [f"# Campaign {spec.source.name}, cell {cell.name}: the base scenario {base}"]
    header += [f"#   with {s.parameter.path} = {show_value(s.value)}" for s in cell.settings]
    return "\n".join(header) + "\n" + out.getvalue()


def _anchor_paths(document: object, base_dir: Path) -> None:
    # The one file path a scenario holds (network.gml) is relative to the base
    # scenario's directory; the cell's copy lives in the campaign directory.
    network = document.get("network") if isinstance(document, CommentedMap) else None
    gml = network.get("gml") if isinstance(network, CommentedMap) else None
    if isinstance(network, CommentedMap) and isinstance(gml, str) and not Path(gml).is_absolute():
        network["gml"] = str((base_dir / gml).absolute())


def write_cell_scenarios(spec: CampaignSpec, cells: Sequence[Cell], directory: CampaignDir) -> None:
    """Write every cell's scenario file (unchanged files are left alone).

    :raises ConfigError: every override that does not fit, at once.
    """
    problems: list[ConfigProblem] = []
    texts = {}
    for cell in cells:
        try:
            texts[cell] = cell_scenario_text(spec, cell)
        except ConfigError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise ConfigError(problems)
    for cell, text in texts.items():
        path = directory.scenario_path(cell.directory)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def validate_cells(
    spec: CampaignSpec, cells: Sequence[Cell], directory: CampaignDir, plugins: Plugins
) -> None:
    """Load and plan the base scenario and every cell's, checking every strategy.

    :raises ConfigError: the base scenario's problems as they are; otherwise every
        cell's problems, each tagged with the cell and its overrides.
    """
    validated_plan(spec.scenario, plugins)
    problems: list[ConfigProblem] = []
    for cell in cells:
        try:
            validated_plan(directory.scenario_path(cell.directory), plugins)
        except ConfigError as exc:
            problems += [_in_cell(p, cell) for p in exc.problems]
    if problems:
        raise ConfigError(problems)


def _in_cell(problem: ConfigProblem, cell: Cell) -> ConfigProblem:
    """The problem, saying which cell and which override led to it."""
    to_blame = [s for s in cell.settings if _within(problem.key, s.parameter.path.text)]
    shown = to_blame or list(cell.settings)
    overrides = "; ".join(
        f"{s.parameter.path} = {show_value(s.value)} (campaign {s.parameter.pos})" for s in shown
    )
    return attrs.evolve(
        problem, message=f"{problem.message} [in cell {cell.name}, set by {overrides}]"
    )


def _within(key: str, path: str) -> bool:
    return key == path or key.startswith((f"{path}.", f"{path}["))
