"""Strategy plugins as a user gets them: built as wheels, pip-installed into a fresh
virtualenv and picked by name in YAML, with no change to core.

One module-scoped virtualenv holds core and the weighted, random and round_robin
plugins, installed from wheels built from this repository; each test installs or
uninstalls the distributions it is about and runs that venv's ``monerosim``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "configs" / "quickstart.yaml"
MINING_ARCHITECTURE = ROOT / "configs" / "mining_architecture.yaml"
BALANCE_KEY = "agents.user_agents[8].attributes.miner_selection_strategy"
CONTROLLER_KEY = "agents.block_controller.arguments --strategy"
SHIPPED_PLUGINS = ("weighted", "balance", "random", "round-robin")  # plugins/monerosim-strategy-*

BUILD_TIMEOUT = 300.0
INSTALL_TIMEOUT = 300.0
RUN_TIMEOUT = 60.0

THIRD_PARTY_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.18"]
build-backend = "hatchling.build"

[project]
name = "{distribution}"
version = "{version}"
requires-python = ">=3.11"
dependencies = ["monerosim-core"]

[project.entry-points.monerosim]
{strategy} = "{module}"

[tool.hatch.build.targets.wheel]
packages = ["src/{module}"]
"""

README_EXAMPLE = ROOT / "examples" / "monerosim-strategy-largest"

BROKEN_MESSAGE = "needs libbroken, which is not installed"
BROKEN_MODULE = f"""\
raise ImportError({BROKEN_MESSAGE!r})
"""

# Miner "miner-01" has the smallest share, so only a lowest-id strategy picks it every time.
CONTROLLER_CONFIG = """\
general:
  stop_time: 600
  seed: 7
agents:
  user_agents:
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes:
        hashrate: "5"
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes:
        hashrate: "60"
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes:
        hashrate: "35"
  block_controller:
    script: agents.block_controller
    arguments: ["--strategy {strategy}"]
"""

# Run inside the test venv: which miner does the configured controller strategy pick?
CONTROLLER_PICKS = """\
import random
import sys
from pathlib import Path

from monerosim_core.planning.prepare import validated_plan
from monerosim_core.planning.strategies import controller_strategy
from monerosim_core.plugins.host import get_plugin_manager
from monerosim_core.plugins.selection import StrategyContext

plugins = get_plugin_manager()
plan = validated_plan(Path(sys.argv[1]), plugins)
ref = controller_strategy(plan.scenario.block_controller)
selector = plugins.miner_selector(ref, random.Random(0), StrategyContext())
miners = list(reversed(plan.registry().miners))
print(" ".join(sorted({selector.select(miners).agent_id for _ in range(50)})))
"""


def run(
    command: Sequence[str | Path], *, timeout: float, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=_clean_env(),
        check=False,
    )


def _clean_env() -> dict[str, str]:
    """This environment without what could make the venv see another install or skip
    entry points."""
    dropped = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    return {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith("MONEROSIM_")
    }


def succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"{' '.join(result.args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def build_wheels(wheelhouse: Path, *projects: Path) -> None:
    """Build each project's wheel into ``wheelhouse``, as a release would."""
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    command: list[str | Path] = [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation]
    command += ["-w", wheelhouse]
    succeeded(run([*command, *projects], timeout=BUILD_TIMEOUT))


def wheel(wheelhouse: Path, distribution: str) -> Path:
    [found] = wheelhouse.glob(f"{distribution.replace('-', '_')}-*.whl")
    return found


def write_distribution(
    base: Path, distribution: str, version: str, strategy: str, source: str
) -> Path:
    """A third-party strategy distribution's source tree, as its author would write it."""
    module = distribution.replace("-", "_")
    project = base / distribution
    (project / "src" / module).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        THIRD_PARTY_PYPROJECT.format(
            distribution=distribution, version=version, strategy=strategy, module=module
        )
    )
    (project / "src" / module / "__init__.py").write_text(source)
    return project


