"""Creating the jobs of scheduled connections whose time has come: once per due time, whoever asks.

Each due connection is handled in its own write transaction that first moves `next_run_at` on with a
compare-and-set (`WHERE next_run_at = <the due time read>`): of two schedulers that read the same due
time, only one moves it, and only that one creates the job. The store's unique
(connection_id, scheduled_for) constraint backs this up. A run that comes due while the connection
still has an active job is skipped, as Airbyte does; runs missed while no scheduler ran collapse
into one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from ferry.control.schedule import Cron, basic_interval, parse_cron
from ferry.control.services import connections
from ferry.control.services.context import Control
from ferry.control.store.models import ACTIVE_JOB_STATUSES, Connection, Job
from ferry.errors import FerryError

log = logging.getLogger("ferry.control.scheduler")
BATCH = 500
MAX_ROUNDS = 40
"""Batches per call: 20,000 connections due at once is far more than one pass should take on."""


def create_due_jobs(ctx: Control, now: datetime) -> list[int]:
    """Creates a sync job for every active connection due at `now`; returns the new job ids."""
    created: list[int] = []
    for _ in range(MAX_ROUNDS):
        due = connections.due(ctx, now, BATCH)
        for row in due:
            assert row.next_run_at is not None
            job_id = _fire(ctx, row.id, row.next_run_at, now)
            if job_id is not None:
                created.append(job_id)
        if len(due) < BATCH:
            break
    return created


def next_run(row: Connection, due: datetime, now: datetime) -> datetime | None:
    """The first run time after `now` of the connection's schedule (None: manual, or no more runs)."""
    if row.schedule_type == "cron" and row.cron_expression:
        return _cron(row.cron_expression, row.cron_time_zone).next_after(max(now, due))
    if row.schedule_type == "basic" and row.basic_units and row.basic_time_unit:
        period = basic_interval(row.basic_units, row.basic_time_unit)
        missed = max(int((now - due) / period), 0)
        return due + period * (missed + 1)
    return None


@lru_cache(maxsize=4096)
def _cron(expression: str, time_zone: str | None) -> Cron:
    return parse_cron(expression, time_zone)


def _fire(ctx: Control, connection_id: str, due: datetime, now: datetime) -> int | None:
    with ctx.store.write() as session:
        row = session.get(Connection, connection_id)
        if row is None or row.next_run_at != due:
            return None  # another scheduler got here first
        try:
            following = next_run(row, due, now)
        except FerryError as exc:
            log.error("connection %s: its schedule cannot be computed (%s); it is not scheduled", row.id, exc)
            following = None
        moved = session.execute(
            update(Connection)
            .where(Connection.id == connection_id, Connection.next_run_at == due)
            .values(next_run_at=following, updated_at=Connection.updated_at)
            .execution_options(synchronize_session=False)
        )
        if cast("CursorResult[Any]", moved).rowcount != 1:
            return None
        if session.scalar(
            select(Job.id).where(Job.connection_id == connection_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        ):
            log.info("connection %s is still running; its run due at %s is skipped", connection_id, due)
            return None
        job = Job(
            connection_id=connection_id, workspace_id=row.workspace_id, job_type="sync", scheduled_for=due
        )
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            return None  # a job for this due time, or an active one, exists after all
        return job.id
