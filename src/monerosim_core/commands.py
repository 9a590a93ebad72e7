"""What each ``monerosim`` subcommand does (the CLI module only parses arguments)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from monerosim_core.agents.launch import run_agent
from monerosim_core.agents.runtime import AgentSetupError
from monerosim_core.analysis import (
    GroupError,
    MissingScipyError,
    compare,
    load_group,
    render_comparison,
    require_scipy,
)
from monerosim_core.campaign import CampaignError, run_campaign
from monerosim_core.config import ConfigError
from monerosim_core.config.model import (
    BlockControllerSpec,
    Scenario,
    ScriptAgentSpec,
    UserAgentSpec,
)
from monerosim_core.engine.bootstrap_cache import BootstrapCache, CacheError, default_cache_dir
from monerosim_core.engine.convergence import ConvergenceTimeout
from monerosim_core.engine.local import default_run_dir, run_local
from monerosim_core.engine.shadow.placement import PlacementError
from monerosim_core.engine.shadow.run import ShadowMissing, run_shadow
from monerosim_core.engine.shadow.shim import ShimError
from monerosim_core.engine.shadow.simulation import (
    SimulationError,
    Step,
    Variant,
    write_simulation,
)
from monerosim_core.engine.shadow.steps import StepError, run_step
from monerosim_core.planning.plan import Plan
from monerosim_core.planning.prepare import validated_plan
from monerosim_core.planning.strategies import strategies_of
from monerosim_core.plugins.discovery import AgentDiscoveryError
from monerosim_core.plugins.hookspecs import SelectionError
from monerosim_core.plugins.host import MINER_HOOK, RECIPIENT_HOOK, get_plugin_manager
from monerosim_core.records.files import RecordFileError
from monerosim_core.records.layout import (
    AGENT_REGISTRY_FILE,
    MINER_REGISTRY_FILE,
    RunDir,
    RunDirError,
)
from monerosim_core.records.registry import RegistryFormatError, write_registry
from monerosim_core.report import ReportError, render_terminal, write_report
from monerosim_core.rpc import RpcError
from monerosim_core.timeouts import TimeoutFactorError

# Failures a user can cause or meet; anything else is a bug and keeps its traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    AgentSetupError,
    RunDirError,
    AgentDiscoveryError,
    RegistryFormatError,
    RecordFileError,
    SelectionError,
    RpcError,
    ReportError,
    TimeoutFactorError,
    CacheError,
    ShadowMissing,
    SimulationError,
    ShimError,
    PlacementError,
    StepError,
    ConvergenceTimeout,
    CampaignError,
    GroupError,
    MissingScipyError,
    FileExistsError,
    FileNotFoundError,
    NotADirectoryError,
    PermissionError,
)


def dispatch(args: argparse.Namespace) -> int:
    handler = _HANDLERS[args.command]
    return handler(args)


def _validate(args: argparse.Namespace) -> int:
    plugins = get_plugin_manager()
    failed = 0
    for config in args.configs:
        try:
            plan = validated_plan(config, plugins)
        except ConfigError as exc:
            print(f"{config}: INVALID\n{exc}\n", file=sys.stderr)
            failed += 1
            continue
        print(describe_plan(plan))
    return 2 if failed else 0


def describe_plan(plan: Plan) -> str:
    """The human summary ``validate`` prints: agents, miners, solo miners, strategies."""
    scenario: Scenario = plan.scenario
    registry = plan.registry()
    miners = {m.agent_id: m for m in registry.miners}
    lines = [f"{scenario.source}: OK — {len(registry.agents)} agents, {len(miners)} miners"]
    lines += [f"  warning: {w}" for w in scenario.warnings]
    lines.append(
        f"  stop_time {scenario.general.stop_time:g}s, seed "
        f"{scenario.general.seed if scenario.general.seed is not None else '(chosen per run)'}"
    )
    lines.append(f"  {'agent':<18} {'role':<18} {'hashrate':>8} {'probability':>11}  strategies")
    for p in plan.agents:
        miner = miners.get(p.agent.id)
        role_name = _role_name(p.spec)
        if miner is not None and miner.is_solo_miner:
            role_name += " (solo)"
        strategies = strategies_of(p.spec, miner is not None and miner.is_solo_miner)
        shown = ", ".join(f"{_PURPOSE[h]}={ref.name}" for h, ref in strategies.items())
        if isinstance(p.spec, UserAgentSpec) and p.spec.may_withhold:
            assert p.spec.mining_behaviour is not None
            shown = ", ".join(filter(None, [shown, f"behaviour={p.spec.mining_behaviour.name}"]))
        shown = shown or "-"
        rate = f"{miner.hashrate:g}%" if miner else ""
        prob = f"{miner.weight:.4f}" if miner else ""
        lines.append(f"  {p.agent.id:<18} {role_name:<18} {rate:>8} {prob:>11}  {shown}")
    solo = [m.agent_id for m in registry.miners if m.is_solo_miner]
    lines.append(f"  solo miners: {', '.join(solo) if solo else 'none'}")
    if scenario.withholding_miner is not None:
        lines.append(
            f"  gamma {scenario.network.gamma:g} (honest mining on the withheld branch in a tie)"
        )
    return "\n".join(lines)


_PURPOSE = {MINER_HOOK: "miner", RECIPIENT_HOOK: "recipient"}


def _role_name(spec: UserAgentSpec | BlockControllerSpec | ScriptAgentSpec) -> str:
    if isinstance(spec, UserAgentSpec):
        return spec.role.value
    if isinstance(spec, BlockControllerSpec):
        return "block_controller"
    return spec.kind.value


def _plugins(_args: argparse.Namespace) -> int:
    plugins = get_plugin_manager()
    if not plugins.infos:
        print("no plugins installed (pip install monerosim-strategy-weighted, ...)")
        return 0
    print(f"{'plugin':<14} {'distribution':<34} {'version':<9} hooks")
    for info in sorted(plugins.infos.values(), key=lambda i: i.name):
        hooks = ", ".join(info.hooks) if info.loaded else f"FAILED TO LOAD: {info.error}"
        print(f"{info.name:<14} {info.distribution:<34} {info.version:<9} {hooks}")
    for info in sorted(plugins.infos.values(), key=lambda i: i.name):
        if info.warning is not None:
            print(
                f"monerosim: warning: plugin {info.name!r} ({info.distribution}) {info.warning}",
                file=sys.stderr,
            )
    return 0


def _registry(args: argparse.Namespace) -> int:
    plan = validated_plan(args.config, get_plugin_manager())
    shared = RunDir(args.run_dir).shared
    shared.mkdir(parents=True, exist_ok=True)
    os.chmod(shared, 0o700)  # private even when it existed or the umask is strict
    write_registry(shared, plan.registry())
    print(f"wrote {shared / AGENT_REGISTRY_FILE} and {shared / MINER_REGISTRY_FILE}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.engine == "shadow":
        return _run_shadow(args)
    return run_local(
        args.config,
        run_dir=args.run_dir,
        speed=args.speed,
        seed=args.seed,
        progress=args.progress,
        cache=None if args.no_cache else _cache(args),
        force=args.force,
    )


def _run_shadow(args: argparse.Namespace) -> int:
    ignored = {"--speed": args.speed is not None, "--no-cache": args.no_cache,
               "--cache-dir": args.cache_dir is not None}  # fmt: skip
    for option in (name for name, given in ignored.items() if given):
        print(
            f"monerosim: warning: {option} applies to the local engine only; Shadow keeps "
            "its own time and mines the bootstrap in the simulation",
            file=sys.stderr,
        )
    return run_shadow(
        args.config,
        run_dir=args.run_dir or default_run_dir(args.config),
        seed=args.seed,
        variant=Variant(args.shadow_variant),
        shadow=args.shadow,
        progress=args.progress,
    )


def _shadow(args: argparse.Namespace) -> int:
    simulation = write_simulation(
        args.config, args.output, seed=args.seed, variant=Variant(args.shadow_variant)
    )
    for warning in simulation.placement.plan.scenario.warnings:
        print(f"monerosim: warning: {warning}", file=sys.stderr)
    print(f"wrote {simulation.config}")
    print(f"run it with:  shadow {simulation.config}")
    print(f"then report:  monerosim report {simulation.run.root}")
    return 0


def _shadow_step(args: argparse.Namespace) -> int:
    run_step(Step(args.step), RunDir(args.run_dir))
    return 0


def _cache(args: argparse.Namespace) -> BootstrapCache:
    return BootstrapCache(args.cache_dir or default_cache_dir())


def _cache_command(args: argparse.Namespace) -> int:
    cache = _cache(args)
    if args.action == "clear":
        print(f"removed {cache.clear()} bootstrap cache entries from {cache.entries_dir}")
        return 0
    rows = list(cache.entries())
    print(f"{len(rows)} bootstrap cache entries in {cache.entries_dir}")
    for path, entry in rows:
        if isinstance(entry, str):
            print(f"  {path.name}  DAMAGED: {entry}")
        else:
            size = entry.chain.stat().st_size / 1e6
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
            print(f"  {entry.digest}  height {entry.height}  {size:.1f} MB  created {created}")
    return 0


def _agent(args: argparse.Namespace) -> int:
    return run_agent(args.agent_id, args.run_dir, args.incarnation)


def _report(args: argparse.Namespace) -> int:
    report = write_report(args.run_dir)
    print(render_terminal(report))
    return 0


def _campaign(args: argparse.Namespace) -> int:
    return run_campaign(
        args.campaign_file,
        args.campaign_dir,
        cache=None if args.no_cache else _cache(args),
        progress=args.progress,
        dry_run=args.dry_run,
    )


def _compare(args: argparse.Namespace) -> int:
    require_scipy()
    comparison = compare(load_group(args.run_a), load_group(args.run_b))
    print(render_comparison(comparison), end="")
    return 0


_HANDLERS = {
    "validate": _validate,
    "plugins": _plugins,
    "registry": _registry,
    "run": _run,
    "agent": _agent,
    "report": _report,
    "cache": _cache_command,
    "shadow": _shadow,
    "shadow-step": _shadow_step,
    "campaign": _campaign,
    "compare": _compare,
}
