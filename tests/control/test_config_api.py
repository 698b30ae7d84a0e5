"""The older config API (`/api/v1`), RPC over POST, in Airbyte's shapes."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from ferry.control.services.definitions import builtin_id
from tests.control.conftest import Server, ok


def test_config_api_lifecycle(server: Server, api: httpx.Client, tmp_path: Path) -> None:
    root = f"{server.url}/api/v1"
    with httpx.Client(base_url=root, headers=api.headers, timeout=30) as client:
        _lifecycle(server, api, client, tmp_path)


def _lifecycle(server: Server, api: httpx.Client, client: httpx.Client, tmp_path: Path) -> None:
    root = f"{server.url}/api/v1"
    assert httpx.get(f"{root}/health").json() == {"available": True}
    workspace = ok(api.post("/workspaces", json={"name": "config api"}))["workspaceId"]
    assert ok(client.post("/workspaces/get", json={"workspaceId": workspace}))["workspaceId"] == workspace

    source = ok(
        client.post(
            "/sources/create",
            json={
                "workspaceId": workspace,
                "name": "s",
                "sourceDefinitionId": builtin_id("source", "sample-data"),
                "connectionConfiguration": {"count": 7},
            },
        )
    )
    assert source["sourceName"] == "sample-data"
    assert source["connectionConfiguration"] == {"count": 7}
    assert [
        s["sourceId"] for s in ok(client.post("/sources/list", json={"workspaceId": workspace}))["sources"]
    ] == [source["sourceId"]]
    discovered = ok(client.post("/sources/discover_schema", json={"sourceId": source["sourceId"]}))
    users = next(s for s in discovered["catalog"]["streams"] if s["stream"]["name"] == "users")
    assert users["stream"]["sourceDefinedPrimaryKey"] == [["id"]]
    assert "jsonSchema" in users["stream"]

    destination = ok(
        client.post(
            "/destinations/create",
            json={
                "workspaceId": workspace,
                "name": "d",
                "destinationDefinitionId": builtin_id("destination", "duckdb"),
                "connectionConfiguration": {"path": str(tmp_path / "w.duckdb")},
            },
        )
    )
    users["config"].update(syncMode="incremental", destinationSyncMode="append_dedup")
    others = [
        dict(s, config={**s["config"], "selected": False})
        for s in discovered["catalog"]["streams"]
        if s is not users
    ]
    connection = ok(
        client.post(
            "/connections/create",
            json={
                "sourceId": source["sourceId"],
                "destinationId": destination["destinationId"],
                "status": "active",
                "syncCatalog": {"streams": [users, *others]},
                "scheduleType": "basic",
                "scheduleData": {"basicSchedule": {"timeUnit": "hours", "units": 24}},
                "namespaceDefinition": "customformat",
                "namespaceFormat": "${SOURCE_NAMESPACE}_raw",
            },
        )
    )
    assert [s["stream"]["name"] for s in connection["syncCatalog"]["streams"]] == ["users"]
    assert connection["syncCatalog"]["streams"][0]["config"]["destinationSyncMode"] == "append_dedup"
    assert connection["namespaceDefinition"] == "customformat"
    public = ok(api.get(f"/connections/{connection['connectionId']}"))
    assert public["schedule"] == {
        "scheduleType": "basic",
        "cronExpression": None,
        "basicTiming": "Every 24 HOURS",
    }

    info = ok(client.post("/connections/sync", json={"connectionId": connection["connectionId"]}))
    job_id = info["job"]["id"]
    assert info["job"]["configType"] == "sync"
    for _ in range(300):
        info = ok(client.post("/jobs/get", json={"id": job_id}))
        if info["job"]["status"] not in ("pending", "running"):
            break
        time.sleep(0.1)
    assert info["job"]["status"] == "succeeded"
    assert info["job"]["aggregatedStats"]["recordsCommitted"] == 7
    stats = info["job"]["aggregatedStats"]
    assert 0 < stats["bytesCommitted"] == stats["bytesEmitted"]
    assert info["attempts"][0]["attempt"]["status"] == "succeeded"
    listed = ok(
        client.post("/jobs/list", json={"configTypes": ["sync"], "configId": connection["connectionId"]})
    )
    assert [j["job"]["id"] for j in listed["jobs"]] == [job_id]
    assert listed["totalJobCount"] == 1

    state = ok(client.post("/state/get", json={"connectionId": connection["connectionId"]}))
    assert state["stateType"] == "stream"
    assert state["streamState"][0]["streamDescriptor"] == {"name": "users"}
    state["streamState"][0]["streamState"] = {"updated_at": "2000-01-01T00:00:00+00:00"}
    replaced = ok(
        client.post(
            "/state/create_or_update",
            json={"connectionId": connection["connectionId"], "connectionState": state},
        )
    )
    assert replaced["streamState"][0]["streamState"] == {"updated_at": "2000-01-01T00:00:00+00:00"}


def test_config_api_errors_are_problems(server: Server, api: httpx.Client) -> None:
    root = f"{server.url}/api/v1"
    missing = httpx.post(f"{root}/sources/create", json={"name": "s"}, headers=api.headers)
    assert missing.status_code == 400
    assert missing.json()["data"]["field"] == "workspaceId"
    assert (
        httpx.post(f"{root}/jobs/get", json={"id": "seven"}, headers=api.headers).json()["data"]["field"]
        == "id"
    )
    assert (
        httpx.post(f"{root}/jobs/list", json={}, headers=api.headers).json()["data"]["field"] == "configTypes"
    )
    assert httpx.post(f"{root}/jobs/get", json={"id": 424242}, headers=api.headers).status_code == 404
    bad = httpx.post(
        f"{root}/sources/list", content=b"{", headers={**api.headers, "content-type": "application/json"}
    )
    assert bad.status_code == 400
