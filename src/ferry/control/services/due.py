"""Creating the jobs of scheduled connections whose time has come: once per due time, whoever asks.

Each due connection's `next_run_at` is moved on with a compare-and-set (`WHERE next_run_at = <the
due time read>`): of two schedulers that read the same due time, only one moves it, and only that one
creates the job. The store's unique (connection_id, scheduled_for) constraint backs this up. A run
that comes due while the connection still has an active job is skipped (the store's one-active-job
index refuses it), as Airbyte does; runs missed while no scheduler ran collapse into one. Connections
are handled in small batches, one write transaction each, and each batch's jobs are handed on as
soon as it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ferry.control.schedule import Cron, basic_interval, parse_cron
from ferry.control.services import connections
from ferry.control.services.context import Control
from ferry.control.store.models import Connection, Job
from ferry.errors import FerryError

log = logging.getLogger("ferry.control.scheduler")
BATCH = 500
CHUNK = 50
"""Connections per write transaction: few commits, yet short locks and early hand-over."""
MAX_ROUNDS = 40
"""Batches per call: 20,000 connections due at once is far more than one pass should take on."""


def create_due_jobs(
    ctx: Control, now: datetime, on_created: Callable[[int], None] | None = None
) -> list[int]:
    """Creates a sync job for every active connection due at `now`; returns the new job ids, each
    also given to `on_created` once its transaction has committed."""
    created: list[int] = []
    for _ in range(MAX_ROUNDS):
        due = connections.due(ctx, now, BATCH)
        for start in range(0, len(due), CHUNK):
            fired = _fire(ctx, due[start : start + CHUNK], now)
            created.extend(fired)
            if on_created is not None:
                for job_id in fired:
                    on_created(job_id)
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


def _fire(ctx: Control, due: Sequence[Connection], now: datetime) -> list[int]:
    """One transaction: move each connection's next run on and, where that worked, create its job."""
    created: list[Job] = []
    with ctx.store.write() as session:
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
    return [job.id for job in created]


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
