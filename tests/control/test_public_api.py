"""The public API's contract with Airbyte clients: codes, fields, pagination, definitions, defaults, jobs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import httpx

from ferry.control.services.definitions import builtin_id
from tests.control.conftest import Server, Setup, make_setup, ok, wait_job


def test_workspace_create_get_update_delete(api: httpx.Client) -> None:
    created = ok(api.post("/workspaces", json={"name": "alpha"}))
    assert set(created) == {"workspaceId", "name", "dataResidency", "notifications"}
    assert created["dataResidency"] == "auto"
    workspace_id = created["workspaceId"]
    assert ok(api.get(f"/workspaces/{workspace_id}")) == created
    assert ok(api.patch(f"/workspaces/{workspace_id}", json={"name": "beta"}))["name"] == "beta"
    deleted = api.delete(f"/workspaces/{workspace_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"/workspaces/{workspace_id}").status_code == 404
    listed = ok(api.get("/workspaces", params={"workspaceIds": workspace_id, "includeDeleted": "true"}))
    assert [w["workspaceId"] for w in listed["data"]] == [workspace_id]


def test_source_type_picks_the_definition_and_is_not_stored(api: httpx.Client, tmp_path: Path) -> None:
    setup = make_setup(api, tmp_path)
    source = ok(api.get(f"/sources/{setup.source_id}"))
    assert source["sourceType"] == "sample-data"
    assert source["definitionId"] == builtin_id("source", "sample-data")
    assert source["configuration"] == {"count": 25}
    assert isinstance(source["createdAt"], int)
    by_id = ok(
        api.post(
            "/sources",
            json={
                "name": "by id",
                "workspaceId": setup.workspace_id,
                "definitionId": builtin_id("source", "sample-data"),
                "configuration": {},
            },
        )
    )
    assert by_id["sourceType"] == "sample-data"
    destination = ok(api.get(f"/destinations/{setup.destination_id}"))
    assert destination["destinationType"] == "duckdb"
    assert "destinationType" not in destination["configuration"]


def test_offset_pagination_with_absolute_links(server: Server, api: httpx.Client, tmp_path: Path) -> None:
    setup = make_setup(api, tmp_path)
    for n in range(2):
        ok(
            api.post(
                "/sources",
                json={
                    "name": f"extra {n}",
                    "workspaceId": setup.workspace_id,
                    "configuration": {"sourceType": "sample-data"},
                },
            )
        )
    first = ok(api.get("/sources", params={"workspaceIds": setup.workspace_id, "limit": 2}))
    assert len(first["data"]) == 2
    assert first["previous"] == ""
    assert first["next"].startswith(f"{server.public}/sources?")
    assert parse_qs(urlparse(first["next"]).query)["offset"] == ["2"]
    second = ok(httpx.get(first["next"], headers=api.headers))
    assert [s["name"] for s in second["data"]] == ["extra 1"]
    assert parse_qs(urlparse(second["previous"]).query)["offset"] == ["0"]
    assert parse_qs(urlparse(second["next"]).query)["offset"] == [
        "4"
    ]  # even after a short page, as Airbyte does
    empty = ok(httpx.get(second["next"], headers=api.headers))
    assert empty["data"] == []
    assert empty["next"] == ""
    # Several workspace ids: repeated keys or comma-separated.
    other = make_setup(api, tmp_path)
    for params in (
        {"workspaceIds": [setup.workspace_id, other.workspace_id]},
        {"workspaceIds": f"{setup.workspace_id},{other.workspace_id}"},
    ):
        assert len(ok(api.get("/sources", params={**params, "limit": 100}))["data"]) == 4


def test_a_connection_without_streams_takes_every_stream_as_full_refresh_overwrite(
    api: httpx.Client, tmp_path: Path
) -> None:
    setup = make_setup(api, tmp_path)
    connection = ok(
        api.post("/connections", json={"sourceId": setup.source_id, "destinationId": setup.destination_id})
    )
    streams = connection["configurations"]["streams"]
    assert sorted(s["name"] for s in streams) == ["products", "purchases", "users"]
    assert {s["syncMode"] for s in streams} == {"full_refresh_overwrite"}
    for key in (
        "connectionId",
        "name",
        "sourceId",
        "destinationId",
        "workspaceId",
        "status",
        "schedule",
        "configurations",
        "createdAt",
        "tags",
    ):
        assert key in connection
    assert connection["schedule"] == {"scheduleType": "manual", "cronExpression": None, "basicTiming": None}
    assert connection["namespaceDefinition"] == "destination"
    assert connection["nonBreakingSchemaUpdatesBehavior"] == "ignore"
    listed = ok(api.get("/connections", params={"workspaceIds": setup.workspace_id}))
    assert [c["connectionId"] for c in listed["data"]] == [connection["connectionId"]]


def test_stream_properties_list_modes_the_pair_supports(api: httpx.Client, tmp_path: Path) -> None:
    setup = make_setup(api, tmp_path)
    response = api.get(
        "/streams", params={"sourceId": setup.source_id, "destinationId": setup.destination_id}
    )
    streams = ok(response)
    assert isinstance(streams, list)
    users = next(s for s in streams if s["streamName"] == "users")
    assert "incremental_deduped_history" in users["syncModes"]
    assert "incremental_update" not in users["syncModes"]
    assert users["sourceDefinedPrimaryKey"] == [["id"]]
    assert ["email"] in users["propertyFields"]


def create_connection(api: httpx.Client, setup: Setup, fields: dict[str, Any]) -> dict[str, Any]:
    """A connection between the setup's source and destination, with these extra fields."""
    body = {"sourceId": setup.source_id, "destinationId": setup.destination_id, **fields}
    return dict(ok(api.post("/connections", json=body)))


