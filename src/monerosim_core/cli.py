"""The ``monerosim`` command line.

Every expected failure (bad config, unknown strategy, unreachable daemon, missing
run) is printed as one clear message and exits non-zero; tracebacks are for bugs.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from monerosim_core import commands
from monerosim_core.config import ConfigError
from monerosim_core.config.model import MAX_SPEED, MIN_SPEED
from monerosim_core.engine.shadow.simulation import Step, Variant
from monerosim_core.exit_codes import ExitCode
from monerosim_core.timeouts import FACTOR_ENV, read_factor


def _timeout_factor(text: str) -> float:
    try:
        return read_factor(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, found {text!r}") from None


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not MIN_SPEED <= value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(
            f"expected a number from {MIN_SPEED:g} to {MAX_SPEED:g} "
            f"(simulated seconds per wall second), found {text!r}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monerosim",
        description="Simulate a Monero proof-of-work network with real regtest daemons.",
    )
    parser.add_argument(
        "--timeout-factor",
        type=_timeout_factor,
        metavar="F",
        help=f"multiply every wall-clock timeout by F (a slow machine); also {FACTOR_ENV}",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check config files and show what they describe")
    p.add_argument("configs", nargs="+", type=Path, metavar="CONFIG")

    sub.add_parser("plugins", help="list installed plugins and their strategies")

    p = sub.add_parser("registry", help="write the agent and miner registries for a config")
    p.add_argument("config", type=Path)
    p.add_argument("--run-dir", type=Path, required=True)

    p = sub.add_parser("run", help="run a scenario on real daemons (local engine, or Shadow)")
    p.add_argument("config", type=Path)
    p.add_argument("--run-dir", type=Path, help="default: runs/<config name>-<time>")
    p.add_argument(
        "--force", action="store_true", help="move an existing, non-empty --run-dir aside"
    )
    p.add_argument(
        "--engine",
        choices=["local", "shadow"],
        default="local",
        help="local: daemons on this machine (default); shadow: in the Shadow simulator",
    )
    p.add_argument("--speed", type=_speed, help="simulated seconds per wall second (local)")
    p.add_argument("--seed", type=int, help="overrides general.seed")
    _shadow_options(p)
    p.add_argument(
        "--shadow", type=Path, metavar="PATH", help="the Shadow binary (default: "
        "/opt/shadow/bin/shadow, else shadow on PATH)"
    )  # fmt: skip
    _cache_dir_option(p)
    p.add_argument(
        "--no-cache", action="store_true", help="mine the bootstrap; use and keep no cached one"
    )
    _progress_option(p)

    p = sub.add_parser("agent", help="run one agent of a started run (used by the engines)")
    p.add_argument("agent_id")
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--incarnation", type=int, default=0, help=argparse.SUPPRESS)

    p = sub.add_parser("shadow", help="write a scenario as a Shadow simulation (not run)")
    p.add_argument("config", type=Path)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="DIR",
        help="the run directory to create; run it with: shadow DIR/shadow/shadow.yaml",
    )
    p.add_argument("--seed", type=int, help="overrides general.seed")
    _shadow_options(p)

    p = sub.add_parser("shadow-step", help="an engine step inside a Shadow simulation")
    p.add_argument("step", choices=[step.value for step in Step])
    p.add_argument("--run-dir", type=Path, required=True)

    p = sub.add_parser("report", help="analyse a run directory and write its report")
    p.add_argument("run_dir", type=Path)

    p = sub.add_parser(
        "campaign", help="run a scenario over seeds and a grid of overrides; resumable"
    )
    p.add_argument("campaign_file", type=Path, metavar="CAMPAIGN")
    p.add_argument(
        "--dir",
        type=Path,
        dest="campaign_dir",
        help="campaign directory (default: runs/campaign-<name>); run again to resume",
    )
    _cache_dir_option(p)
    p.add_argument("--no-cache", action="store_true", help="mine every run's bootstrap")
    _progress_option(p)
    p.add_argument(
        "--dry-run", action="store_true", help="validate every cell and list the runs; run nothing"
    )

    p = sub.add_parser("compare", help="two runs (or two campaign cells) side by side, with tests")
    p.add_argument(
        "run_a", type=Path, metavar="RUN_A", help="a run directory or a directory of runs"
    )
    p.add_argument("run_b", type=Path, metavar="RUN_B")

    p = sub.add_parser("cache", help="list or clear the cached bootstrap chains")
    p.add_argument("action", choices=["list", "clear"])
    _cache_dir_option(p)
    return parser


def _shadow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shadow-variant",
        choices=[v.value for v in Variant],
        default=Variant.STOCK.value,
        help="stock: Shadow 3.x as released (monerod gets a compiled setsockopt shim); "
        "shadowformonero: the patched fork, no shim",
    )


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        choices=["auto", "live", "lines"],
        default="auto",
        help="live status line on a terminal, plain log lines otherwise (auto)",
    )


def _cache_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="bootstrap cache directory (default: $XDG_CACHE_HOME/monerosim or ~/.cache/monerosim)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.timeout_factor is not None:
        # Through the environment, so every process the run starts inherits it.
        os.environ[FACTOR_ENV] = repr(args.timeout_factor)
    try:
        return commands.dispatch(args)
    except ConfigError as exc:
        print(f"monerosim: configuration error:\n{exc}", file=sys.stderr)
        return ExitCode.CONFIG
    except commands.EXPECTED_ERRORS as exc:
        print(f"monerosim: error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    except KeyboardInterrupt:
        print("monerosim: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`monerosim plugins | head`): nothing left to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
