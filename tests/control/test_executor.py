"""The process executor: each attempt in its own worker process, a slot limit, cancels that kill the
whole process tree, crashes detected and retried from the last saved state, retries by error type
with back-off, and fencing that keeps a superseded (zombie) attempt from saving state.

Runs real worker processes (`python -m ferry.control.worker`) against a real store (SQLite, and
Postgres where the store's behaviour matters), with real DuckDB files as the destination.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ferry.control import proctree
from ferry.control.app import open_control
from ferry.control.execution import ExecutionSettings
from ferry.control.executor_process import ProcessExecutor
from ferry.control.scheduler import Scheduler
from ferry.control.services import actors, attempts, connections, jobs, state, workspaces
from ferry.control.services.connections import Settings as ConnectionSettings
from ferry.control.services.context import SYSTEM, Control
from ferry.control.services.retries import RetryPolicy
from ferry.control.store.models import Attempt, Definition
from tests.control.conftest import ADMIN_ID, ADMIN_SECRET, BACKENDS, ok, start_server, stop_server
from tests.control.jobs_helpers import control_for, finished, ticker_connection, wait_for, warehouse_rows
from tests.external.conftest import FAKE

FAST = ExecutionSettings(
    slots=3,
    retry=RetryPolicy(max_attempts=3, backoff=(0.3, 0.6)),
    heartbeat_seconds=0.3,
    dead_after_seconds=2.0,
    tick_seconds=0.2,
    pending_grace_seconds=1.0,
    kill_grace_seconds=2.0,
    commit_rows=0,  # a destination commit (and a saved state) at every checkpoint
)


@pytest.fixture(params=BACKENDS)
def control(request: pytest.FixtureRequest, tmp_path: Path, repo_root: Path) -> Iterator[Control]:
    with control_for(request.param, tmp_path, repo_root) as ctx:
        yield ctx


@pytest.fixture
def sqlite_control(tmp_path: Path, repo_root: Path) -> Iterator[Control]:
    with control_for("sqlite", tmp_path, repo_root) as ctx:
        yield ctx


def _machine(ctx: Control, settings: ExecutionSettings = FAST) -> Scheduler:
    """An executor and a running scheduler on `ctx`, as `ferry serve` has them."""
    ctx.executor = ProcessExecutor(ctx, settings)
    scheduler = Scheduler(ctx, ctx.executor, settings)
    scheduler.start()
    return scheduler


def _saved_position(ctx: Control, connection_id: str) -> int:
    saved = state.get(ctx, SYSTEM, connection_id)
    entries = [e.state for e in saved.streams.values() if e.state]
    return int(entries[0]["id"]) if entries else 0


def _worker_pid(ctx: Control, job_id: int) -> int:
    view = jobs.get(ctx, SYSTEM, job_id)
    running = [a for a in view.attempts if a.status == "running"]
    assert running, view.attempts
    assert running[0].worker is not None
    return int(running[0].worker.rsplit(":", 1)[1])


def test_a_sync_runs_in_a_worker_process(control: Control, tmp_path: Path) -> None:
    scheduler = _machine(control)
    try:
        connection = ticker_connection(control, tmp_path, rows=5)
        job = jobs.create(control, SYSTEM, connection.id, "sync").job
        view = finished(control, job.id)
    finally:
        scheduler.stop()
    assert view.job.status == "succeeded", view.job.failure
    [attempt] = view.attempts
    assert attempt.worker is not None
    assert int(attempt.worker.rsplit(":", 1)[1]) != os.getpid()
    assert warehouse_rows(tmp_path) == [(i, 0) for i in range(1, 6)]
    assert view.totals.records_committed == 5
    # The connector's own log line reached the attempt's log, written by the worker process.
    assert attempt.log_path is not None
    assert "ticker run 0 starts after id 0" in Path(attempt.log_path).read_text()


def test_no_more_attempts_run_at_once_than_there_are_slots(sqlite_control: Control, tmp_path: Path) -> None:
    ctx = sqlite_control
    scheduler = _machine(ctx, dataclasses.replace(FAST, slots=1))
    assert isinstance(ctx.executor, ProcessExecutor)
    executor = ctx.executor
    try:
        made = [ticker_connection(ctx, tmp_path, name=f"c{n}", rows=4, delay=0.1) for n in range(2)]
        ids = [jobs.create(ctx, SYSTEM, c.id, "sync").job.id for c in made]
        most = 0
        while any(jobs.get(ctx, SYSTEM, i).job.status in ("pending", "running") for i in ids):
            most = max(most, len(executor.running()))
            time.sleep(0.05)
        views = [finished(ctx, i) for i in ids]
    finally:
        scheduler.stop()
    assert most == 1
    assert [v.job.status for v in views] == ["succeeded", "succeeded"]
    first, second = sorted((v.attempts[0] for v in views), key=lambda a: a.created_at)
    assert first.ended_at is not None
    assert second.created_at >= first.ended_at


def _external_source(ctx: Control, workspace_id: str) -> str:
    """A definition for the protocol-speaking test program, run as a `command:` connector."""
    definition_id = str(uuid.uuid4())
    spec = {"connectionSpecification": {"type": "object", "additionalProperties": True}}
    with ctx.store.write() as session:
        session.add(
            Definition(
                id=definition_id,
                kind="source",
                name="fake",
                reference=f"command:{sys.executable} {FAKE} source",
                workspace_id=workspace_id,
                spec=spec,
            )
        )
    return definition_id


def test_cancel_kills_the_worker_and_every_connector_process(sqlite_control: Control, tmp_path: Path) -> None:
    ctx = sqlite_control
    scheduler = _machine(ctx)
    try:
        workspace = workspaces.create(ctx, SYSTEM, "cancel")
        pid_file = tmp_path / "source.pid"
        source = actors.create(
            ctx,
            SYSTEM,
            "source",
            workspace_id=workspace.id,
            name="hangs",
            definition_id=_external_source(ctx, workspace.id),
            configuration={"records": 50, "per_state": 5, "hang_after": 10, "pid_file": str(pid_file)},
        )
        destination = actors.create(
            ctx,
            SYSTEM,
            "destination",
            workspace_id=workspace.id,
            name="w",
            configuration={"destinationType": "duckdb", "path": str(tmp_path / "w.duckdb")},
        )
        connection = connections.create(
            ctx, SYSTEM, source.row.id, destination.row.id, ConnectionSettings(streams=[{"name": "items"}])
        )
        job = jobs.create(ctx, SYSTEM, connection.id, "sync").job
        wait_for(pid_file.exists)
        worker = _worker_pid(ctx, job.id)
        connector = int(pid_file.read_text())
        # The hanging source has started its helper: worker, connector and helper are all running.
        pids = wait_for(lambda: _tree_of_at_least(worker, 3))
        assert connector in pids
        assert os.getpgid(connector) != os.getpgid(worker)  # the connector has a process group of its own
        jobs.cancel(ctx, SYSTEM, job.id)
        wait_for(lambda: not any(proctree.alive(p) for p in pids), seconds=15)
        view = jobs.get(ctx, SYSTEM, job.id)
    finally:
        scheduler.stop()
    assert view.job.status == "cancelled"
    assert view.attempts[0].status == "failed"


def test_a_worker_stops_on_its_own_when_its_job_is_cancelled_elsewhere(
    sqlite_control: Control, tmp_path: Path
) -> None:
    # As with a remote worker: the server that cancels the job has no process to kill, only the store.
    ctx = sqlite_control
    connection = ticker_connection(ctx, tmp_path, rows=200, delay=0.05)
    job = jobs.create(ctx, SYSTEM, connection.id, "sync").job
    worker = _worker(ctx, job.id)
    try:
        wait_for(lambda: _saved_position(ctx, connection.id) >= 2)
        jobs.cancel(ctx, SYSTEM, job.id)
        cancelled_at = time.monotonic()
        assert worker.wait(timeout=30) == 0
        stopped_after = time.monotonic() - cancelled_at
    finally:
        if worker.poll() is None:
            worker.kill()
    assert stopped_after < 10
    assert _saved_position(ctx, connection.id) < 200
    view = jobs.get(ctx, SYSTEM, job.id)
    assert view.job.status == "cancelled"
    assert view.attempts[0].status == "failed"


def test_two_workers_given_the_same_job_start_one_attempt(control: Control, tmp_path: Path) -> None:
    other = open_control(control.settings)  # a second server's store connection
    try:
        for n in range(5):
            connection = ticker_connection(control, tmp_path, name=f"c{n}", rows=1)
            job_id = jobs.create(control, SYSTEM, connection.id, "sync").job.id
            started = _start_together(job_id, control, other)
            assert len([t for t in started if t is not None]) == 1
            assert len(jobs.get(control, SYSTEM, job_id).attempts) == 1
    finally:
        other.store.dispose()


def _start_together(job_id: int, *stores: Control) -> list[attempts.Ticket | None]:
    """`attempts.start` of one job from several threads at the same instant."""
    gate = threading.Barrier(len(stores))
    tickets: list[attempts.Ticket | None] = []

    def start(ctx: Control, name: str) -> None:
        gate.wait()
        tickets.append(attempts.start(ctx, job_id, name))

    threads = [threading.Thread(target=start, args=(c, f"w{n}")) for n, c in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return tickets


def _worker(ctx: Control, job_id: int, *extra: str) -> subprocess.Popen[bytes]:
    """A worker started by hand for a job, as a remote machine would start one."""
    env = {
        **os.environ,
        **FAST.to_env(),
        "FERRY_DATABASE_URL": ctx.store.url,
        "FERRY_HOME": str(ctx.settings.home),
    }
    return subprocess.Popen([sys.executable, "-m", "ferry.control.worker", str(job_id), *extra], env=env)


def _tree_of_at_least(root: int, count: int) -> list[int] | None:
    found = proctree.tree(root)
    return found if len(found) >= count else None


def test_a_killed_worker_is_detected_and_the_job_resumes_from_its_saved_state(
    control: Control, tmp_path: Path
) -> None:
    scheduler = _machine(control)
    try:
        connection = ticker_connection(control, tmp_path, rows=30, delay=0.08, slow_runs=1)
        job = jobs.create(control, SYSTEM, connection.id, "sync").job
        wait_for(lambda: _saved_position(control, connection.id) >= 4)
        os.kill(_worker_pid(control, job.id), signal.SIGKILL)
        view = finished(control, job.id)
    finally:
        scheduler.stop()
    assert view.job.status == "succeeded", view.job.failure
    lost, retried = view.attempts
    assert lost.status == "failed"
    assert lost.failure is not None
    assert lost.failure["type"] == "WorkerLost"
    assert "killed by signal 9" in lost.failure["message"]
    assert retried.status == "succeeded"
    rows = warehouse_rows(tmp_path)
    assert [i for i, _ in rows] == list(range(1, 31))  # none missing, no key twice
    # The retry read only what the first attempt had not saved: it resumed from the saved state.
    resumed_at = min(i for i, run in rows if run == 1)
    first_run = [i for i, run in rows if run == 0]
    assert first_run == list(range(1, resumed_at))
    assert resumed_at > 4


def test_transient_errors_are_retried_with_back_off_and_config_errors_are_not(
    sqlite_control: Control, tmp_path: Path
) -> None:
    ctx = sqlite_control
    scheduler = _machine(ctx)
    try:
        once = ticker_connection(ctx, tmp_path, name="once", rows=5, fail="transient", fail_after=2)
        always = ticker_connection(ctx, tmp_path, name="always", rows=50, fail="transient", fail_runs=99)
        config = ticker_connection(ctx, tmp_path, name="config", rows=5, fail="config", fail_runs=99)
        ids = [jobs.create(ctx, SYSTEM, c.id, "sync").job.id for c in (once, always, config)]
        recovered, exhausted, refused = (finished(ctx, i) for i in ids)
        # A config error is final at once: no second attempt comes, even after the longest back-off.
        time.sleep(max(FAST.retry.backoff) + 5 * FAST.tick_seconds)
        refused = jobs.get(ctx, SYSTEM, ids[2])
    finally:
        scheduler.stop()
    assert recovered.job.status == "succeeded"
    assert [a.status for a in recovered.attempts] == ["failed", "succeeded"]
    assert recovered.attempts[0].failure is not None
    assert recovered.attempts[0].failure["failure_type"] == "transient_error"
    assert warehouse_rows(tmp_path, "once") == [(1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]

    assert exhausted.job.status == "failed"
    assert [a.status for a in exhausted.attempts] == ["failed"] * 3
    _assert_gaps(exhausted.attempts, FAST.retry.backoff)

    assert refused.job.status == "failed"
    assert len(refused.attempts) == 1
    assert refused.attempts[0].failure is not None
    assert refused.attempts[0].failure["failure_type"] == "config_error"


def _assert_gaps(attempts: list[Attempt], backoff: Sequence[float]) -> None:
    for before, after, wait in zip(attempts, attempts[1:], backoff, strict=False):
        assert before.ended_at is not None
        assert (after.created_at - before.ended_at).total_seconds() >= wait


def test_a_superseded_attempt_that_keeps_running_cannot_save_state(control: Control, tmp_path: Path) -> None:
    ctx = control
    connection = ticker_connection(ctx, tmp_path, rows=60, delay=0.1, slow_runs=1)
    job = jobs.create(ctx, SYSTEM, connection.id, "sync").job  # no executor yet: nothing runs it
    # A worker that never heartbeats: alive and working, but taken for dead once the limit passes.
    zombie = _worker(ctx, job.id, "--heartbeat", "3600")
    try:
        wait_for(lambda: _saved_position(ctx, connection.id) >= 2)
        recorder = _Recorder()
        supervisor = Scheduler(ctx, recorder, FAST)
        wait_for(lambda: supervisor.tick().abandoned, seconds=30, every=0.2)
        position = _saved_position(ctx, connection.id)
        assert zombie.poll() is None, "the superseded worker should still be running"
        zombie.wait(timeout=30)
    finally:
        if zombie.poll() is None:
            zombie.kill()
    # It went on until its next checkpoint, whose save the fence refused; the saved state did not move.
    assert _saved_position(ctx, connection.id) == position
    [attempt] = jobs.get(ctx, SYSTEM, job.id).attempts
    assert attempt.log_path is not None
    assert "was not saved: this attempt is no longer current" in Path(attempt.log_path).read_text()
    assert attempt.failure is not None
    assert attempt.failure["type"] == "WorkerLost"
    # The retry resumes from the last state the zombie was allowed to save.
    scheduler = _machine(ctx)
    try:
        view = finished(ctx, job.id)
    finally:
        scheduler.stop()
    assert view.job.status == "succeeded", view.job.failure
    rows = warehouse_rows(tmp_path)
    assert [i for i, _ in rows] == list(range(1, 61))
    assert min(i for i, run in rows if run == 1) == position + 1


@pytest.mark.slow
def test_a_job_left_running_by_a_dead_server_is_retried_after_a_restart(
    tmp_path: Path, repo_root: Path
) -> None:
    env = {**FAST.to_env(), "FERRY_ADMIN_CLIENT_ID": ADMIN_ID, "FERRY_ADMIN_CLIENT_SECRET": ADMIN_SECRET}
    with control_for("sqlite", tmp_path, repo_root) as ctx:
        connection = ticker_connection(ctx, tmp_path, rows=30, delay=0.1, slow_runs=1)
        server = start_server(ctx.settings.home, env, repo_root)
        try:
            with server.client() as api:
                job_id = ok(api.post("/jobs", json={"connectionId": connection.id, "jobType": "sync"}))[
                    "jobId"
                ]
            wait_for(lambda: _saved_position(ctx, connection.id) >= 3)
            worker = _worker_pid(ctx, job_id)
        finally:
            server.process.kill()  # the server dies, and the machine with it: its worker too
            server.process.wait()
        os.kill(worker, signal.SIGKILL)
        position = _saved_position(ctx, connection.id)
        assert jobs.get(ctx, SYSTEM, job_id).job.status == "running"
        restarted = start_server(ctx.settings.home, env, repo_root)
        try:
            view = finished(ctx, job_id)
        finally:
            stop_server(restarted)
    assert view.job.status == "succeeded", view.job.failure
    lost = view.attempts[0]
    assert lost.failure is not None
    assert lost.failure["type"] == "WorkerLost"
    assert "no heartbeat" in lost.failure["message"]
    rows = warehouse_rows(tmp_path)
    assert [i for i, _ in rows] == list(range(1, 31))
    assert min(i for i, run in rows if run == 1) == position + 1


class _Recorder:
    """An executor that only notes what it is given (the scheduler, not a worker, is under test)."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    def cancel(self, job_id: int) -> None:
        pass

    def close(self) -> None:
        pass
