"""Secrets: sealed at rest, masked in responses, kept when the mask comes back, never leaked."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet

from ferry.cdk.spec import MASK
from ferry.control.errors import InvalidInputError
from ferry.control.secrets import SecretBox, load_key, masked
from ferry.errors import InternalError
from tests.control import plugin
from tests.control.conftest import Server, ok, wait_job

CANARY = "canary-7f3e9a1b5c"
CANARY_TOKEN = "tok-canary-2b8d6e"


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "home" / "secret.key"
    first = load_key(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(None, key_file) == first
    Fernet(first)  # a valid key


def test_secret_key_from_the_environment_wins(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    assert load_key(key, tmp_path / "k") == key.encode()
    assert not (tmp_path / "k").exists()
    derived = load_key("any passphrase at all", tmp_path / "k")
    Fernet(derived)
    assert derived == load_key("any passphrase at all", tmp_path / "k")


def test_seal_mask_and_merge() -> None:
    box = SecretBox(Fernet.generate_key())
    config = {"api_key": CANARY, "rows": 2, "options": {"token": CANARY_TOKEN, "region": "eu"}}
    stored = box.seal(plugin.SPEC, config)
    assert CANARY not in json.dumps(stored)
    assert CANARY_TOKEN not in json.dumps(stored)
    assert stored["rows"] == 2
    assert stored["options"]["region"] == "eu"
    assert masked(stored) == {"api_key": MASK, "rows": 2, "options": {"token": MASK, "region": "eu"}}
    assert box.open(stored) == config
    assert box.secrets(stored) == {CANARY, CANARY_TOKEN}

    # Sending back what a response showed keeps both secrets; a new value replaces one.
    resent = box.seal(plugin.SPEC, {**masked(stored), "rows": 5}, stored)
    assert box.open(resent) == {**config, "rows": 5}
    changed = box.seal(plugin.SPEC, {**masked(stored), "api_key": "new-key-123"}, stored)
    assert box.open(changed)["api_key"] == "new-key-123"
    assert box.open(changed)["options"]["token"] == CANARY_TOKEN


def test_the_mask_without_a_stored_secret_is_refused() -> None:
    box = SecretBox(Fernet.generate_key())
    with pytest.raises(InvalidInputError) as caught:
        box.seal(plugin.SPEC, {"api_key": MASK})
    assert caught.value.field == "configuration.api_key"


def test_another_key_cannot_open_a_secret() -> None:
    stored = SecretBox(Fernet.generate_key()).seal(plugin.SPEC, {"api_key": CANARY})
    with pytest.raises(InternalError, match="cannot be decrypted"):
        SecretBox(Fernet.generate_key()).open(stored)


def _raw_rows(server: Server) -> str:
    """Every row of the store as text, as someone reading the database would see it."""
    url = server.env.get("FERRY_DATABASE_URL")
    if url is None:
        database = server.home / "ferry.db"
        return (
            b"".join(p.read_bytes() for p in server.home.glob("ferry.db*")).decode("latin-1") + database.name
        )
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        tables = [
            r[0] for r in connection.execute("select tablename from pg_tables where schemaname = 'public'")
        ]
        return "\n".join(str(connection.execute(f'select * from "{t}"').fetchall()) for t in tables)


def test_a_canary_secret_never_leaks(server: Server, api: httpx.Client, tmp_path: Path) -> None:
    seen: list[object] = []

    def call(response: httpx.Response) -> dict:  # type: ignore[type-arg]
        seen.append(response.text)
        return ok(response)  # type: ignore[no-any-return]

    workspace = call(api.post("/workspaces", json={"name": "secrets"}))["workspaceId"]
    config = {"sourceType": "test-secret", "api_key": CANARY, "rows": 4, "options": {"token": CANARY_TOKEN}}
    source = call(
        api.post("/sources", json={"name": "secretive", "workspaceId": workspace, "configuration": config})
    )
    assert source["configuration"] == {"api_key": MASK, "rows": 4, "options": {"token": MASK}}
    source_id = source["sourceId"]
    call(api.get(f"/sources/{source_id}"))
    call(api.get("/sources", params={"workspaceIds": workspace}))
    # Sending the config back as read (masks included) keeps the secrets: the sync below needs the real key.
    call(
        api.put(f"/sources/{source_id}", json={"name": "secretive", "configuration": source["configuration"]})
    )
    call(api.patch(f"/sources/{source_id}", json={"configuration": {"rows": 3}}))
    destination = call(
        api.post(
            "/destinations",
            json={
                "name": "d",
                "workspaceId": workspace,
                "configuration": {"destinationType": "duckdb", "path": str(tmp_path / "w.duckdb")},
            },
        )
    )
    connection = call(
        api.post(
            "/connections",
            json={
                "sourceId": source_id,
                "destinationId": destination["destinationId"],
                "configurations": {"streams": [{"name": "items"}]},
            },
        )
    )
    job = call(api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": "sync"}))
    finished = wait_job(api, job["jobId"])
    seen.append(json.dumps(finished))
    assert finished["status"] == "succeeded", finished
    assert finished["rowsSynced"] == 3
    seen.append(
        call(
            httpx.post(f"{server.url}/api/v1/sources/get", json={"sourceId": source_id}, headers=api.headers)
        )
    )
    # A validation error that quotes the config must not quote the secret either.
    seen.append(api.patch(f"/sources/{source_id}", json={"configuration": {"rows": CANARY}}).text)

    logs = "".join(p.read_text() for p in (server.home / "logs").rglob("*.log"))
    assert "api key" in server.log_text()  # the connector did log its key, masked
    for where, text in [
        ("responses", "\n".join(map(str, seen))),
        ("server log", server.log_text()),
        ("job logs", logs),
        ("database", _raw_rows(server)),
    ]:
        assert CANARY not in text, where
        assert CANARY_TOKEN not in text, where
