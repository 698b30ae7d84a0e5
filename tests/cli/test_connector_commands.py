"""`ferry connectors list` and the Airbyte commands (spec, check, discover, read) on built-in connectors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import airbyte_protocol.models as ab
import pytest

from tests.cli.conftest import Ferry, Run, write_json


def airbyte_messages(run: Run) -> list[dict[str, Any]]:
    """Every stdout line, each checked against Airbyte's own protocol models."""
    messages = run.messages()
    for message in messages:
        # The pinned models predate `overwrite_dedup`, which destination specs list: SPEC is checked by hand.
        if message["type"] != "SPEC":
            ab.AirbyteMessage.model_validate(message)
    return messages


def test_connectors_list_names_the_built_ins(ferry: Ferry) -> None:
    run = ferry("connectors", "list")
    assert run.code == 0, run.stderr
    rows = {line.split("│")[2].strip(): line for line in run.stdout.splitlines() if line.count("│") >= 4}
    for name in ("sample-data", "file", "duckdb", "local-files"):
        assert name in rows, run.stdout
        assert "cannot be loaded" not in rows[name]  # (a plug-in being written may not load; built-ins must)


@pytest.mark.parametrize(
    "connector", ["sample-data", "source-sample-data", "duckdb", "destination-duckdb", "file", "local-files"]
)
def test_spec_prints_one_spec_message(ferry: Ferry, connector: str) -> None:
    run = ferry("spec", connector)
    assert run.code == 0, run.stderr
    (message,) = airbyte_messages(run)
    assert message["type"] == "SPEC"
    assert message["spec"]["connectionSpecification"]["type"] == "object"
    assert set(message["spec"]) <= {
        "connectionSpecification",
        "documentationUrl",
        "changelogUrl",
        "supportsIncremental",
        "supportsNormalization",
        "supportsDBT",
        "supported_destination_sync_modes",
        "advanced_auth",
        "protocol_version",
    }


def test_spec_of_an_unknown_connector(ferry: Ferry) -> None:
    run = ferry("spec", "nope")
    assert run.code == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: unknown connector 'nope'. Sources: ")
    assert "sample-data" in line


def test_check_reports_success_and_failure(ferry: Ferry, tmp_path: Path) -> None:
    good = ferry("check", "sample-data", "--config", write_json(tmp_path, "good.json", {"count": 5}))
    assert good.code == 0, good.stderr
    (status,) = airbyte_messages(good)
    assert status["connectionStatus"]["status"] == "SUCCEEDED"

    bad = ferry("check", "sample-data", "--config", write_json(tmp_path, "bad.json", {"count": "many"}))
    (status,) = airbyte_messages(bad)
    assert status["connectionStatus"]["status"] == "FAILED"
    assert "'count'" in status["connectionStatus"]["message"]


def test_check_a_destination(ferry: Ferry, tmp_path: Path) -> None:
    config = write_json(tmp_path, "duckdb.json", {"path": str(tmp_path / "w.duckdb")})
    run = ferry("check", "destination-duckdb", "--config", config)
    assert run.code == 0, run.stderr
    (status,) = airbyte_messages(run)
    assert status["connectionStatus"]["status"] == "SUCCEEDED"


def test_discover_needs_a_source(ferry: Ferry, tmp_path: Path) -> None:
    run = ferry("discover", "duckdb", "--config", write_json(tmp_path, "duckdb.json", {"path": "w.duckdb"}))
    assert run.code == 2
    assert run.stderr.splitlines() == ["error: 'duckdb' is a destination; `ferry discover` needs a source"]


def test_discover_prints_the_catalog(ferry: Ferry, tmp_path: Path) -> None:
    run = ferry("discover", "sample-data", "--config", write_json(tmp_path, "config.json", {"count": 5}))
    assert run.code == 0, run.stderr
    (message,) = airbyte_messages(run)
    assert message["type"] == "CATALOG"
    streams = {s["name"]: s for s in message["catalog"]["streams"]}
    assert set(streams) == {"users", "products", "purchases"}
    assert streams["purchases"]["default_cursor_field"] == ["updated_at"]


def test_read_prints_records_states_and_statuses(ferry: Ferry, tmp_path: Path) -> None:
    run = ferry("read", "sample-data", "--config", write_json(tmp_path, "config.json", {"count": 25}))
    assert run.code == 0, run.stderr
    messages = airbyte_messages(run)
    records = Counter(m["record"]["stream"] for m in messages if m["type"] == "RECORD")
    assert records == {"users": 25, "products": 25, "purchases": 25}
    assert any(m["type"] == "STATE" for m in messages)
    statuses = [m["trace"]["stream_status"]["status"] for m in messages if m["type"] == "TRACE"]
    assert statuses.count("COMPLETE") == 3
    assert not list(tmp_path.glob("*.catalog.json"))  # the default catalog is not left behind


def test_read_resumes_from_a_state_file(ferry: Ferry, tmp_path: Path) -> None:
    discovered = ferry("discover", "sample-data", "--config", write_json(tmp_path, "c.json", {"count": 30}))
    (catalog,) = discovered.messages()
    purchases = next(s for s in catalog["catalog"]["streams"] if s["name"] == "purchases")
    configured = {
        "streams": [
            {
                "stream": purchases,
                "sync_mode": "incremental",
                "destination_sync_mode": "append",
                "cursor_field": ["updated_at"],
            }
        ]
    }
    catalog_file = write_json(tmp_path, "catalog.json", configured)
    first = ferry(
        "read",
        "sample-data",
        "--config",
        write_json(tmp_path, "c20.json", {"count": 20}),
        "--catalog",
        catalog_file,
    )
    last_state = [m["state"] for m in airbyte_messages(first) if m["type"] == "STATE"][-1]
    state_file = write_json(tmp_path, "state.json", [last_state])

    second = ferry(
        "read",
        "sample-data",
        "--config",
        tmp_path / "c.json",
        "--catalog",
        catalog_file,
        "--state",
        state_file,
    )

    ids = [m["record"]["data"]["id"] for m in airbyte_messages(second) if m["type"] == "RECORD"]
    assert ids == list(range(21, 31))


def test_read_with_a_missing_config_file_reports_it(ferry: Ferry, tmp_path: Path) -> None:
    run = ferry("discover", "sample-data", "--config", tmp_path / "missing.json")
    assert run.code == 1
    (message,) = airbyte_messages(run)
    assert message["trace"]["error"]["failure_type"] == "config_error"
    assert "config file not found" in message["trace"]["error"]["message"]
