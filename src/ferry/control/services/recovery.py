"""Attempts whose process died, and jobs no executor is running: found in the store, failed or picked up.

An attempt is lost when its worker process exited without closing it, or when its heartbeat is older
than the limit (the worker, its machine or its server died). Losing it is a system failure: the
attempt is failed, the connection's fence is raised (so that a worker that is only slow, not dead,
can no longer save state), and the job is retried while the retry policy allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from ferry.control.services.context import Control
from ferry.control.services.retries import RetryPolicy
from ferry.control.store.models import ACTIVE_JOB_STATUSES, Attempt, Connection, Job
from ferry.control.store.types import utc_now
from ferry.protocol import FailureType


@dataclass(frozen=True, slots=True)
class ActiveJob:
    """A job that is pending, running or waiting for a retry, with what its attempts say."""

    job_id: int
    status: str
    created_at: datetime
    attempts: int
    running_attempt: int | None
    heartbeat_at: datetime | None
    last_ended_at: datetime | None


def active_jobs(ctx: Control) -> list[ActiveJob]:
    """Every active job (few: at most one per connection), read in one transaction."""
    with ctx.store.read() as session:
        jobs = list(session.execute(select(Job.id, Job.status, Job.created_at).where(_active())))
        if not jobs:
            return []
        ids = [row.id for row in jobs]
        history: dict[int, tuple[int, datetime | None]] = {
            job_id: (int(count), last_ended)
            for job_id, count, last_ended in session.execute(
                select(Attempt.job_id, func.count(), func.max(Attempt.ended_at))
                .where(Attempt.job_id.in_(ids))
                .group_by(Attempt.job_id)
            )
        }
        running = {
            row.job_id: (row.id, row.heartbeat_at)
            for row in session.execute(
                select(Attempt.job_id, Attempt.id, Attempt.heartbeat_at).where(
                    Attempt.job_id.in_(ids), Attempt.status == "running"
                )
            )
        }
    return [
        ActiveJob(
            job_id=row.id,
            status=row.status,
            created_at=row.created_at,
            attempts=history.get(row.id, (0, None))[0],
            running_attempt=running.get(row.id, (None, None))[0],
            heartbeat_at=running.get(row.id, (None, None))[1],
            last_ended_at=history.get(row.id, (0, None))[1],
        )
        for row in jobs
    ]


def _active() -> Any:
    # Spelled like the partial unique index's predicate, so both databases can answer from the index.
    return Job.status.in_(ACTIVE_JOB_STATUSES)


def retry_due(job: ActiveJob, policy: RetryPolicy, now: datetime) -> bool:
    """An incomplete job whose back-off has passed."""
    if job.status != "incomplete" or job.running_attempt is not None:
        return False
    ended = job.last_ended_at or job.created_at
    return now >= ended + timedelta(seconds=policy.delay(job.attempts))


def abandon(
    ctx: Control,
    attempt_id: int,
    reason: str,
    policy: RetryPolicy,
    *,
    silent_since: datetime | None = None,
) -> str | None:
    """Fails a running attempt whose process is gone; returns the job's status, or None if the attempt
    was no longer running (or, with `silent_since`, has heartbeaten since)."""
    now = utc_now()
    with ctx.store.write() as session:
        attempt = session.get(Attempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.status != "running":
            return None
        beat = attempt.heartbeat_at
        if silent_since is not None and beat is not None and beat > silent_since:
            return None  # it beat again since it was read as silent
        failure = {"type": "WorkerLost", "failure_type": FailureType.system_error.value, "message": reason}
        attempt.status, attempt.ended_at, attempt.updated_at, attempt.failure = "failed", now, now, failure
        job = session.get(Job, attempt.job_id, with_for_update=True)
        assert job is not None
        fence = session.scalar(select(Connection.fence).where(Connection.id == job.connection_id))
        if job.status != "running" or fence != attempt.fence:
            return job.status  # a newer attempt, or a cancel, already took over
        session.execute(
            update(Connection).where(Connection.id == job.connection_id).values(fence=Connection.fence + 1)
        )
        retry = policy.allows_another(attempt.number)
        job.status = "incomplete" if retry else "failed"
        job.failure, job.updated_at = failure, now
        if not retry:
            job.ended_at = now
        return job.status


def abandon_worker(ctx: Control, job_id: int, worker: str, reason: str, policy: RetryPolicy) -> str | None:
    """Fails the attempt of `job_id` that `worker` left running when it exited; the job's status, or
    None when the worker had closed its attempt (or never started one)."""
    with ctx.store.read() as session:
        attempt_id = session.scalar(
            select(Attempt.id).where(
                Attempt.job_id == job_id, Attempt.worker == worker, Attempt.status == "running"
            )
        )
    return None if attempt_id is None else abandon(ctx, attempt_id, reason, policy)
