"""The attempt lifecycle that executors drive: start (taking a fencing token), heartbeat, stats, finish.

Everything an attempt needs is in the store, so any worker process (local or remote) can run one
given only the job id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update

from ferry.control.services.context import Control
from ferry.control.store.models import Attempt, Connection, Job, StreamStats
from ferry.control.store.types import utc_now
from ferry.engine.ledger import StreamCounts
from ferry.protocol import StreamDescriptor

RUNNABLE = ("pending", "incomplete")


@dataclass(frozen=True, slots=True)
class Ticket:
    """A started attempt: the fencing token `fence` is what lets it save state."""

    job_id: int
    attempt_id: int
    number: int
    fence: int
    connection_id: str
    job_type: str
    log_path: Path
    started_at: datetime


def start(ctx: Control, job_id: int, worker: str) -> Ticket | None:
    """Starts the next attempt of a pending or retrying job; None when the job is not runnable."""
    now = utc_now()
    with ctx.store.write() as session:
        # Locked (Postgres): two workers handed the same job wait here, and the second sees it running.
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.status not in RUNNABLE:
            return None
        session.execute(
            update(Connection).where(Connection.id == job.connection_id).values(fence=Connection.fence + 1)
        )
        fence = session.scalar(select(Connection.fence).where(Connection.id == job.connection_id))
        number = int(
            session.scalar(select(func.count()).select_from(Attempt).where(Attempt.job_id == job_id)) or 0
        )
        log_path = ctx.settings.logs_dir / str(job_id) / f"attempt-{number}.log"
        attempt = Attempt(
            job_id=job_id,
            number=number,
            fence=int(fence or 0),
            worker=worker,
            heartbeat_at=now,
            log_path=str(log_path),
        )
        session.add(attempt)
        job.status, job.updated_at = "running", now
        job.started_at = job.started_at or now
        session.flush()
        return Ticket(
            job_id, attempt.id, number, attempt.fence, job.connection_id, job.job_type, log_path, now
        )


def is_current(ctx: Control, ticket: Ticket) -> bool:
    """Heartbeat: records that the attempt is alive; False once it was cancelled or replaced."""
    with ctx.store.write() as session:
        session.execute(
            update(Attempt)
            .where(Attempt.id == ticket.attempt_id, Attempt.status == "running")
            .values(heartbeat_at=utc_now())
        )
        job_status = session.scalar(select(Job.status).where(Job.id == ticket.job_id))
        fence = session.scalar(select(Connection.fence).where(Connection.id == ticket.connection_id))
    return job_status == "running" and fence == ticket.fence


def record_stats(
    ctx: Control, ticket: Ticket, counts: Mapping[StreamDescriptor, StreamCounts], seconds: float
) -> None:
    """Replaces the attempt's per-stream stats with the latest counts."""
    with ctx.store.write() as session:
        session.execute(delete(StreamStats).where(StreamStats.attempt_id == ticket.attempt_id))
        for stream, c in counts.items():
            session.add(
                StreamStats(
                    attempt_id=ticket.attempt_id,
                    stream_name=stream.name,
                    stream_namespace=stream.namespace or "",
                    records_emitted=c.emitted,
                    bytes_emitted=c.bytes_emitted,
                    records_committed=c.committed,
                    bytes_committed=c.bytes_committed,
                    duration_ms=int(seconds * 1000),
                )
            )


def finish(
    ctx: Control,
    ticket: Ticket,
    *,
    succeeded: bool,
    failure: dict[str, Any] | None = None,
    retry: bool = False,
) -> str:
    """Closes the attempt and, while it is current, the job: succeeded, failed, or incomplete (to retry).

    Returns the job's status afterwards.
    """
    now = utc_now()
    with ctx.store.write() as session:
        session.execute(
            update(Attempt)
            .where(Attempt.id == ticket.attempt_id, Attempt.status == "running")
            .values(
                status="succeeded" if succeeded else "failed", ended_at=now, updated_at=now, failure=failure
            )
        )
        job = session.get(Job, ticket.job_id)
        fence = session.scalar(select(Connection.fence).where(Connection.id == ticket.connection_id))
        assert job is not None
        if job.status == "running" and fence == ticket.fence:
            job.status = "succeeded" if succeeded else ("incomplete" if retry else "failed")
            job.updated_at = now
            job.failure = failure
            if job.status != "incomplete":
                job.ended_at = now
        return job.status
