"""Property-based: whatever a config file or a run directory holds, monerosim answers
with a result or a clear error, never a traceback.

The config loader gets generated YAML documents and mutated copies of the shipped
configs; the report gets run directories whose record files are mutated, truncated,
replaced by random bytes or by other JSON.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from test_report import make_run, mined

from monerosim_core.config import ConfigError, load_scenario
from monerosim_core.config.model import Scenario
from monerosim_core.records.layout import (
    BLOCKS_FILE,
    FAULTS_FILE,
    FINAL_STATE_FILE,
    MINER_REGISTRY_FILE,
    RUN_INFO_FILE,
    TRANSFERS_FILE,
)
from monerosim_core.report import Report, ReportError, build_report

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["3h", "90m", "-1s", "agents.block_controller", "monerod", "true", "1e999"]),
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "general",
            "agents",
            "network",
            "user_agents",
            "stop_time",
            "attributes",
            "hashrate",
            "is_miner",
            "daemon",
            "wallet",
            "block_controller",
            "script",
            "arguments",
            "seed",
            "pure_script_agents",
            "speed",
            "bootstrap_blocks",
            "gml",
            "latency",
            "type",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)


def load_or_error(path: Path) -> Scenario | ConfigError:
    try:
        return load_scenario(path)
    except ConfigError as error:
        assert str(error), "a config error must say what is wrong"
        return error


@FUZZ
@given(document=documents)
def test_any_yaml_document_is_a_scenario_or_a_config_error(
    tmp_path: Path, document: object
) -> None:
    out = io.StringIO()
    YAML().dump(document, out)
    path = tmp_path / "generated.yaml"
    path.write_text(out.getvalue())
    load_or_error(path)


@FUZZ
@given(
    source=st.sampled_from(CONFIGS),
    seed=st.integers(min_value=0, max_value=2**32),
    edits=st.integers(min_value=1, max_value=6),
)
def test_mutated_shipped_configs_load_or_fail_clearly(
    tmp_path: Path, source: Path, seed: int, edits: int
) -> None:
    rng = random.Random(seed)
    data = bytearray(source.read_bytes())
    for _ in range(edits):
        where = rng.randrange(len(data) + 1)
        choice = rng.randrange(5)
        if choice == 0 and data:  # drop a span
            del data[where : where + rng.randint(1, 40)]
        elif choice == 1:  # random bytes, not necessarily UTF-8
            data[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice == 2:  # YAML punctuation
            data[where:where] = rng.choice([b":", b"- ", b"{", b"[", b"&a ", b"*a", b"\t", b"\n  "])
        elif choice == 3 and data:  # truncate
            del data[where:]
        else:  # duplicate a line
            lines = bytes(data).splitlines(keepends=True)
            if lines:
                line = rng.choice(lines)
                data[where:where] = line
    path = tmp_path / source.name
    path.write_bytes(bytes(data))
    load_or_error(path)


def report_or_error(run_dir: Path) -> Report | ReportError:
    try:
        return build_report(run_dir)
    except ReportError as error:
        assert str(error)
        return error


MUTABLE = [BLOCKS_FILE, TRANSFERS_FILE, FAULTS_FILE, FINAL_STATE_FILE, MINER_REGISTRY_FILE]
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def valid_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("fuzz-run")
    blocks = mined({"m1": 5, "m2": 3, "m3": 2})
    transfers = [
        {
            "agent": "u1", "kind": "user", "tx_hash": "ab" * 32, "sender": "u1",
            "recipient": "u2", "amount": 5, "fee": 1, "priority": 1, "attempts": 1,
            "outcome": "sent", "sim_time": 100.0, "wall_time": 1.7e9, "sent_height": 3,
        }
    ]  # fmt: skip
    final = {"nodes": {"m1": {"height": 10, "top_hash": "c" * 64}}, "wallets": {}}
    return make_run(base, blocks, transactions=transfers, final_state=final, sync_events=[])


@FUZZ
@given(
    name=st.sampled_from([*MUTABLE, RUN_INFO_FILE]),
    how=st.sampled_from(["bytes", "truncate", "json", "line"]),
    seed=st.integers(min_value=0, max_value=2**32),
    value=json_values,
)
def test_mutated_record_files_give_a_report_or_a_clear_error(
    valid_run: Path, tmp_path: Path, name: str, how: str, seed: int, value: object
) -> None:
    run_dir = tmp_path / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    shutil.copytree(valid_run, run_dir)
    path = run_dir / name if name == RUN_INFO_FILE else run_dir / "shared" / name
    rng = random.Random(seed)
    original = path.read_bytes() if path.exists() else b""
    if how == "bytes":
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))))
    elif how == "truncate":
        path.write_bytes(original[: rng.randint(0, len(original))])
    elif how == "json":
        path.write_text(json.dumps(value))
    else:  # one line of a journal (or the document) replaced by other JSON
        lines = original.splitlines(keepends=True) or [b""]
        lines[rng.randrange(len(lines))] = json.dumps(value).encode() + b"\n"
        path.write_bytes(b"".join(lines))
    report_or_error(run_dir)
