"""Creating the jobs of scheduled connections whose time has come: once per due time, whoever asks.

Each due connection's `next_run_at` is moved on with a compare-and-set (`WHERE next_run_at = <the
due time read>`): of two schedulers that read the same due time, only one moves it, and only that one
creates the job. The store's unique (connection_id, scheduled_for) constraint backs this up. A run
that comes due while the connection still has an active job is skipped (the store's one-active-job
index refuses it), as Airbyte does; runs missed while no scheduler ran collapse into one. Connections
are taken in small batches, one write transaction each, and each batch's jobs are handed on as soon
as it commits. On Postgres a batch locks its rows with SKIP LOCKED, so two schedulers split the due
connections between them instead of queueing behind each other's locks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ferry.control.schedule import Cron, basic_interval, parse_cron
from ferry.control.services import connections
from ferry.control.services.context import Control
from ferry.control.store.models import Connection, Job
from ferry.errors import FerryError

log = logging.getLogger("ferry.control.scheduler")
CHUNK = 50
"""Connections per write transaction: few commits, yet short locks and early hand-over."""
MAX_ROUNDS = 400
"""Batches per call: 20,000 connections due at once is far more than one pass should take on."""


def create_due_jobs(
    ctx: Control, now: datetime, on_created: Callable[[int], None] | None = None
) -> list[int]:
    """Creates a sync job for every active connection due at `now`; returns the new job ids, each
    also given to `on_created` once its transaction has committed."""
    created: list[int] = []
    # A read first: most passes find nothing due, and need not take SQLite's write lock to say so.
    if not connections.due(ctx, now, limit=1):
        return created
    for _ in range(MAX_ROUNDS):
        taken, fired = _fire(ctx, now)
        created.extend(fired)
        if on_created is not None:
            for job_id in fired:
                on_created(job_id)
        if taken < CHUNK:
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


def _fire(ctx: Control, now: datetime) -> tuple[int, list[int]]:
    """One transaction: take a batch of due connections, move each one's next run on and, where that
    worked, create its job. Returns how many connections it took, and the new job ids."""
    created: list[Job] = []
    with ctx.store.write() as session:
        due = list(
            session.scalars(
                select(Connection)
                .where(
                    Connection.deleted_at.is_(None),
                    Connection.status == "active",
                    Connection.next_run_at <= now,
                )
                .order_by(Connection.next_run_at, Connection.id)
                .limit(CHUNK)
                .with_for_update(skip_locked=True)
            )
        )
        for row in due:
            assert row.next_run_at is not None
            if _move_on(session, row, now):
                job = Job(
                    connection_id=row.id,
                    workspace_id=row.workspace_id,
                    job_type="sync",
                    scheduled_for=row.next_run_at,
                )
                try:
                    with session.begin_nested():
                        session.add(job)
                except IntegrityError:
                    log.info(
                        "connection %s is still running; its run due at %s is skipped",
                        row.id,
                        row.next_run_at,
                    )
                    continue
                created.append(job)
    return len(due), [job.id for job in created]


def _move_on(session: Session, row: Connection, now: datetime) -> bool:
    """Compare-and-set of the connection's next run; False when another scheduler moved it first."""
    due = row.next_run_at
    assert due is not None
    try:
        following = next_run(row, due, now)
    except FerryError as exc:
        log.error("connection %s: its schedule cannot be computed (%s); it is not scheduled", row.id, exc)
        following = None
    moved = session.execute(
        update(Connection)
        .where(Connection.id == row.id, Connection.next_run_at == due)
        .values(next_run_at=following, updated_at=Connection.updated_at)
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", moved).rowcount == 1
