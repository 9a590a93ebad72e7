"""The plugin host: loading plugins and calling strategies by name.

Core never calls ``pm.hook`` directly; it goes through :class:`Plugins`, which
knows which strategy names exist, which plugins failed to load, and builds a
selector bound to the single plugin a scenario named.

Environment switches:

- ``MONEROSIM_DISABLE_PLUGIN_AUTOLOAD=1`` loads no entry points (only built-ins
  and plugins registered by hand), for tests and for bisecting a broken plugin.
- ``MONEROSIM_TRACE_HOOKS=1`` writes every hook call and result to stderr.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import os
import random
import sys
from pathlib import Path
from typing import Any

import attrs
import pluggy

from monerosim_core.config import ConfigError, ConfigProblem
from monerosim_core.config.model import HONEST_BEHAVIOUR, StrategyRef
from monerosim_core.plugins import hookspecs
from monerosim_core.plugins.behaviour import HONEST, MiningBehaviour
from monerosim_core.plugins.discovery import RegistryFileDiscovery
from monerosim_core.plugins.selection import Selector, StrategyContext
from monerosim_core.records.registry import Agent, Miner, Registry

ENTRY_POINT_GROUP = "monerosim"
AUTOLOAD_ENV = "MONEROSIM_DISABLE_PLUGIN_AUTOLOAD"
TRACE_ENV = "MONEROSIM_TRACE_HOOKS"

BUILTIN_DISCOVERY = "monerosim-registry-files"
MINER_HOOK = "monerosim_select_miner"
RECIPIENT_HOOK = "monerosim_select_recipient"
BEHAVIOUR_HOOKS = ("monerosim_mining_parent", "monerosim_mining_reveal")
_HOOK_PURPOSE = {MINER_HOOK: "miner selection", RECIPIENT_HOOK: "recipient selection"}

# The distributions this project ships, so a missing one can be named exactly.
SHIPPED_DISTRIBUTIONS = {
    "weighted": "monerosim-strategy-weighted",
    "balance": "monerosim-strategy-balance",
    "random": "monerosim-strategy-random",
    "round_robin": "monerosim-strategy-round-robin",
    "selfish": "monerosim-behaviour-selfish",
    "lead_stubborn": "monerosim-behaviour-selfish",
}

_log = logging.getLogger("monerosim.plugins")


@attrs.frozen
class PluginInfo:
    """An installed plugin as ``monerosim plugins`` shows it."""

    name: str  # the entry point name, which is the strategy name
    distribution: str
    version: str
    module: str
    hooks: tuple[str, ...]
    error: str | None = None  # set when the plugin failed to load

    @property
    def loaded(self) -> bool:
        return self.error is None

    @property
    def warning(self) -> str | None:
        """What is odd about a plugin that loaded: it implements no monerosim hook."""
        if self.loaded and not self.hooks:
            return "implements no monerosim hook: nothing can use it"
        return None


@attrs.define
class Plugins:
    """The loaded plugin manager and what is known about each plugin."""

    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo] = attrs.field(factory=dict)

    def register(self, plugin: object, name: str) -> None:
        """Register a plugin object by hand (tests, notebooks) under a strategy name."""
        self.pm.register(plugin, name=name)
        hooks = tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or ()))
        module = getattr(plugin, "__name__", type(plugin).__qualname__)
        self.infos[name] = PluginInfo(name, "(registered in code)", "-", module, hooks)

    def discover(self, shared_dir: Path) -> Registry | None:
        """``monerosim_discover_agents``, newest plugin first, first answer wins.

        No config selects a discovery plugin, so a third-party one that raises or
        answers something other than a Registry is reported by name and skipped
        (it must not take every agent down); the built-in reader's own errors
        (missing or malformed registry) are the user's to see.
        """
        caller = self.pm.hook.monerosim_discover_agents
        for impl in reversed(caller.get_hookimpls()):  # pluggy's call order
            builtin = impl.plugin_name == BUILTIN_DISCOVERY
            try:
                answer = impl.function(shared_dir=shared_dir)
            except Exception as exc:
                if builtin:
                    raise
                _log.warning("discovery plugin %r failed, skipped: %s", impl.plugin_name, exc)
                continue
            if answer is None:
                continue
            if isinstance(answer, Registry):
                return answer
            _log.warning(
                "discovery plugin %r answered %s, not a Registry; skipped",
                impl.plugin_name,
                type(answer).__name__,
            )
        return None

    def strategy_names(self, hook_name: str) -> list[str]:
        """Names of the loaded plugins implementing ``hook_name``, sorted."""
        caller = getattr(self.pm.hook, hook_name)
        return sorted(
            impl.plugin_name for impl in caller.get_hookimpls() if impl.plugin_name in self.infos
        )

    def miner_selector(
        self, ref: StrategyRef, rng: random.Random, context: StrategyContext
    ) -> Selector[Miner]:
        return Selector(ref.name, "miner selection", self._caller(MINER_HOOK, ref), rng, context)

    def recipient_selector(
        self, ref: StrategyRef, rng: random.Random, context: StrategyContext
    ) -> Selector[Agent]:
        return Selector(
            ref.name, "recipient selection", self._caller(RECIPIENT_HOOK, ref), rng, context
        )

    def behaviour_names(self) -> list[str]:
        """The mining behaviours: ``honest`` and every loaded plugin with a mining hook."""
        names = {HONEST_BEHAVIOUR}
        for hook_name in BEHAVIOUR_HOOKS:
            names.update(self.strategy_names(hook_name))
        return sorted(names)

    def mining_behaviour(self, ref: StrategyRef) -> MiningBehaviour:
        """The behaviour ``ref`` names; :class:`ConfigError` (at ``ref``) if there is none."""
        info = self.infos.get(ref.name)
        if info is not None and not info.loaded:
            raise _config_error(
                ref,
                f"the mining behaviour {ref.name!r} is installed ({info.distribution} "
                f"{info.version}) but failed to load: {info.error}",
            )
        if ref.name not in self.behaviour_names():
            raise _config_error(ref, self._unknown_behaviour_message(ref.name, info))
        others = [p for name, p in self.pm.list_name_plugin() if name != ref.name]
        parent, reveal = (
            self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            for hook_name in BEHAVIOUR_HOOKS
        )
        return MiningBehaviour(ref.name, parent, reveal)

    def _unknown_behaviour_message(self, name: str, info: PluginInfo | None) -> str:
        known = self.behaviour_names()
        if info is not None:
            return (
                f"plugin {name!r} ({info.distribution}) is not a mining behaviour; "
                f"behaviours: {', '.join(known)}"
            )
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            return f"unknown mining behaviour {name!r} (did you mean {close[0]!r}?); known: " + (
                ", ".join(known)
            )
        distribution = SHIPPED_DISTRIBUTIONS.get(
            name, "monerosim-behaviour-" + name.replace("_", "-")
        )
        return (
            f"unknown mining behaviour {name!r}; known: {', '.join(known)}. The plugin may not "
            f"be installed: pip install {distribution}"
        )

    def check(self, hook_name: str, ref: StrategyRef) -> None:
        """Raise :class:`ConfigError` unless ``ref`` names a usable strategy for the hook."""
        self._caller(hook_name, ref)

    def _caller(self, hook_name: str, ref: StrategyRef) -> Any:
        purpose = _HOOK_PURPOSE[hook_name]
        info = self.infos.get(ref.name)
        if info is not None and not info.loaded:
            raise _config_error(
                ref,
                f"the {purpose} strategy {ref.name!r} is installed "
                f"({info.distribution} {info.version}) but failed to load: {info.error}",
            )
        if ref.name not in self.strategy_names(hook_name):
            raise _config_error(ref, self._unknown_message(hook_name, ref.name, info))
        others = [p for name, p in self.pm.list_name_plugin() if name != ref.name]
        return self.pm.subset_hook_caller(hook_name, remove_plugins=others)

    def _unknown_message(self, hook_name: str, name: str, info: PluginInfo | None) -> str:
        purpose = _HOOK_PURPOSE[hook_name]
        installed = self.strategy_names(hook_name)
        if info is not None:
            return (
                f"strategy {name!r} ({info.distribution}) does not implement {purpose}; "
                f"strategies that do: {', '.join(installed) or 'none'}"
            )
        listed = f"installed: {', '.join(installed) or 'none'}"
        close = difflib.get_close_matches(name, installed, n=1)
        if close:
            # A typo: an install hint would name a distribution that does not exist.
            return f"unknown {purpose} strategy {name!r} (did you mean {close[0]!r}?); {listed}"
        distribution = SHIPPED_DISTRIBUTIONS.get(
            name, "monerosim-strategy-" + name.replace("_", "-")
        )
        return (
            f"unknown {purpose} strategy {name!r}; {listed}. The plugin may not be "
            f"installed: pip install {distribution}"
        )


def get_plugin_manager(*, autoload: bool | None = None) -> Plugins:
    """A fresh plugin manager with the built-ins and (unless disabled) entry points.

    Each entry point is loaded in its own ``try``: a plugin that fails to import is
    recorded with its error and skipped, so it only matters if a scenario selects it.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(RegistryFileDiscovery(), name=BUILTIN_DISCOVERY)
    pm.register(HONEST, name=HONEST_BEHAVIOUR)
    plugins = Plugins(pm)
    if autoload is None:
        autoload = os.environ.get(AUTOLOAD_ENV, "") in ("", "0")
    if autoload:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            _load_entry_point(plugins, ep)
    pm.check_pending()
    if os.environ.get(TRACE_ENV, "") not in ("", "0"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return plugins


def _load_entry_point(plugins: Plugins, ep: importlib.metadata.EntryPoint) -> None:
    dist = ep.dist
    distribution = dist.name if dist is not None else "?"
    version = dist.version if dist is not None else "?"
    taken = plugins.infos.get(ep.name)
    if taken is not None:
        # Two distributions claim one strategy name: keep the first, say so for the second.
        plugins.infos[f"{ep.name} ({distribution})"] = PluginInfo(
            ep.name,
            distribution,
            version,
            ep.value,
            (),
            error=f"strategy name {ep.name!r} is already provided by {taken.distribution}",
        )
        return
    try:
        module = ep.load()
        other_name = plugins.pm.get_name(module)
        if other_name is not None:
            # pluggy registers an object once; say so in our words, not pluggy's.
            raise ValueError(
                f"entry point {ep.name!r} ({ep.value}) names the same module as strategy "
                f"{other_name!r}; a module can be registered under one name only "
                "(give each strategy name its own module or object)"
            )
        plugins.pm.register(module, name=ep.name)
        callers = plugins.pm.get_hookcallers(module) or []
        unknown = sorted(c.name for c in callers if not c.has_spec())
        if unknown:
            raise pluggy.PluginValidationError(
                module, f"implements hooks that monerosim does not define: {', '.join(unknown)}"
            )
        hooks = tuple(sorted(c.name for c in callers))
    except Exception as exc:  # any failure of third-party code must not take core down
        if plugins.pm.get_plugin(ep.name) is not None:
            plugins.pm.unregister(name=ep.name)
        plugins.infos[ep.name] = PluginInfo(
            ep.name, distribution, version, ep.value, (), error=f"{type(exc).__name__}: {exc}"
        )
        return
    plugins.infos[ep.name] = PluginInfo(ep.name, distribution, version, ep.value, hooks)


def _config_error(ref: StrategyRef, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(pos=ref.pos, key=ref.key, message=message)])
