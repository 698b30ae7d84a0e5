"""Jobs (sync, reset / clear) as users see them: create, get, list, cancel.

At most one job per connection is pending or running; a unique partial index in the store enforces
it for every server at once, so a second request gets 409 even when both arrive together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ferry.control.errors import ConflictError, InvalidInputError, NotFoundError, UnprocessableError
from ferry.control.services import connections
from ferry.control.services.context import Control, Principal
from ferry.control.services.paging import Page, fetch
from ferry.control.store.models import ACTIVE_JOB_STATUSES, Attempt, Connection, Job, StreamStats
from ferry.control.store.types import utc_now

JOB_TYPES = ("sync", "reset", "clear", "refresh")
JOB_STATUSES = ("pending", "running", "incomplete", "failed", "succeeded", "cancelled")
TERMINAL = ("failed", "succeeded", "cancelled")
ORDER_FIELDS = {"createdAt": Job.created_at, "updatedAt": Job.updated_at}


@dataclass(frozen=True, slots=True)
class Totals:
    records_emitted: int = 0
    bytes_emitted: int = 0
    records_committed: int = 0
    bytes_committed: int = 0


@dataclass(frozen=True, slots=True)
class JobView:
    job: Job
    attempts: list[Attempt] = field(default_factory=list)
    totals: Totals = Totals()
    streams: list[StreamStats] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class JobFilter:
    connection_id: str | None = None
    workspace_ids: Sequence[str] = ()
    job_type: str | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    order_by: str = "createdAt|ASC"


def create(
    ctx: Control, who: Principal, connection_id: str, job_type: str, scheduled_for: datetime | None = None
) -> JobView:
    """Queues a job and hands it to the executor; 409 while another job of the connection is active."""
    if job_type == "refresh":
        raise UnprocessableError("Refreshes are not supported in the public API", field="jobType")
    if job_type not in JOB_TYPES:
        raise InvalidInputError(f"jobType '{job_type}' is not one of: sync, reset, clear", field="jobType")
    with ctx.store.write() as session:
        connection = connections.load(session, who, connection_id, "runner")
        if connection.status != "active":
            raise InvalidInputError(
                f"connection {connection_id} is {connection.status}; only an active connection runs",
                field="connectionId",
            )
        if session.scalar(
            select(Job.id).where(Job.connection_id == connection_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        ):
            raise _already_running(connection_id)
        job = Job(
            connection_id=connection_id,
            workspace_id=connection.workspace_id,
            job_type="clear" if job_type == "reset" else job_type,
            scheduled_for=scheduled_for,
        )
        session.add(job)
        try:
            session.flush()
        except IntegrityError:
            raise _already_running(connection_id) from None
    ctx.submit(job.id)
    return JobView(job)


def _already_running(connection_id: str) -> ConflictError:
    return ConflictError(
        f"A sync is already running for: {connection_id}", hint="Wait for it to finish, or cancel it."
    )


def load(session: Session, who: Principal, job_id: int, role: str = "reader") -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError("job", job_id)
    who.require(job.workspace_id, role, "job", job_id)
    return job


def get(ctx: Control, who: Principal, job_id: int) -> JobView:
    with ctx.store.read() as session:
        return _view(session, load(session, who, job_id))


def _view(session: Session, job: Job) -> JobView:
    return _views(session, [job])[0]


def _views(session: Session, rows: Sequence[Job]) -> list[JobView]:
    """The jobs with their attempts and stats, in two queries whatever the number of jobs."""
    attempts: dict[int, list[Attempt]] = {job.id: [] for job in rows}
    statement = select(Attempt).where(Attempt.job_id.in_(list(attempts))).order_by(Attempt.number)
    for attempt in session.scalars(statement):
        attempts[attempt.job_id].append(attempt)
    job_of = {a.id: a.job_id for found in attempts.values() for a in found}
    stats: dict[int, list[StreamStats]] = {job.id: [] for job in rows}
    if job_of:
        for stat in session.scalars(select(StreamStats).where(StreamStats.attempt_id.in_(list(job_of)))):
            stats[job_of[stat.attempt_id]].append(stat)
    return [JobView(job, attempts[job.id], _totals(stats[job.id]), stats[job.id]) for job in rows]


def _totals(stats: Sequence[StreamStats]) -> Totals:
    return Totals(
        sum(s.records_emitted for s in stats),
        sum(s.bytes_emitted for s in stats),
        sum(s.records_committed for s in stats),
        sum(s.bytes_committed for s in stats),
    )


def list_(ctx: Control, who: Principal, filters: JobFilter, page: Page) -> list[JobView]:
    statement = select(Job).where(Job.job_type != "check")
    if filters.connection_id:
        statement = statement.where(Job.connection_id == filters.connection_id)
    elif filters.workspace_ids:
        statement = statement.where(Job.workspace_id.in_(filters.workspace_ids))
    if not who.is_admin:
        statement = statement.where(Job.workspace_id.in_(list(who.roles)))
    if filters.job_type:
        statement = statement.where(
            Job.job_type == ("clear" if filters.job_type == "reset" else filters.job_type)
        )
    if filters.status:
        statement = statement.where(Job.status == filters.status)
    for column, low, high in (
        (Job.created_at, filters.created_from, filters.created_to),
        (Job.updated_at, filters.updated_from, filters.updated_to),
    ):
        if low is not None:
            statement = statement.where(column >= low)
        if high is not None:
            statement = statement.where(column <= high)
    statement = statement.order_by(*_order(filters.order_by))
    with ctx.store.read() as session:
        return _views(session, fetch(session, statement, page))


def _order(order_by: str) -> tuple[Any, Any]:
    name, _, direction = order_by.partition("|")
    column = ORDER_FIELDS.get(name)
    if column is None or direction.upper() not in ("ASC", "DESC"):
        raise InvalidInputError(
            f"orderBy '{order_by}' is not valid",
            hint="Use createdAt|ASC, createdAt|DESC, updatedAt|ASC or updatedAt|DESC.",
            field="orderBy",
        )
    if direction.upper() == "DESC":
        return column.desc(), Job.id.desc()
    return column.asc(), Job.id.asc()


def cancel(ctx: Control, who: Principal, job_id: int) -> JobView:
    """Marks the job cancelled and raises the connection's fence, so its attempt can no longer save state."""
    with ctx.store.write() as session:
        job = load(session, who, job_id, "runner")
        if job.status in TERMINAL:
            raise ConflictError(f"job {job_id} has already finished ({job.status})", field="jobId")
        now = utc_now()
        job.status, job.ended_at, job.updated_at = "cancelled", now, now
        session.execute(
            update(Connection).where(Connection.id == job.connection_id).values(fence=Connection.fence + 1)
        )
        session.execute(
            update(Attempt)
            .where(Attempt.job_id == job_id, Attempt.status == "running")
            .values(status="failed", ended_at=now, failure={"message": "cancelled"})
        )
        view = _view(session, job)
    ctx.cancel(job_id)
    return view


def count_active(ctx: Control, connection_id: str) -> int:
    with ctx.store.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.connection_id == connection_id, Job.status.in_(ACTIVE_JOB_STATUSES))
            )
            or 0
        )
