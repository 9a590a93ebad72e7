"""Selfish mining's relative revenue against Eyal and Sirer's curve, in two layers.

Run: ``.venv/bin/python experiments/selfish_revenue.py [--daemon-blocks N |
--daemon-half-width 0.03 [--daemon-alphas 0.25 0.4] [--parallel 2]]
[--plot docs/selfish_revenue.png]``

1. **The controller's decisions** (no daemons): for every alpha and gamma of the
   grid, ``--seeds`` races of ``--blocks`` blocks decided by the block controller's
   referee with the ``selfish`` behaviour (``monerosim_core.testing.simulate_race``);
   the mean revenue with a 95 % t-interval across seeds, beside the closed form.
2. **Real daemons**: for each of ``--daemon-alphas`` and gamma in {0, 0.5}, one
   ``monerosim run`` of a network of three miners (the selfish pool with alpha,
   two honest miners with 60/40 of the rest) for ``--daemon-blocks`` blocks; the
   pool's share of the main chain as the run's report measured it (the daemons'
   own fork choice), with a 95 % interval from batch means (the main chain cut in
   twenty consecutive batches: races last a few blocks, so batches are close to
   independent). Without ``--daemon-blocks`` or ``--daemon-half-width`` this layer
   is skipped (the plot shows the saved points). ``--daemon-half-width H``
   sizes each point's run instead: the blocks its interval needs for a half-width
   of H, from the spread of the model's races at that point (revenue varies far
   more at alpha 0.4, where races are long, than at 0.1). ``--parallel N`` runs N
   points at once (one run at alpha 0.25 leaves ~30 % of this 2-core machine idle).

Prints one table and writes the plot (theory curves, the model's points, the real
daemons' points) when matplotlib is installed. The points are also kept as JSON
beside the plot; real points measured by earlier invocations stay in it (and on
the plot) unless this one measures them again, so the grid can be run in parts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from monerosim_behaviour_selfish.theory import sm1_relative_revenue
from scipy import stats

from monerosim_core.records.layout import RunDir
from monerosim_core.testing import load_behaviour, simulate_race

ROOT = Path(__file__).resolve().parent.parent
ALPHAS = (0.1, 0.2, 0.25, 0.3, 0.35, 0.4)
GAMMAS = (0.0, 0.5)
BATCHES = 20

NETWORK = """\
general: {{stop_time: {stop_time}, seed: {seed}, bootstrap_blocks: 5}}
network: {{gamma: {gamma}}}
agents:
  user_agents:
    - daemon: monerod
      wallet: monero-wallet-rpc
      is_miner: true
      attributes: {{hashrate: {pool}, mining_behaviour: selfish}}
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: {a}}}}}
    - {{daemon: monerod, wallet: monero-wallet-rpc, is_miner: true, attributes: {{hashrate: {b}}}}}
  block_controller:
    script: agents.block_controller
    arguments: ["--interval 60"]