def config_api(server: Server, api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    """A call to the older config API (`/api/v1/...`) with the same token."""
    return ok(httpx.post(f"{server.url}/api/v1/{path}", json=body, headers=api.headers))


def _big_sync(api: httpx.Client, tmp_path: Path) -> tuple[str, int]:
    setup = make_setup(api, tmp_path, count=3_000_000)
    connection = create_connection(
        api,
        setup,
        {
            "configurations": {"streams": [{"name": "purchases"}]},
        },
    )
    job = ok(api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": "sync"}))
    return connection["connectionId"], job["jobId"]


def test_a_second_sync_gets_409_and_cancel_returns_the_job(api: httpx.Client, tmp_path: Path) -> None:
    connection_id, job_id = _big_sync(api, tmp_path)
    conflict = api.post("/jobs", json={"connectionId": connection_id, "jobType": "sync"})
    assert conflict.status_code == 409
    assert conflict.json()["detail"] == f"A sync is already running for: {connection_id}"
    cancelled = ok(api.delete(f"/jobs/{job_id}"))
    assert cancelled["status"] == "cancelled"
    assert cancelled["jobId"] == job_id
    time.sleep(0.5)
    assert ok(api.get(f"/jobs/{job_id}"))["status"] == "cancelled"
    again = ok(api.post("/jobs", json={"connectionId": connection_id, "jobType": "sync"}))
    ok(api.delete(f"/jobs/{again['jobId']}"))


def test_jobs_list_filters_and_orders(api: httpx.Client, tmp_path: Path) -> None:
    setup = make_setup(api, tmp_path, count=5)
    connection = create_connection(
        api,
        setup,
        {
            "configurations": {"streams": [{"name": "users"}]},
        },
    )
    ids = []
    for _ in range(2):
        job = ok(api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": "sync"}))
        assert wait_job(api, job["jobId"])["status"] == "succeeded"
        ids.append(job["jobId"])
    by_connection = {"connectionId": connection["connectionId"]}
    assert [j["jobId"] for j in ok(api.get("/jobs", params=by_connection))["data"]] == ids
    assert [
        j["jobId"]
        for j in ok(api.get("/jobs", params={**by_connection, "orderBy": "createdAt|DESC"}))["data"]
    ] == ids[::-1]
    assert ok(api.get("/jobs", params={**by_connection, "status": "failed"}))["data"] == []
    assert (
        len(ok(api.get("/jobs", params={"workspaceIds": setup.workspace_id, "jobType": "sync"}))["data"]) == 2
    )
    assert (
        ok(api.get("/jobs", params={**by_connection, "createdAtStart": "2999-01-01T00:00:00Z"}))["data"] == []
    )
    bad = api.get("/jobs", params={"orderBy": "name|UP"})
    assert bad.status_code == 400
    assert bad.json()["data"]["field"] == "orderBy"
    refresh = api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": "refresh"})
    assert refresh.status_code == 422


def test_a_clear_job_empties_the_tables_and_the_state(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    setup = make_setup(api, tmp_path, count=10)
    connection = create_connection(
        api,
        setup,
        {
            "configurations": {"streams": [{"name": "users", "syncMode": "incremental_append"}]},
        },
    )
    for job_type in ("sync", "reset"):
        job = ok(api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": job_type}))
        assert wait_job(api, job["jobId"])["status"] == "succeeded"
        with duckdb.connect(str(setup.warehouse), read_only=True) as db:
            count = db.execute("select count(*) from main.users").fetchone()
        assert count == ((10,) if job_type == "sync" else (0,))
    assert job["jobType"] == "clear"
    state = config_api(server, api, "state/get", {"connectionId": connection["connectionId"]})
    assert state["stateType"] == "not_set"


def test_prefix_and_custom_namespace_name_the_tables_and_bytes_are_counted(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    setup = make_setup(api, tmp_path, count=30)
    connection = create_connection(
        api,
        setup,
        {
            "namespaceDefinition": "custom_format",
            "namespaceFormat": "lake${SOURCE_NAMESPACE}",
            "prefix": "shop_",
            "configurations": {
                "streams": [
                    {"name": "users", "syncMode": "incremental_deduped_history"},
                    {"name": "purchases", "syncMode": "full_refresh_overwrite"},
                ]
            },
        },
    )
    job = ok(api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": "sync"}))
    done = wait_job(api, job["jobId"])
    assert done["status"] == "succeeded", done
    with duckdb.connect(str(setup.warehouse), read_only=True) as db:
        found = db.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY table_name"
        ).fetchall()
        assert found == [("lake", "shop_purchases"), ("lake", "shop_users")]
        assert db.execute("SELECT count(*) FROM lake.shop_users").fetchone() == (30,)
    assert done["rowsSynced"] == 60
    assert done["bytesSynced"] > 0
    # The config API's job view: bytes per stream, all committed once the sync succeeded.
    info = config_api(server, api, "jobs/get", {"id": job["jobId"]})
    totals = info["job"]["aggregatedStats"]
    assert 0 < totals["bytesCommitted"] == totals["bytesEmitted"] == done["bytesSynced"]
    per_stream = {s["streamName"]: s["stats"] for s in info["job"]["streamAggregatedStats"]}
    assert set(per_stream) == {"users", "purchases"}  # stats name the source's streams
    assert all(0 < s["bytesCommitted"] == s["bytesEmitted"] for s in per_stream.values())
    # The saved state is keyed by the source's stream (the full refresh's position is dropped at its end).
    state = config_api(server, api, "state/get", {"connectionId": connection["connectionId"]})
    assert [s["streamDescriptor"] for s in state["streamState"]] == [{"name": "users"}]


def test_the_v1_root_serves_the_same_api(server: Server, api: httpx.Client) -> None:
    workspace = ok(api.post("/workspaces", json={"name": "root alias"}))
    same = httpx.get(f"{server.url}/v1/workspaces/{workspace['workspaceId']}", headers=api.headers)
    assert ok(same) == workspace


def test_openapi_is_served(server: Server) -> None:
    spec = ok(httpx.get(f"{server.public}/openapi.json"))
    assert "/api/public/v1/connections" in spec["paths"]
    assert spec["paths"]["/api/public/v1/jobs/{jobId}"]["delete"]["operationId"] == "cancelJob"
