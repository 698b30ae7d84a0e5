"""The scheduler: due jobs created once per due time (even by two schedulers at once, on SQLite and
Postgres), cron schedules in their time zone, basic intervals, skipped runs, and the loop itself.

Passes are driven with an explicit `now`, so due times are exact and nothing waits for the clock,
except in the last test, which runs the loop and a real executor against the wall clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from ferry.control.app import open_control
from ferry.control.execution import ExecutionSettings
from ferry.control.executor_process import ProcessExecutor
from ferry.control.scheduler import Scheduler
from ferry.control.services import connections, jobs
from ferry.control.services.connections import Schedule
from ferry.control.services.connections import Settings as ConnectionSettings
from ferry.control.services.context import SYSTEM, Control
from ferry.control.services.retries import RetryPolicy
from ferry.control.store.models import Connection, Job
from ferry.control.store.types import utc_now
from tests.control.conftest import BACKENDS
from tests.control.jobs_helpers import control_for, finished, ticker_connection, wait_for, warehouse_rows

HOURLY = Schedule("basic", units=1, time_unit="hours")
DUE = datetime(2024, 3, 9, 14, 30, tzinfo=UTC)


class Recorder:
    """An executor that only notes the jobs it is given: the scheduler is what is under test."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    def cancel(self, job_id: int) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(params=BACKENDS)
def control(request: pytest.FixtureRequest, tmp_path: Path, repo_root: Path) -> Iterator[Control]:
    with control_for(request.param, tmp_path, repo_root) as ctx:
        yield ctx


@pytest.fixture
def sqlite_control(tmp_path: Path, repo_root: Path) -> Iterator[Control]:
    with control_for("sqlite", tmp_path, repo_root) as ctx:
        yield ctx


def _due_at(ctx: Control, connection_id: str, moment: datetime | None) -> None:
    with ctx.store.write() as session:
        session.execute(update(Connection).where(Connection.id == connection_id).values(next_run_at=moment))


def _next_run(ctx: Control, connection_id: str) -> datetime | None:
    return connections.get(ctx, SYSTEM, connection_id).next_run_at


def _scheduled_jobs(ctx: Control) -> list[tuple[str, datetime | None]]:
    with ctx.store.read() as session:
        return [(c, s) for c, s in session.execute(select(Job.connection_id, Job.scheduled_for))]


def _finish_all(ctx: Control) -> None:
    with ctx.store.write() as session:
        session.execute(update(Job).where(Job.status == "pending").values(status="succeeded"))


