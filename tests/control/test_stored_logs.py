"""Attempt logs kept in the store: copied (masked, in pieces, at most their tail) when an attempt ends,
and served by the API with the same pages when the log file is not on the server's disk, as when a
worker on another machine ran the attempt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, func, select

from ferry.control.app import open_control
from ferry.control.execution import ExecutionSettings
from ferry.control.services import attempts, jobs, logs, state
from ferry.control.services.context import SYSTEM, Control
from ferry.control.settings import Settings
from ferry.control.store.models import Attempt, AttemptLog, Job
from tests.control.conftest import BACKENDS, Server, ok
from tests.control.helpers import make_connection
from tests.control.jobs_helpers import control_for, ticker_connection, wait_for
from tests.control.test_logs import API_KEY, PAGE, _job_with_a_secret, _log_file, _pages

CHUNK = logs.STORED_CHUNK_BYTES
_EXECUTION = ExecutionSettings(heartbeat_seconds=0.3, commit_rows=0)  # a saved state at every checkpoint


@contextmanager
def _store_of(server: Server) -> Iterator[Control]:
    url = server.env.get("FERRY_DATABASE_URL") or f"sqlite:///{server.home / 'ferry.db'}"
    ctx = open_control(Settings(home=server.home, database_url=url))
    try:
        yield ctx
    finally:
        ctx.store.dispose()


def _stored(ctx: Control, job_id: int, attempt: int = 0) -> bytes:
    """The store's copy of an attempt's log, its pieces joined (empty when there is none)."""
    with ctx.store.read() as session:
        pieces = session.scalars(
            select(AttemptLog.data)
            .join(Attempt, Attempt.id == AttemptLog.attempt_id)
            .where(Attempt.job_id == job_id, Attempt.number == attempt)
            .order_by(AttemptLog.chunk)
        )
        return b"".join(pieces)


def _attempt_id(ctx: Control, job_id: int) -> int:
    [attempt] = jobs.get(ctx, SYSTEM, job_id).attempts
    return attempt.id


def test_a_finished_attempt_leaves_its_masked_log_in_the_store(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    _, job_id = _job_with_a_secret(api, tmp_path)
    with _store_of(server) as ctx:
        # The job is closed just before its log is copied: wait for the copy.
        stored = wait_for(lambda: _stored(ctx, job_id))
    assert stored == _log_file(server, job_id).read_bytes()
    assert b"connecting with api key **********" in stored
    assert API_KEY.encode() not in stored


def test_without_the_log_file_the_api_serves_the_stored_copy_in_the_same_pages(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    _, job_id = _job_with_a_secret(api, tmp_path)
    log = _log_file(server, job_id)
    with _store_of(server) as ctx:
        wait_for(lambda: _stored(ctx, job_id))  # the worker's copy first, so that it cannot replace ours
        # A long sync's log: several stored pieces, and one line longer than a page.
        with log.open("a") as handle:
            for i in range(12_000):
                handle.write(f"2024-01-01T00:00:00 INFO filler line {i:05d} {'.' * 40}\n")
            handle.write("x" * (PAGE + 1000) + "\n")
            handle.write("the last line\n")
        assert logs.store_copy(ctx, _attempt_id(ctx, job_id), log) == log.stat().st_size > 3 * CHUNK

    def everything() -> tuple[list[dict[str, object]], dict[str, object], list[str]]:
        straddling = ok(api.get(f"/jobs/{job_id}/logs", params={"offset": CHUNK - 100, "limit": 300}))
        info = ok(httpx.post(f"{server.url}/api/v1/jobs/get", json={"id": job_id}, headers=api.headers))
        return _pages(api, job_id), straddling, info["attempts"][0]["logs"]["logLines"]

    from_file = everything()
    log.unlink()  # as on a server that is not the worker's machine
    from_store = everything()

    assert from_store == from_file
    pages, straddling, tail = from_store
    assert pages[-1]["lines"][-1] == "the last line"
    assert pages[-1]["size"] == pages[-1]["nextOffset"]
    # Pages that run across a piece boundary of the stored copy come out whole.
    boundaries = range(CHUNK, pages[-1]["size"], CHUNK)
    assert all(any(p["offset"] < b < p["nextOffset"] for p in pages) for b in boundaries)
    assert straddling["offset"] == CHUNK - 100 and straddling["nextOffset"] > CHUNK
    assert straddling["lines"] and tail[-1] == "the last line"


def test_a_log_over_the_cap_is_stored_as_its_tail_after_a_line_saying_so(
    ctx: Control, tmp_path: Path
) -> None:
    job_id, ticket = _finished_attempt(ctx, tmp_path)
    line = "2024-01-01T00:00:00 INFO a runaway connector says {:08d} " + "." * 60 + "\n"
    with ticket.log_path.open("w") as handle:
        for start in range(0, 180_000, 10_000):
            handle.write("".join(line.format(i) for i in range(start, start + 10_000)))
    written = ticket.log_path.read_bytes()
    assert len(written) > logs.STORED_MAX_BYTES

    stored_size = logs.store_copy(ctx, ticket.attempt_id, ticket.log_path)
    stored = _stored(ctx, job_id)
    note, _, kept = stored.partition(b"\n")
    cut = len(written) - len(kept)
    assert f"WARN the first {cut} bytes of this log were cut".encode() in note
    assert stored_size == len(stored) <= logs.STORED_MAX_BYTES + len(note) + 1
    assert written.endswith(kept) and written[cut - 1 : cut] == b"\n"  # the kept tail starts on a line
    with ctx.store.read() as session:
        lengths = list(
            session.scalars(
                select(func.length(AttemptLog.data))
                .where(AttemptLog.attempt_id == ticket.attempt_id)
                .order_by(AttemptLog.chunk)
            )
        )
    assert all(n == CHUNK for n in lengths[:-1]) and 0 < lengths[-1] <= CHUNK

    ticket.log_path.unlink()
    first = logs.read_page(ctx, SYSTEM, job_id)
    assert first.size == len(stored) and first.lines[0] == note.decode()
    last = logs.read_page(ctx, SYSTEM, job_id, offset=len(stored) - 500)
    assert last.complete and last.lines[-1] == written.decode().splitlines()[-1]


def test_deleting_a_job_deletes_its_stored_logs(ctx: Control, tmp_path: Path) -> None:
    job_id, ticket = _finished_attempt(ctx, tmp_path)
    ticket.log_path.write_text("a line\n" * 100_000)  # several pieces
    logs.store_copy(ctx, ticket.attempt_id, ticket.log_path)
    assert _pieces(ctx, ticket.attempt_id) == 3
    with ctx.store.write() as session:
        session.execute(delete(Job).where(Job.id == job_id))
    assert _pieces(ctx, ticket.attempt_id) == 0


def _finished_attempt(ctx: Control, tmp_path: Path) -> tuple[int, attempts.Ticket]:
    connection = make_connection(ctx, tmp_path)
    job = jobs.create(ctx, SYSTEM, connection.id, "sync").job
    ticket = attempts.start(ctx, job.id, "worker")
    assert ticket is not None
    attempts.finish(ctx, ticket, succeeded=True)
    ticket.log_path.parent.mkdir(parents=True, exist_ok=True)
    return job.id, ticket


def _pieces(ctx: Control, attempt_id: int) -> int:
    with ctx.store.read() as session:
        count = session.scalar(select(func.count()).where(AttemptLog.attempt_id == attempt_id))
    return int(count or 0)


@pytest.fixture(params=BACKENDS)
def control(request: pytest.FixtureRequest, tmp_path: Path, repo_root: Path) -> Iterator[Control]:
    with control_for(request.param, tmp_path, repo_root) as ctx:
        yield ctx


def test_a_worker_on_another_machine_leaves_its_log_in_the_store(control: Control, tmp_path: Path) -> None:
    ctx = control
    connection = ticker_connection(ctx, tmp_path, rows=50, delay=0.0)
    job = jobs.create(ctx, SYSTEM, connection.id, "sync").job
    remote = tmp_path / "other-machine"  # its own FERRY_HOME: the log file is not under this server's
    env = {
        **os.environ,
        **_EXECUTION.to_env(),
        "FERRY_DATABASE_URL": ctx.store.url,
        "FERRY_HOME": str(remote),
        "FERRY_SECRET_KEY": ctx.settings.key_file.read_text().strip(),
    }
    worker = subprocess.Popen([sys.executable, "-m", "ferry.control.worker", str(job.id)], env=env)
    try:
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    written = (remote / "logs" / str(job.id) / "attempt-0.log").read_bytes()
    assert written
    assert not (ctx.settings.logs_dir / str(job.id)).exists()
    assert _stored(ctx, job.id) == written
    page = logs.read_page(ctx, SYSTEM, job.id)
    assert page.complete and page.size == len(written)
    assert page.lines == written.decode().splitlines()
    assert jobs.get(ctx, SYSTEM, job.id).attempts[0].status == "succeeded"


def _position(ctx: Control, connection_id: str) -> int:
    saved = state.get(ctx, SYSTEM, connection_id)
    entries = [e.state for e in saved.streams.values() if e.state]
    return int(entries[0]["id"]) if entries else 0
