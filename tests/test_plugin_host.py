"""The plugin host: strategies by name, broken plugins, unknown names, discovery hook."""

from __future__ import annotations

import random
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from monerosim_core import Miner, SelectionError, hookimpl
from monerosim_core.cli import main
from monerosim_core.config import ConfigError
from monerosim_core.config.model import SourcePos, StrategyRef
from monerosim_core.plugins.host import MINER_HOOK, RECIPIENT_HOOK, Plugins, get_plugin_manager
from monerosim_core.plugins.selection import StrategyContext

POS = SourcePos("net.yaml", 12, 7)
MINERS = (
    Miner("miner-01", "127.0.0.1", "addrA", 60.0, 0.6, False),
    Miner("miner-02", "127.0.0.1", "addrB", 40.0, 0.4, False),
)


def ref(name: str) -> StrategyRef:
    return StrategyRef(name, "agents.block_controller.arguments --strategy", POS)


@pytest.fixture
def fake_distribution(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path where tests drop a module plus its dist-info, which
    importlib.metadata then treats as an installed distribution."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fakeplug_")]:
        del sys.modules[name]


def install_fake(site: Path, dist: str, module: str, source: str, names: list[str]) -> None:
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    eps = "\n".join(f"{n} = {module}" for n in names)
    (info / "entry_points.txt").write_text(f"[monerosim]\n{eps}\n")


def test_shipped_strategies_are_found_through_their_entry_points() -> None:
    plugins = get_plugin_manager()
    assert {"weighted", "balance", "random"} <= set(plugins.strategy_names(MINER_HOOK))
    assert {"random", "round_robin"} <= set(plugins.strategy_names(RECIPIENT_HOOK))
    assert plugins.infos["round_robin"].distribution == "monerosim-strategy-round-robin"


def test_a_selector_calls_only_the_named_plugin() -> None:
    plugins = get_plugin_manager(autoload=False)

    class AlwaysFirst:
        @hookimpl
        def monerosim_select_miner(self, candidates):  # type: ignore[no-untyped-def]
            return candidates[0]

    class AlwaysLast:
        @hookimpl
        def monerosim_select_miner(self, candidates):  # type: ignore[no-untyped-def]
            return candidates[-1]

    plugins.register(AlwaysFirst(), "first")
    plugins.register(AlwaysLast(), "last")
    ctx = StrategyContext()
    first = plugins.miner_selector(ref("first"), random.Random(1), ctx)
    last = plugins.miner_selector(ref("last"), random.Random(1), ctx)
    assert [first.select(MINERS).agent_id, last.select(MINERS).agent_id] == [
        "miner-01",
        "miner-02",
    ]


class PickFirst:
    """A miner strategy registered by hand under several names in these tests."""

    @hookimpl
    def monerosim_select_miner(self, candidates):  # type: ignore[no-untyped-def]
        return candidates[0]


def three_strategies() -> Plugins:
    """A plugin manager that sees exactly three strategies, whatever is installed."""
    plugins = get_plugin_manager(autoload=False)
    for name in ("weighted", "balance", "random"):
        plugins.register(PickFirst(), name)
    return plugins


def test_a_typo_names_the_position_the_installed_ones_and_the_likely_name() -> None:
    with pytest.raises(ConfigError) as err:
        three_strategies().miner_selector(ref("weigthed"), random.Random(1), StrategyContext())
    text = str(err.value)
    assert "net.yaml:12:7" in text
    assert "agents.block_controller.arguments --strategy" in text
    assert "did you mean 'weighted'?" in text
    assert "installed: balance, random, weighted" in text
    # A typo is not a missing package: no install hint for a distribution that does not exist.
    assert "pip install" not in text


def test_an_unknown_name_suggests_installing_its_distribution() -> None:
    with pytest.raises(ConfigError) as err:
        three_strategies().check(MINER_HOOK, ref("round_robin"))
    text = str(err.value)
    assert "installed: balance, random, weighted" in text
    assert "pip install monerosim-strategy-round-robin" in text
    with pytest.raises(ConfigError, match="pip install monerosim-strategy-selfish-pool"):
        three_strategies().check(MINER_HOOK, ref("selfish_pool"))


