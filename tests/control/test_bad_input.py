"""Bad input: each case is a 4xx with a problem body naming the field, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.control.conftest import Server, make_setup, ok


def _problem(response: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["detail"]
    if field is not None:
        assert body["data"]["field"] == field, body
    return body


def test_malformed_json_bodies(api: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    for path in ("/workspaces", "/sources", "/connections", "/jobs"):
        _problem(api.post(path, content=b'{"name": "x",', headers=headers), 400, "body")
    _problem(api.post("/workspaces", json=["a", "list"]), 400, "body")
    _problem(api.post("/workspaces", json={}), 400, "name")
    _problem(api.post("/workspaces", json={"name": "nul\x00byte"}), 400, "name")
    _problem(api.post("/jobs", json={"connectionId": "x", "jobType": "explode"}), 400, "jobType")


def test_unknown_ids(api: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    for path in (
        f"/workspaces/{missing}",
        f"/sources/{missing}",
        f"/destinations/{missing}",
        f"/connections/{missing}",
        "/jobs/987654321",
    ):
        _problem(api.get(path), 404, None)
    _problem(api.delete("/jobs/987654321"), 404, None)
    _problem(api.post("/jobs", json={"connectionId": missing, "jobType": "sync"}), 404, None)
    _problem(api.get("/jobs/99999999999999999999999"), 400, "jobId")
    _problem(api.get("/sources/has spaces"), 400, "sourceId")
    _problem(
        api.post(
            "/sources",
            json={"name": "s", "workspaceId": missing, "configuration": {"sourceType": "sample-data"}},
        ),
        404,
        None,
    )


@pytest.fixture
def setup(api: httpx.Client, tmp_path: Path) -> Any:
    return make_setup(api, tmp_path, count=5)


def _connection(api: httpx.Client, setup: Any, **extra: Any) -> httpx.Response:
    return api.post(
        "/connections", json={"sourceId": setup.source_id, "destinationId": setup.destination_id, **extra}
    )


@pytest.mark.parametrize(
    "cron",
    ["* * * * * ?", "0 * * * * ?", "0 0 25 * * ?", "not a cron", "0 0 12 * * *", "0 0 12 ? * MON Mars/Base"],
)
def test_invalid_cron(api: httpx.Client, setup: Any, cron: str) -> None:
    _problem(
        _connection(api, setup, schedule={"scheduleType": "cron", "cronExpression": cron}),
        400,
        "schedule.cronExpression",
    )


def test_valid_cron_with_a_time_zone(api: httpx.Client, setup: Any) -> None:
    made = ok(
        _connection(
            api, setup, schedule={"scheduleType": "cron", "cronExpression": "0 30 6 ? * MON-FRI Europe/Paris"}
        )
    )
    assert made["schedule"]["cronExpression"] == "0 30 6 ? * MON-FRI Europe/Paris"


def test_stream_not_in_the_catalog(api: httpx.Client, setup: Any) -> None:
    body = _problem(
        _connection(api, setup, configurations={"streams": [{"name": "users"}, {"name": "orders"}]}),
        400,
        "configurations.streams[1].name",
    )
    assert "orders" in body["detail"]
    _problem(
        _connection(api, setup, configurations={"streams": [{"name": "users"}, {"name": "users"}]}),
        400,
        "configurations.streams[1].name",
    )
    _problem(_connection(api, setup, configurations={"streams": []}), 400, "configurations.streams")


@pytest.fixture
def plugin_setup(api: httpx.Client, setup: Any) -> Any:
    source = ok(
        api.post(
            "/sources",
            json={
                "name": "p",
                "workspaceId": setup.workspace_id,
                "configuration": {"sourceType": "test-secret", "api_key": "k-123456"},
            },
        )
    )
    setup.source_id = source["sourceId"]
    return setup


def _notes(api: httpx.Client, setup: Any, **stream: Any) -> httpx.Response:
    return _connection(api, setup, configurations={"streams": [{"name": "notes", **stream}]})


def test_cursor_not_in_the_schema(api: httpx.Client, plugin_setup: Any) -> None:
    field = "configurations.streams[0].cursorField"
    body = _problem(
        _notes(api, plugin_setup, syncMode="incremental_append", cursorField=["nope"]), 400, field
    )
    assert "nope" in body["detail"]


def test_cursor_that_overrides_the_source_defined_one(api: httpx.Client, setup: Any) -> None:
    stream = {"name": "users", "syncMode": "incremental_append", "cursorField": ["email"]}
    _problem(
        _connection(api, setup, configurations={"streams": [stream]}),
        400,
        "configurations.streams[0].cursorField",
    )


def test_primary_key_not_in_the_schema(api: httpx.Client, plugin_setup: Any) -> None:
    response = _notes(api, plugin_setup, syncMode="incremental_deduped_history", primaryKey=[["nope"]])
    _problem(response, 400, "configurations.streams[0].primaryKey")


def test_dedup_without_a_primary_key(api: httpx.Client, plugin_setup: Any) -> None:
    for mode in ("incremental_deduped_history", "full_refresh_overwrite_deduped"):
        body = _problem(_notes(api, plugin_setup, syncMode=mode), 400, "configurations.streams[0].primaryKey")
        assert "primary key" in body["detail"]


def test_bad_selected_fields_and_modes(api: httpx.Client, plugin_setup: Any) -> None:
    field = "configurations.streams[0].selectedFields"
    _problem(_notes(api, plugin_setup, selectedFields=[{"fieldPath": ["ghost"]}]), 400, field)
    _problem(_notes(api, plugin_setup, selectedFields=[]), 400, field)
    _problem(
        _notes(api, plugin_setup, syncMode="incremental_update"), 400, "configurations.streams[0].syncMode"
    )
    _problem(_notes(api, plugin_setup, syncMode="sideways"), 400, "configurations.streams[0].syncMode")


def test_bad_connector_config(api: httpx.Client, setup: Any) -> None:
    _problem(
        api.post(
            "/sources",
            json={
                "name": "s",
                "workspaceId": setup.workspace_id,
                "configuration": {"sourceType": "sample-data", "count": "many"},
            },
        ),
        400,
        "configuration.count",
    )
    _problem(
        api.post("/sources", json={"name": "s", "workspaceId": setup.workspace_id, "configuration": {}}),
        422,
        "configuration.sourceType",
    )
    _problem(
        api.post(
            "/sources",
            json={"name": "s", "workspaceId": setup.workspace_id, "configuration": {"sourceType": "nope"}},
        ),
        422,
        "configuration.sourceType",
    )
    _problem(
        api.patch(f"/sources/{setup.source_id}", json={"configuration": {"count": -1}}),
        400,
        "configuration.count",
    )


def test_oversized_bodies(server: Server, api: httpx.Client) -> None:
    big = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    _problem(api.post("/workspaces", content=big, headers={"content-type": "application/json"}), 413, "body")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        yield b'{"name": "'
        for _ in range(48):
            yield b"y" * 65536
        yield b'"}'

    _problem(
        api.post("/workspaces", content=chunks(), headers={"content-type": "application/json"}), 413, "body"
    )
    _problem(
        httpx.post(
            f"{server.url}/applications/token", content=big, headers={"content-type": "application/json"}
        ),
        413,
        "body",
    )
