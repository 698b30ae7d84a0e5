"""Job logs: written by the worker (engine and connector lines, secrets masked), read through the public
API a page at a time by byte offset, and through the config API's jobs/get as the log's last lines.

Runs against a real `ferry serve` (SQLite and Postgres stores) whose worker processes write the logs.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from ferry.control.app import open_control
from ferry.control.services import users
from ferry.control.settings import Settings
from tests.control.conftest import Server, make_setup, ok, wait_job

API_KEY = f"key-{uuid.uuid4().hex}"
PAGE = 64 * 1024


def _job_with_a_secret(api: httpx.Client, tmp: Path) -> tuple[str, int]:
    """A finished sync from `test-secret`, a source that logs its api key; (workspace id, job id)."""
    setup = make_setup(api, tmp)
    source = ok(
        api.post(
            "/sources",
            json={
                "name": "logs its key",
                "workspaceId": setup.workspace_id,
                "configuration": {"sourceType": "test-secret", "api_key": API_KEY, "rows": 2},
            },
        )
    )
    connection = ok(
        api.post(
            "/connections",
            json={
                "sourceId": source["sourceId"],
                "destinationId": setup.destination_id,
                "configurations": {"streams": [{"name": "items"}]},
            },
        )
    )
    job = ok(api.post("/jobs", json={"connectionId": connection["connectionId"], "jobType": "sync"}))
    assert wait_job(api, job["jobId"])["status"] == "succeeded"
    return setup.workspace_id, job["jobId"]


def _log_file(server: Server, job_id: int, attempt: int = 0) -> Path:
    return server.home / "logs" / str(job_id) / f"attempt-{attempt}.log"


def _pages(api: httpx.Client, job_id: int, **params: Any) -> list[dict[str, Any]]:
    pages, offset = [], 0
    while True:
        page = ok(api.get(f"/jobs/{job_id}/logs", params={**params, "offset": offset, "limit": PAGE}))
        assert page["offset"] == offset
        assert page["nextOffset"] - offset <= PAGE
        pages.append(page)
        if page["complete"]:
            return pages
        assert page["nextOffset"] > offset
        offset = page["nextOffset"]


def test_a_large_log_pages_through_the_api_by_byte_offset_with_secrets_masked(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    _, job_id = _job_with_a_secret(api, tmp_path)
    log = _log_file(server, job_id)
    written = log.read_text()
    assert "connecting with api key **********" in written  # the connector's own line, masked by the worker
    # A long sync writes far more: make the log a few megabytes, with one line longer than a page.
    with log.open("a") as handle:
        for i in range(40_000):
            handle.write(f"2024-01-01T00:00:00 INFO filler line {i:05d} {'.' * 40}\n")
        handle.write("x" * (PAGE + 1000) + "\n")
        handle.write("the last line\n")
    pages = _pages(api, job_id)
    assert len(pages) > 30
    assert all(p["attemptNumber"] == 0 and p["attempts"] == 1 for p in pages)
    assert pages[-1]["nextOffset"] == pages[-1]["size"] == log.stat().st_size
    lines = [line for page in pages for line in page["lines"]]
    expected = log.read_text().splitlines()
    long_line = expected[-2]
    # Every line comes whole and in order, except the one longer than a page, which comes in pieces.
    assert [x for x in lines if not x.startswith("x")] == [x for x in expected if not x.startswith("x")]
    assert "".join(x for x in lines if x.startswith("x")) == long_line
    assert API_KEY not in "\n".join(lines)
    past_the_end = ok(api.get(f"/jobs/{job_id}/logs", params={"offset": 10**9}))
    assert past_the_end["lines"] == []
    assert past_the_end["complete"] is True


def test_jobs_get_of_the_config_api_shows_each_attempt_log(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    _, job_id = _job_with_a_secret(api, tmp_path)
    info = ok(httpx.post(f"{server.url}/api/v1/jobs/get", json={"id": job_id}, headers=api.headers))
    [attempt] = info["attempts"]
    lines = attempt["logs"]["logLines"]
    assert lines == _log_file(server, job_id).read_text().splitlines()
    assert any("attempt 0 of job" in line and "started" in line for line in lines)
    assert any("connecting with api key **********" in line for line in lines)
    assert API_KEY not in str(info)


def test_logs_are_for_those_who_may_see_the_job(server: Server, api: httpx.Client, tmp_path: Path) -> None:
    workspace_id, job_id = _job_with_a_secret(api, tmp_path)
    other = make_setup(api, tmp_path)
    url = server.env.get("FERRY_DATABASE_URL") or f"sqlite:///{server.home / 'ferry.db'}"
    ctx = open_control(Settings(home=server.home, database_url=url))
    try:
        reader = users.create_user(ctx, f"reader-{uuid.uuid4().hex[:6]}", roles={workspace_id: "reader"})
        stranger = users.create_user(
            ctx, f"other-{uuid.uuid4().hex[:6]}", roles={other.workspace_id: "admin"}
        )
    finally:
        ctx.store.dispose()
    with server.client(reader.client_id, reader.client_secret) as client:
        assert ok(client.get(f"/jobs/{job_id}/logs"))["lines"]
        assert client.get(f"/jobs/{job_id}/logs", params={"attemptNumber": 1}).status_code == 404
    with server.client(stranger.client_id, stranger.client_secret) as client:
        hidden = client.get(f"/jobs/{job_id}/logs")
        assert hidden.status_code == 404  # as if the job did not exist
        assert client.get("/jobs/987654321/logs").status_code == 404
    assert httpx.get(f"{server.public}/jobs/{job_id}/logs").status_code == 401
    assert api.get(f"/jobs/{job_id}/logs", params={"limit": 0}).status_code == 400