"""


@dataclass(frozen=True)
class DaemonPoint:
    """One real run's result: the pool's share of the main chain and its interval."""

    revenue: float
    half_width: float
    main_chain_blocks: int
    wall_seconds: int
    batches: int = BATCHES


class RunFailed(Exception):
    """A real run exited non-zero (its output's tail is the message)."""


def t_interval(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the 95 % t-interval."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return mean, float(half)


def model_point(alpha: float, gamma: float, blocks: int, seeds: int) -> tuple[float, float]:
    behaviour = load_behaviour("selfish")
    revenues = [
        simulate_race(
            behaviour, alpha=alpha, gamma=gamma, blocks=blocks, seed=seed
        ).relative_revenue
        for seed in range(seeds)
    ]
    return t_interval(revenues)


def blocks_for(half_width: float, model_half: float, blocks: int, seeds: int) -> int:
    """Blocks a real run needs for a batch-means interval of ``half_width``, from the
    model's interval at the same point (``model_half`` over ``seeds`` races of
    ``blocks``): the per-block spread is the same. A fifth more are added: twenty
    batches estimate their own spread within ~16 %, so an interval sized exactly
    would come out wider than ``half_width`` half the time. Rounded up to whole
    batches."""
    per_block_sd = model_half / stats.t.ppf(0.975, seeds - 1) * (seeds * blocks) ** 0.5
    needed = (stats.t.ppf(0.975, BATCHES - 1) * per_block_sd / half_width) ** 2 * 1.2
    return BATCHES * -(-int(needed) // BATCHES)


def daemon_point(alpha: float, gamma: float, blocks: int, seed: int, workdir: Path) -> DaemonPoint:
    """One real run of ``blocks`` blocks at this point."""
    rest = 100 * (1 - alpha)
    config = workdir / f"selfish-{alpha:g}-{gamma:g}.yaml"
    config.write_text(
        NETWORK.format(
            stop_time=60 * blocks + 30,
            seed=seed,
            gamma=gamma,
            pool=f"{100 * alpha:g}",
            a=f"{0.6 * rest:g}",
            b=f"{0.4 * rest:g}",
        )
    )
    run_dir = workdir / config.stem
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "monerosim_core.cli",
            "run",
            str(config),
            "--run-dir",
            str(run_dir),
            "--progress",
            "lines",
        ],
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RunFailed(f"run {config.name} exited {done.returncode}:\n{done.stdout[-3000:]}")
    run = RunDir(run_dir)
    final = run.read_final_state()
    assert final is not None
    winner = {b.hash: b.winner for b in run.blocks.read().records if not b.bootstrap}
    chain = [
        winner[block.hash]
        for _, block in sorted(final.chain.items(), key=lambda item: int(item[0]))
        if block.hash in winner
    ]
    size = len(chain) // BATCHES
    shares = [
        sum(1 for w in chain[i * size : (i + 1) * size] if w == "miner-01") / size
        for i in range(BATCHES)
    ]
    mean = sum(1 for w in chain if w == "miner-01") / len(chain)
    return DaemonPoint(mean, t_interval(shares)[1], len(chain), round(wall))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Many short races rather than a few long ones: the same blocks, and a spread
    # (which sizes the real runs) known within ~7 % rather than ~25 %.
    parser.add_argument("--blocks", type=int, default=2_000, help="per model race")
    parser.add_argument("--seeds", type=int, default=100, help="model races per point")
    parser.add_argument("--daemon-blocks", type=int, default=0, help="per real run")
    parser.add_argument(
        "--daemon-half-width", type=float, help="size each run for this interval half-width"
    )
    parser.add_argument("--daemon-alphas", type=float, nargs="*", default=[0.25, 0.4])
    parser.add_argument("--parallel", type=int, default=1, help="real runs at once")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "selfish_revenue.png")
    args = parser.parse_args()

    print(f"model: {args.seeds} seeds x {args.blocks} blocks per point")
    print(f"{'gamma':>5} {'alpha':>5} {'theory':>7} {'model':>16}")
    model: dict[tuple[float, float], tuple[float, float]] = {}
    started = time.monotonic()
    for gamma in GAMMAS:
        for alpha in ALPHAS:
            mean, half = model[alpha, gamma] = model_point(alpha, gamma, args.blocks, args.seeds)
            theory = sm1_relative_revenue(alpha, gamma)
            print(f"{gamma:5.2f} {alpha:5.2f} {theory:7.4f} {mean:9.4f} ± {half:.4f}")
    print(f"model wall time: {time.monotonic() - started:.0f} s")

    saved = args.plot.with_suffix(".json")
    daemons = _earlier_daemon_points(saved)
    if args.daemon_blocks or args.daemon_half_width:
        size = (
            f"blocks for a +-{args.daemon_half_width:g} interval"
            if args.daemon_half_width
            else f"{args.daemon_blocks} blocks"
        )
        print(f"\nreal daemons: one run per point, {size}, {args.parallel} at once")
        print(f"{'gamma':>5} {'alpha':>5} {'theory':>7} {'daemons':>16} {'chain':>6} {'wall':>6}")
        points = {
            (alpha, gamma): (
                blocks_for(args.daemon_half_width, model[alpha, gamma][1], args.blocks, args.seeds)
                if args.daemon_half_width
                else args.daemon_blocks
            )
            for gamma in GAMMAS
            for alpha in args.daemon_alphas
        }
        started = time.monotonic()
        with (
            tempfile.TemporaryDirectory(prefix="monerosim-selfish-") as tmp,
            ThreadPoolExecutor(max_workers=args.parallel) as pool,
        ):
            # The shortest runs first: a grid cut short keeps the most points.
            runs = {
                pool.submit(daemon_point, alpha, gamma, blocks, seed=11, workdir=Path(tmp)): (
                    alpha,
                    gamma,
                )
                for (alpha, gamma), blocks in sorted(points.items(), key=lambda p: p[1])
            }
            for done in as_completed(runs):
                alpha, gamma = runs[done]
                try:
                    point = daemons[alpha, gamma] = done.result()
                except RunFailed as exc:
                    print(f"{gamma:5.2f} {alpha:5.2f} failed: {exc}", flush=True)
                    continue
                theory = sm1_relative_revenue(alpha, gamma)
                print(
                    f"{gamma:5.2f} {alpha:5.2f} {theory:7.4f} {point.revenue:9.4f}"
                    f" ± {point.half_width:.4f} {point.main_chain_blocks:6d}"
                    f" {point.wall_seconds:5d}s",
                    flush=True,
                )
                _save(saved, model, daemons)
        print(f"real daemons wall time: {time.monotonic() - started:.0f} s")
    _plot(args.plot, model, daemons)


def _earlier_daemon_points(path: Path) -> dict[tuple[float, float], DaemonPoint]:
    """The real points an earlier invocation saved at ``path`` (none if absent)."""
    if not path.exists():
        return {}
    points = json.loads(path.read_text())["daemons"]
    return {
        (p.pop("alpha"), p.pop("gamma")): DaemonPoint(
            **{k: v for k, v in p.items() if k != "theory"}
        )
        for p in points
    }


def _save(
    path: Path,
    model: dict[tuple[float, float], tuple[float, float]],
    daemons: dict[tuple[float, float], DaemonPoint],
) -> None:
    """The points measured so far, beside the plot (rewritten after every real run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "model": [
                    {"alpha": a, "gamma": g, "revenue": m, "half_width": h}
                    for (a, g), (m, h) in sorted(model.items())
                ],
                "daemons": [
                    {"alpha": a, "gamma": g, "theory": sm1_relative_revenue(a, g)} | asdict(p)
                    for (a, g), p in sorted(daemons.items())
                ],
            },
            indent=1,
        )
        + "\n"
    )


def _plot(
    path: Path,
    model: dict[tuple[float, float], tuple[float, float]],
    daemons: dict[tuple[float, float], DaemonPoint],
) -> None:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    grid = [i / 200 for i in range(0, 96)]
    for gamma, colour in zip(GAMMAS, ("tab:blue", "tab:orange"), strict=True):
        axes.plot(
            grid,
            [sm1_relative_revenue(a, gamma) for a in grid],
            color=colour,
            label=f"Eyal-Sirer, $\\gamma$={gamma:g}",
        )
        points = sorted((a, m) for (a, g), m in model.items() if g == gamma)
        axes.errorbar(
            [a for a, _ in points],
            [m for _, (m, _) in points],
            yerr=[h for _, (_, h) in points],
            fmt="o",
            color=colour,
            markersize=4,
            label=f"controller's decisions, $\\gamma$={gamma:g}",
        )
        real = sorted((a, p) for (a, g), p in daemons.items() if g == gamma)
        if real:
            axes.errorbar(
                [a for a, _ in real],
                [p.revenue for _, p in real],
                yerr=[p.half_width for _, p in real],
                fmt="s",
                color=colour,
                markerfacecolor="white",
                capsize=3,
                label=f"real monerod, $\\gamma$={gamma:g}",
            )
    axes.plot([0, 0.5], [0, 0.5], color="grey", linestyle=":", label="honest (revenue = $\\alpha$)")
    axes.set_xlabel("pool hashrate share $\\alpha$")
    axes.set_ylabel("pool's share of the main chain")
    axes.set_xlim(0, 0.5)
    axes.set_ylim(0, 0.7)
    axes.legend(fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
