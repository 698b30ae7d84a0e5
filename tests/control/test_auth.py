"""Auth: tokens from client credentials (form or JSON, two URLs), bearer on every route but health,
the first admin, and users who see only their own workspaces."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ferry.control import auth
from ferry.control.app import open_control
from ferry.control.secrets import SecretBox, load_key
from ferry.control.services import users
from ferry.control.services.context import Control
from ferry.control.settings import Settings
from tests.control.conftest import (
    ADMIN_ID,
    ADMIN_SECRET,
    Server,
    make_setup,
    ok,
    start_server,
    stop_server,
    wait_job,
)

PROTECTED = [
    ("GET", "/workspaces"),
    ("POST", "/workspaces"),
    ("GET", "/sources"),
    ("GET", "/destinations/x"),
    ("GET", "/connections"),
    ("GET", "/jobs"),
    ("DELETE", "/jobs/1"),
    ("GET", "/streams?sourceId=x"),
]


def test_health_needs_no_token(server: Server) -> None:
    for url in (f"{server.public}/health", f"{server.url}/v1/health"):
        response = httpx.get(url)
        assert response.status_code == 200
        assert response.text == "Successful operation"
    assert httpx.get(f"{server.url}/api/v1/health").json() == {"available": True}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_other_route_needs_a_valid_token(server: Server, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YTpi"}):
        response = httpx.request(method, f"{server.public}{path}", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["status"] == 401
    assert httpx.post(f"{server.url}/api/v1/sources/list", json={}).status_code == 401


def test_tokens_from_form_or_json_at_either_url(server: Server) -> None:
    credentials = {"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET}
    answers = [
        httpx.post(
            f"{server.public}/applications/token", data={**credentials, "grant_type": "client_credentials"}
        ),
        httpx.post(f"{server.public}/applications/token", json=credentials),  # PyAirbyte: JSON, no grant_type
        httpx.post(f"{server.url}/applications/token", data=credentials),  # the SDK's default, relative URL
        httpx.post(f"{server.url}/v1/applications/token", json=credentials),
    ]
    for answer in answers:
        body = ok(answer)
        assert body["token_type"] == "Bearer"
        assert isinstance(body["expires_in"], int)
        assert body["expires_in"] > 60
        listed = httpx.get(
            f"{server.public}/workspaces", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert listed.status_code == 200


def test_bad_credentials_are_refused(server: Server) -> None:
    url = f"{server.public}/applications/token"
    assert httpx.post(url, data={"client_id": ADMIN_ID, "client_secret": "wrong"}).status_code == 401
    assert httpx.post(url, data={"client_id": "nobody", "client_secret": "x"}).status_code == 401
    missing = httpx.post(url, json={"client_id": ADMIN_ID})
    assert missing.status_code == 400
    assert missing.json()["data"]["field"] == "client_secret"
    grant = httpx.post(
        url, data={"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET, "grant_type": "password"}
    )
    assert grant.status_code == 400
    assert (
        httpx.post(url, content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    )


def test_an_expired_or_forged_token_is_refused(server: Server) -> None:
    signing_key = SecretBox(load_key(None, server.home / "secret.key")).signing_key
    good = server.token()
    claims = auth.read_token(signing_key, good)
    assert claims is not None
    expired = auth.issue_token(signing_key, claims.user_id, -5)
    forged = auth.issue_token(b"another server's key", claims.user_id, 600)
    for token in (expired, forged, good[:-3] + "abc"):
        response = httpx.get(f"{server.public}/workspaces", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


@pytest.mark.slow
def test_first_start_prints_the_admin_credentials_once(tmp_path: Path, repo_root: Path) -> None:
    home = tmp_path / "home"
    first = start_server(home, {}, repo_root)
    try:
        text = first.log_text()
        client_id = text.split("client_id:")[1].split()[0]
        secret = text.split("client_secret:")[1].split()[0]
        assert ok(
            httpx.post(
                f"{first.url}/applications/token", data={"client_id": client_id, "client_secret": secret}
            )
        )
    finally:
        stop_server(first)
    second = start_server(home, {}, repo_root)
    try:
        assert "client_secret:" not in second.log_text()
        assert ok(
            httpx.post(
                f"{second.url}/applications/token", data={"client_id": client_id, "client_secret": secret}
            )
        )
    finally:
        stop_server(second)
    # Stored hashed: the database never holds the secret itself.
    assert secret.encode() not in (home / "ferry.db").read_bytes()


@pytest.fixture
def server_ctx(server: Server) -> Iterator[Control]:
    """The server's own store, opened beside it (as an admin tool would)."""
    url = server.env.get("FERRY_DATABASE_URL") or f"sqlite:///{server.home / 'ferry.db'}"
    ctx = open_control(Settings(home=server.home, database_url=url))
    yield ctx
    ctx.store.dispose()