@attrs.frozen
class Venv:
    root: Path
    wheelhouse: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def pip(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return succeeded(run([self.python, "-m", "pip", *args], timeout=INSTALL_TIMEOUT))

    def install(self, *distributions: str) -> None:
        wheels = [wheel(self.wheelhouse, d) for d in distributions]
        self.pip("install", "--find-links", self.wheelhouse, *wheels)

    def uninstall(self, distribution: str) -> None:
        self.pip("uninstall", "--yes", distribution)

    def monerosim(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        result = run([self.root / "bin" / "monerosim", *args], timeout=RUN_TIMEOUT, cwd=cwd)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv with core, weighted, random and round_robin installed from wheels
    (balance deliberately left out)."""
    base = tmp_path_factory.mktemp("plugin-install")
    wheelhouse = base / "wheelhouse"
    plugins = ROOT / "plugins"
    build_wheels(
        wheelhouse,
        ROOT,
        *(plugins / f"monerosim-strategy-{name}" for name in SHIPPED_PLUGINS),
    )
    env = Venv(base / "venv", wheelhouse)
    succeeded(run([sys.executable, "-m", "venv", env.root], timeout=INSTALL_TIMEOUT))
    env.install(
        "monerosim-core",
        "monerosim-strategy-weighted",
        "monerosim-strategy-random",
        "monerosim-strategy-round-robin",
    )
    where = run(
        [env.python, "-c", "import monerosim_core; print(monerosim_core.__file__)"],
        timeout=RUN_TIMEOUT,
    )
    assert Path(succeeded(where).stdout.strip()).is_relative_to(env.root), (
        "the test venv must use the installed wheel, not this checkout"
    )
    return env


def value_position(path: Path, key: str, value: str) -> tuple[int, int]:
    """1-based line and column of the one ``key: value`` in a YAML file (at the value,
    its opening quote included)."""
    pattern = re.compile(rf"^\s*{re.escape(key)}:\s*(([\"']?){re.escape(value)}\2)\s*(#.*)?$")
    found = [
        (number, match.start(1) + 1)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if (match := pattern.match(line))
    ]
    assert len(found) == 1, f"expected one '{key}: {value}' in {path}, found {found}"
    return found[0]


def text_position(path: Path, text: str) -> tuple[int, int]:
    [(line, col)] = [
        (number, row.index(text) + 1)
        for number, row in enumerate(path.read_text().splitlines(), start=1)
        if text in row
    ]
    return line, col


def assert_balance_not_installed(result: subprocess.CompletedProcess[str]) -> None:
    line, col = value_position(QUICKSTART, "miner_selection_strategy", "balance")
    assert result.returncode == 2, result.stdout + result.stderr
    [problem] = [row for row in result.stderr.splitlines() if BALANCE_KEY in row]
    assert problem.startswith(f"{QUICKSTART}:{line}:{col}: {BALANCE_KEY}: "), problem
    assert "unknown miner selection strategy 'balance'" in problem
    listed = re.search(r"installed: ([^.]*)\.", problem)
    assert listed is not None, problem
    installed = set(listed.group(1).split(", "))
    assert {"weighted", "random"} <= installed
    assert "balance" not in installed
    assert problem.endswith("pip install monerosim-strategy-balance"), problem


def test_config_naming_an_uninstalled_strategy_fails_until_it_is_installed(
    venv: Venv, tmp_path: Path
) -> None:
    assert_balance_not_installed(venv.monerosim("validate", QUICKSTART, cwd=tmp_path))

    venv.install("monerosim-strategy-balance")
    valid = venv.monerosim("validate", QUICKSTART, cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    [distributor] = [row for row in valid.stdout.splitlines() if "distributor-01" in row]
    assert distributor.endswith("miner=balance, recipient=round_robin")

    venv.uninstall("monerosim-strategy-balance")
    assert_balance_not_installed(venv.monerosim("validate", QUICKSTART, cwd=tmp_path))


def test_the_readme_example_wheel_makes_its_strategy_name_usable(
    venv: Venv, tmp_path: Path
) -> None:
    build_wheels(venv.wheelhouse, README_EXAMPLE)
    venv.install("monerosim-strategy-largest")
    config = tmp_path / "scenario.yaml"
    config.write_text(CONTROLLER_CONFIG.format(strategy="largest"))

    valid = venv.monerosim("validate", config.name, cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    [controller] = [row for row in valid.stdout.splitlines() if "block-controller" in row]
    assert controller.endswith("miner=largest")

    listing = venv.monerosim("plugins", cwd=tmp_path)
    assert listing.returncode == 0
    [row] = [r for r in listing.stdout.splitlines() if r.startswith("largest ")]
    assert row.split() == [
        "largest",
        "monerosim-strategy-largest",
        "0.1.0",
        "monerosim_select_miner",
    ]

    # The name reaches the installed hook: it always picks miner-02, the largest share.
    picks = run(
        [venv.python, "-c", CONTROLLER_PICKS, config.name], timeout=RUN_TIMEOUT, cwd=tmp_path
    )
    assert succeeded(picks).stdout.split() == ["miner-02"]


def test_the_readme_shows_the_example_plugin_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    for path in (
        README_EXAMPLE / "pyproject.toml",
        README_EXAMPLE / "src" / "monerosim_strategy_largest" / "__init__.py",
        README_EXAMPLE / "tests" / "test_largest.py",
    ):
        assert path.read_text().strip() in readme, f"README.md does not show {path} as it is"


def test_a_broken_third_party_plugin_only_fails_configs_that_select_it(
    venv: Venv, tmp_path: Path
) -> None:
    project = write_distribution(
        tmp_path, "monerosim-strategy-broken", "0.0.1", "broken", BROKEN_MODULE
    )
    build_wheels(venv.wheelhouse, project)
    venv.install("monerosim-strategy-broken")
    failure = f"ImportError: {BROKEN_MESSAGE}"

    listing = venv.monerosim("plugins", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {row.split()[0]: row for row in listing.stdout.splitlines()[1:]}
    assert rows["broken"].split()[:3] == ["broken", "monerosim-strategy-broken", "0.0.1"]
    assert rows["broken"].endswith(f"FAILED TO LOAD: {failure}")
    assert rows["weighted"].endswith("monerosim_select_miner")

    unaffected = venv.monerosim("validate", MINING_ARCHITECTURE, cwd=tmp_path)
    assert unaffected.returncode == 0, unaffected.stderr

    config = tmp_path / "scenario.yaml"
    config.write_text(CONTROLLER_CONFIG.format(strategy="broken"))
    line, col = text_position(config, '"--strategy broken"')
    selected = venv.monerosim("validate", config.name, cwd=tmp_path)
    assert selected.returncode == 2
    assert (
        f"scenario.yaml:{line}:{col}: {CONTROLLER_KEY}: the miner selection strategy 'broken' "
        f"is installed (monerosim-strategy-broken 0.0.1) but failed to load: {failure}"
    ) in selected.stderr.splitlines()