def test_a_recipient_only_strategy_cannot_pick_miners() -> None:
    plugins = get_plugin_manager(autoload=False)

    class RecipientsOnly:
        @hookimpl
        def monerosim_select_recipient(self, candidates):  # type: ignore[no-untyped-def]
            return candidates[0]

    plugins.register(RecipientsOnly(), "round_robin")
    with pytest.raises(ConfigError, match=r"round_robin.*does not implement miner selection"):
        plugins.check(MINER_HOOK, ref("round_robin"))


def test_a_broken_plugin_is_skipped_unless_selected(fake_distribution: Path) -> None:
    install_fake(
        fake_distribution,
        "fakeplug-broken",
        "fakeplug_broken",
        "raise ImportError('needs numpy 9')\n",
        ["shiny"],
    )
    plugins = get_plugin_manager()
    # Everything else still works...
    assert "weighted" in plugins.strategy_names(MINER_HOOK)
    info = plugins.infos["shiny"]
    assert not info.loaded and "needs numpy 9" in (info.error or "")
    # ...until the config selects the broken one.
    with pytest.raises(ConfigError, match=r"'shiny' is installed \(fakeplug-broken 1.2.3\) but"):
        plugins.check(MINER_HOOK, ref("shiny"))


def test_a_plugin_implementing_an_unknown_hook_is_reported_not_fatal(
    fake_distribution: Path,
) -> None:
    install_fake(
        fake_distribution,
        "fakeplug-typo",
        "fakeplug_typo",
        """
        from monerosim_core import hookimpl

        @hookimpl
        def monerosim_select_minor(candidates):
            return candidates[0]
        """,
        ["typo"],
    )
    plugins = get_plugin_manager()
    assert "monerosim_select_minor" in (plugins.infos["typo"].error or "")
    assert "typo" not in plugins.strategy_names(MINER_HOOK)


def test_a_strategy_returning_a_stranger_is_an_error() -> None:
    plugins = get_plugin_manager(autoload=False)

    class Stranger:
        @hookimpl
        def monerosim_select_miner(self, candidates):  # type: ignore[no-untyped-def]
            return Miner("ghost", "127.0.0.1", None, 1.0, 1.0, False)

    plugins.register(Stranger(), "stranger")
    selector = plugins.miner_selector(ref("stranger"), random.Random(1), StrategyContext())
    with pytest.raises(SelectionError, match="not one of the candidates"):
        selector.select(MINERS)


def test_one_module_under_two_names_is_reported_in_plain_words(
    fake_distribution: Path,
) -> None:
    install_fake(
        fake_distribution,
        "fakeplug-alias",
        "fakeplug_alias",
        """
        from monerosim_core import hookimpl

        @hookimpl
        def monerosim_select_miner(candidates):
            return candidates[0]
        """,
        ["alias_one", "alias_two"],
    )
    plugins = get_plugin_manager()
    assert plugins.infos["alias_one"].loaded
    error = plugins.infos["alias_two"].error or ""
    assert "names the same module as strategy 'alias_one'" in error
    assert "pluggy" not in error and "already registered" not in error
    assert "alias_one" in plugins.strategy_names(MINER_HOOK)


def test_a_plugin_with_no_hook_gets_a_warning(
    fake_distribution: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_fake(fake_distribution, "fakeplug-empty", "fakeplug_empty", "X = 1\n", ["hollow"])
    info = get_plugin_manager().infos["hollow"]
    assert info.loaded and info.hooks == ()
    assert info.warning == "implements no monerosim hook: nothing can use it"

    assert main(["plugins"]) == 0
    err = capsys.readouterr().err
    assert (
        "monerosim: warning: plugin 'hollow' (fakeplug-empty) implements no monerosim hook" in err
    )


def test_autoload_can_be_disabled_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONEROSIM_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert get_plugin_manager().strategy_names(MINER_HOOK) == []


def test_every_hookspec_documents_its_parameters_and_return() -> None:
    from monerosim_core.plugins import hookspecs

    for name in (MINER_HOOK, RECIPIENT_HOOK, "monerosim_discover_agents"):
        spec = getattr(hookspecs, name)
        doc = spec.__doc__ or ""
        params = spec.__code__.co_varnames[: spec.__code__.co_argcount]
        for param in params:
            assert f":param {param}:" in doc, f"{name} does not document {param}"
        assert ":return:" in doc, f"{name} does not document its return value"