def test_users_see_only_their_workspaces(
    server: Server, server_ctx: Control, api: httpx.Client, tmp_path: Path
) -> None:
    mine = make_setup(api, tmp_path)
    theirs = make_setup(api, tmp_path)
    connection = ok(
        api.post("/connections", json={"sourceId": theirs.source_id, "destinationId": theirs.destination_id})
    )
    job = ok(api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": "sync"}))
    wait_job(api, job["jobId"])
    bob = users.create_user(server_ctx, f"bob-{uuid.uuid4().hex[:6]}", roles={mine.workspace_id: "editor"})
    with server.client(bob.client_id, bob.client_secret) as client:
        listed = ok(client.get("/workspaces"))["data"]
        assert [w["workspaceId"] for w in listed] == [mine.workspace_id]
        assert ok(client.get("/sources", params={"workspaceIds": theirs.workspace_id}))["data"] == []
        assert ok(client.get("/jobs", params={"workspaceIds": theirs.workspace_id}))["data"] == []
        unknown = client.get(f"/sources/{uuid.uuid4()}")
        hidden = [
            client.get(f"/workspaces/{theirs.workspace_id}"),
            client.get(f"/sources/{theirs.source_id}"),
            client.get(f"/destinations/{theirs.destination_id}"),
            client.get(f"/connections/{connection['connectionId']}"),
            client.get(f"/jobs/{job['jobId']}"),
            client.delete(f"/jobs/{job['jobId']}"),
            client.get("/streams", params={"sourceId": theirs.source_id}),
            client.post(
                "/sources",
                json={
                    "name": "x",
                    "workspaceId": theirs.workspace_id,
                    "configuration": {"sourceType": "sample-data"},
                },
            ),
            client.post(
                "/connections", json={"sourceId": theirs.source_id, "destinationId": mine.destination_id}
            ),
            client.patch(f"/sources/{theirs.source_id}", json={"name": "mine now"}),
            client.delete(f"/workspaces/{theirs.workspace_id}"),
        ]
        for response in hidden:
            # The same answer as for an id that does not exist: nothing tells that it does.
            assert response.status_code == 404, (response.request.url, response.text)
            assert response.json()["title"] == unknown.json()["title"]
        assert ok(client.get(f"/sources/{mine.source_id}"))["sourceId"] == mine.source_id


def test_a_reader_cannot_change_anything(
    server: Server, server_ctx: Control, api: httpx.Client, tmp_path: Path
) -> None:
    setup = make_setup(api, tmp_path)
    reader = users.create_user(server_ctx, "reader", roles={setup.workspace_id: "reader"})
    with server.client(reader.client_id, reader.client_secret) as client:
        assert ok(client.get(f"/sources/{setup.source_id}"))["name"] == "sample"
        refused = client.patch(f"/sources/{setup.source_id}", json={"name": "renamed"})
        assert refused.status_code == 403
        assert client.delete(f"/workspaces/{setup.workspace_id}").status_code == 403
