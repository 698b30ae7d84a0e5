"""What the pages show about jobs: a connection's recent activity, durations, and why a job failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from ferry.control.services import jobs
from ferry.control.services.context import Control, Principal
from ferry.control.services.jobs import JobFilter, JobView
from ferry.control.services.paging import Page
from ferry.control.store.models import ACTIVE_JOB_STATUSES, Attempt, StreamStats
from ferry.web import logs
from ferry.web.chart import Point, sync_chart

HISTORY = 30
CHART_POINTS = 30
REASONS = {
    "config_error": (
        "Configuration error",
        "A setting of the source, the destination or the connection is wrong: fix it and sync again.",
    ),
    "transient_error": (
        "Temporary failure",
        "Something outside Ferry failed for now (network, a busy server); another attempt may succeed.",
    ),
    "system_error": (
        "System error",
        "Ferry or a connector failed unexpectedly; the log has the details.",
    ),
}


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str
    advice: str
    message: str
    hint: str | None
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Activity:
    """A connection's recent jobs, newest first, and the chart of its finished syncs."""

    history: list[JobView]
    chart: Markup
    failure: Failure | None = None
    """Why the last finished job failed, when it did (without log lines: the job page has those)."""

    @property
    def active(self) -> JobView | None:
        return next((v for v in self.history if v.job.status in ACTIVE_JOB_STATUSES), None)

    @property
    def last(self) -> JobView | None:
        return next((v for v in self.history if v.job.status not in ACTIVE_JOB_STATUSES), None)


def activity(ctx: Control, who: Principal, connection_id: str, limit: int = HISTORY) -> Activity:
    filters = JobFilter(connection_id=connection_id, order_by="createdAt|DESC")
    history = jobs.list_(ctx, who, filters, Page(limit, 0))
    finished = [v for v in history if v.job.job_type == "sync" and v.job.status in ("succeeded", "failed")]
    points = [
        Point(f"Job {v.job.id}", v.totals.records_committed, seconds(v) or 0.0, v.job.status)
        for v in reversed(finished[:CHART_POINTS])
    ]
    done = next((v for v in history if v.job.status not in ACTIVE_JOB_STATUSES), None)
    return Activity(history, sync_chart(points), failure(ctx, who, done, lines=False) if done else None)


def last_jobs(ctx: Control, who: Principal, connection_ids: Sequence[str]) -> dict[str, JobView]:
    """The newest job of each connection (for the list page: one small query per shown connection)."""
    out = {}
    for connection_id in connection_ids:
        found = jobs.list_(
            ctx, who, JobFilter(connection_id=connection_id, order_by="createdAt|DESC"), Page(1, 0)
        )
        if found:
            out[connection_id] = found[0]
    return out


def seconds(view: JobView, now: datetime | None = None) -> float | None:
    job = view.job
    if job.started_at is None:
        return None
    end = job.ended_at or (now or datetime.now(UTC))
    return max((end - job.started_at).total_seconds(), 0.0)


def latest_attempt(view: JobView) -> Attempt | None:
    return view.attempts[-1] if view.attempts else None


def attempt_streams(view: JobView, attempt: Attempt | None) -> list[StreamStats]:
    if attempt is None:
        return []
    rows = [s for s in view.streams if s.attempt_id == attempt.id]
    return sorted(rows, key=lambda s: (s.stream_namespace, s.stream_name))


def failure(ctx: Control, who: Principal, view: JobView, *, lines: bool = True) -> Failure | None:
    """Why a failed job failed: its classified reason, message, and the first error lines of its log."""
    if view.job.status != "failed":
        return None
    raw: dict[str, Any] = view.job.failure or {}
    if not raw:
        last = latest_attempt(view)
        raw = (last.failure if last else None) or {}
    reason, advice = REASONS.get(str(raw.get("failure_type")), REASONS["system_error"])
    attempt = latest_attempt(view)
    found = logs.Log(ctx, who, view.job.id, attempt.number).first_errors() if attempt and lines else []
    return Failure(reason, advice, str(raw.get("message") or "The job failed."), raw.get("hint"), found)