def test_two_schedulers_never_create_a_job_twice_for_one_due_time(control: Control, tmp_path: Path) -> None:
    made = [ticker_connection(control, tmp_path, name=f"c{n}", schedule=HOURLY) for n in range(12)]
    for connection in made:
        _due_at(control, connection.id, DUE)
    # A second server: its own store connection, its own scheduler.
    other = open_control(control.settings)
    try:
        recorders = [Recorder(), Recorder()]
        schedulers = [Scheduler(c, r) for c, r in zip((control, other), recorders, strict=True)]
        for hour in range(3):
            now = DUE + timedelta(hours=hour, seconds=1)
            start = threading.Barrier(2)

            def race(scheduler: Scheduler, when: datetime = now, barrier: threading.Barrier = start) -> None:
                barrier.wait()
                for _ in range(3):
                    scheduler.tick(when)

            threads = [threading.Thread(target=race, args=(s,)) for s in schedulers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            created = _scheduled_jobs(control)
            assert len(created) == len(set(created)) == 12 * (hour + 1)
            this_hour = [c for c, s in created if s == DUE + timedelta(hours=hour)]
            assert sorted(this_hour) == sorted(c.id for c in made)
            _finish_all(control)
        submitted = recorders[0].submitted + recorders[1].submitted
        assert sorted(submitted) == sorted(set(submitted))
        assert len(submitted) == 36
    finally:
        other.store.dispose()


def test_a_due_cron_fires_once_in_its_time_zone(sqlite_control: Control, tmp_path: Path) -> None:
    ctx = sqlite_control
    morning = Schedule("cron", "0 30 9 * * ?", "America/New_York")
    connection = ticker_connection(ctx, tmp_path, schedule=morning)
    assert connection.next_run_at is not None
    assert connection.next_run_at > utc_now()
    _due_at(ctx, connection.id, DUE)  # 09:30 in New York on 9 March 2024 (EST, UTC-5)
    scheduler = Scheduler(ctx, Recorder())
    assert scheduler.tick(DUE - timedelta(seconds=1)).created == []
    fired = scheduler.tick(DUE + timedelta(seconds=2)).created
    assert len(fired) == 1
    assert jobs.get(ctx, SYSTEM, fired[0]).job.scheduled_for == DUE
    # The clocks move on 10 March: 09:30 in New York is then 13:30 UTC.
    assert _next_run(ctx, connection.id) == datetime(2024, 3, 10, 13, 30, tzinfo=UTC)
    assert scheduler.tick(DUE + timedelta(seconds=3)).created == []


def test_a_basic_schedule_runs_missed_times_once(sqlite_control: Control, tmp_path: Path) -> None:
    ctx = sqlite_control
    connection = ticker_connection(ctx, tmp_path, schedule=HOURLY)
    _due_at(ctx, connection.id, DUE)
    scheduler = Scheduler(ctx, Recorder())
    # No scheduler ran for three and a half hours: one job, and the next run on the hourly grid.
    fired = scheduler.tick(DUE + timedelta(hours=3, minutes=30)).created
    assert len(fired) == 1
    assert jobs.get(ctx, SYSTEM, fired[0]).job.scheduled_for == DUE
    assert _next_run(ctx, connection.id) == DUE + timedelta(hours=4)


def test_runs_of_busy_inactive_and_manual_connections_are_not_created(
    sqlite_control: Control, tmp_path: Path
) -> None:
    ctx = sqlite_control
    busy = ticker_connection(ctx, tmp_path, name="busy", schedule=HOURLY)
    idle = ticker_connection(ctx, tmp_path, name="idle", schedule=HOURLY)
    manual = ticker_connection(ctx, tmp_path, name="manual")
    running = jobs.create(ctx, SYSTEM, busy.id, "sync").job
    connections.update(ctx, SYSTEM, idle.id, ConnectionSettings(status="inactive"))
    for connection in (busy, idle):
        _due_at(ctx, connection.id, DUE)
    assert manual.next_run_at is None
    recorder = Recorder()
    Scheduler(ctx, recorder).tick(DUE + timedelta(seconds=1))
    with ctx.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1  # only the busy one's own job
    assert _next_run(ctx, busy.id) == DUE + timedelta(hours=1)  # the due run was skipped, not queued
    assert _next_run(ctx, idle.id) == DUE
    assert recorder.submitted == []
    assert jobs.get(ctx, SYSTEM, running.id).job.status == "pending"


def test_the_loop_starts_a_due_job_on_time_and_it_runs(sqlite_control: Control, tmp_path: Path) -> None:
    ctx = sqlite_control
    settings = ExecutionSettings(
        slots=2, retry=RetryPolicy(2, (0.2,)), heartbeat_seconds=0.5, dead_after_seconds=5, tick_seconds=0.2
    )
    ctx.executor = ProcessExecutor(ctx, settings)
    scheduler = Scheduler(ctx, ctx.executor, settings)
    connection = ticker_connection(ctx, tmp_path, rows=3, schedule=HOURLY)
    due = utc_now() + timedelta(seconds=1)
    _due_at(ctx, connection.id, due)
    scheduler.start()
    try:
        job = wait_for(lambda: _job_of(ctx, connection.id), seconds=30)
        view = finished(ctx, job.id)
    finally:
        scheduler.stop()
    assert job.scheduled_for == due
    assert (job.created_at - due).total_seconds() < 2
    assert view.job.status == "succeeded", view.job.failure
    assert warehouse_rows(tmp_path) == [(1, 0), (2, 0), (3, 0)]


def _job_of(ctx: Control, connection_id: str) -> Job | None:
    with ctx.store.read() as session:
        return session.scalars(select(Job).where(Job.connection_id == connection_id)).first()
