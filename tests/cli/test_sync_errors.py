"""`ferry sync` on bad input: a non-zero exit and ONE line `error: ...` on stderr that names the problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Ferry, shop_pipeline, write_pipeline

Pipeline = dict[str, Any]


def _orders_csv(directory: Path) -> Path:
    path = directory / "orders.csv"
    path.write_text("id,name,amount\n1,ada,9.5\n2,bob,3.25\n")
    return path


def _file_pipeline(directory: Path, stream: dict[str, Any]) -> Pipeline:
    """The `file` source over a CSV without an updated_at column or a declared primary key."""
    return {
        "source": {
            "type": "file",
            "config": {"streams": [{"name": "orders", "path": str(_orders_csv(directory))}]},
        },
        "destination": {"type": "duckdb", "config": {"path": str(directory / "w.duckdb")}},
        "streams": [{"name": "orders", **stream}],
    }


def _plugin_pipeline(directory: Path, stream: dict[str, Any]) -> Pipeline:
    """The `test-orders` plug-in source, whose stream lets the user choose its cursor and has no key."""
    return {
        "source": {"type": "test-orders", "config": {}},
        "destination": {"type": "duckdb", "config": {"path": str(directory / "w.duckdb")}},
        "streams": [{"name": "orders", **stream}],
    }


def _shop(change: Callable[[Pipeline], None]) -> Callable[[Path], Pipeline]:
    def make(directory: Path) -> Pipeline:
        pipeline = shop_pipeline(directory / "w.duckdb", count=10)
        change(pipeline)
        return pipeline

    return make


CASES: dict[str, tuple[Callable[[Path], Pipeline], list[str]]] = {
    "missing key": (_shop(lambda p: p.pop("destination")), ["missing required key 'destination'"]),
    "unknown key": (_shop(lambda p: p.update(schedul="hourly")), ["unknown key 'schedul'"]),
    "unknown stream key": (
        _shop(lambda p: p["streams"][0].update(cursor="x")),
        ["unknown key 'streams.0.cursor'"],
    ),
    "unknown source": (
        _shop(lambda p: p["source"].update(type="nope")),
        ["unknown source connector 'nope'", "sample-data"],
    ),
    "unknown destination": (
        _shop(lambda p: p["destination"].update(type="nope")),
        ["unknown destination connector 'nope'"],
    ),
    "config breaks the spec": (
        _shop(lambda p: p["source"]["config"].update(count=-5)),
        ["config field 'count'"],
    ),
    "config of the wrong type": (
        _shop(lambda p: p["source"]["config"].update(count="lots")),
        ["'count'", "integer"],
    ),
    "config with an unknown field": (
        _shop(lambda p: p["source"]["config"].update(cnt=1)),
        ["unknown field", "cnt"],
    ),
    "destination config missing": (
        _shop(lambda p: p["destination"].update(config={})),
        ["required field 'path'"],
    ),
    "stream that does not exist": (
        _shop(lambda p: p["streams"].append({"name": "orders"})),
        ["stream 'orders' does not exist", "purchases"],
    ),
    "source-defined cursor overridden": (
        _shop(lambda p: p["streams"][0].update(cursor_field=["created_at"])),
        ["purchases", "cannot override", "['created_at']"],
    ),
    "cursor field absent from the schema": (
        lambda d: _plugin_pipeline(d, {"sync_mode": "incremental", "cursor_field": "modified"}),
        ["stream 'orders': cursor field 'modified' is not in the stream's schema", "updated_at"],
    ),
    "dedup without a primary key": (
        lambda d: _plugin_pipeline(d, {"sync_mode": "incremental", "destination_sync_mode": "append_dedup"}),
        ["stream 'orders' uses append_dedup but has no primary key"],
    ),
    "dedup without a primary key, file source": (
        lambda d: _file_pipeline(
            d, {"sync_mode": "full_refresh", "destination_sync_mode": "overwrite_dedup"}
        ),
        ["stream 'orders' uses overwrite_dedup but has no primary key"],
    ),
    "primary key absent from the schema": (
        lambda d: _file_pipeline(
            d,
            {
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite_dedup",
                "primary_key": "order_id",
            },
        ),
        ["stream 'orders': primary key field 'order_id' is not in the stream's schema"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_pipeline_fails_with_one_line(
    ferry: Ferry, tmp_path: Path, plugin_env: dict[str, str], case: str
) -> None:
    make, expected = CASES[case]
    pipeline = write_pipeline(tmp_path, make(tmp_path))

    run = ferry("sync", pipeline, env=plugin_env)

    assert run.code == 2, run
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: "), run.stderr
    for text in expected:
        assert text in lines[0]
    assert not (tmp_path / "w.duckdb").exists()  # nothing was written


def test_missing_pipeline_file(ferry: Ferry) -> None:
    run = ferry("sync", "nowhere.yaml")
    assert run.code == 2
    assert run.stderr.splitlines() == ["error: pipeline file not found: nowhere.yaml."]


def test_unset_environment_variable(ferry: Ferry, tmp_path: Path) -> None:
    pipeline = write_pipeline(
        tmp_path, shop_pipeline(tmp_path / "w.duckdb", count="${FERRY_TEST_UNSET_COUNT}")
    )
    run = ferry("sync", pipeline)
    assert run.code == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: environment variable FERRY_TEST_UNSET_COUNT is not set")
    assert "source.config.count" in line


def test_a_failing_sync_prints_its_summary_and_one_error_line(ferry: Ferry, tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, shop_pipeline(tmp_path / "w.duckdb", count=10))
    state = tmp_path / "state.json"
    state.write_text("{not json")

    run = ferry("sync", pipeline, "--state", state)

    assert run.code == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"error: state file {state} is not valid JSON")
    assert "FAILED" in run.stdout


def test_a_bug_in_a_connector_is_one_line_too(
    ferry: Ferry, tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    broken = {
        **_plugin_pipeline(tmp_path, {}),
        "source": {"type": "test-orders", "config": {"broken": "${BROKEN}"}},
    }
    pipeline = write_pipeline(tmp_path, broken)

    run = ferry("sync", pipeline, env={**plugin_env, "BROKEN": "true"})

    assert run.code == 1
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: internal error: RuntimeError: the plug-in has a bug")
    assert "FERRY_DEBUG=1" in line
    debug = ferry("sync", pipeline, env={**plugin_env, "BROKEN": "true", "FERRY_DEBUG": "1"})
    assert debug.code == 1
    assert "Traceback" in debug.stderr
