"""The job page: status, per-stream stats, why it failed, and its log (search, live tail, download)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from markupsafe import Markup, escape

from ferry.control.errors import NotFoundError
from ferry.control.services import connections, jobs
from ferry.control.services.jobs import JobView
from ferry.control.store.models import ACTIVE_JOB_STATUSES, Attempt, Connection
from ferry.errors import FerryError
from ferry.web import history, logs, render
from ferry.web.routing import PageRoute, status_of
from ferry.web.session import PostedForm, Viewer, ViewerDep

router = APIRouter(route_class=PageRoute)
JobId = Annotated[int, Path(ge=0, le=2**63 - 1)]
AttemptQuery = Annotated[int | None, Query(ge=0, le=10_000)]
SearchQuery = Annotated[str, Query(max_length=200)]


def highlight(line: str, query: str) -> Markup:
    """The line with each match of `query` (any case) marked."""
    if not query:
        return Markup(escape(line))
    parts = re.split(f"({re.escape(query)})", line, flags=re.IGNORECASE)
    return Markup("").join(
        Markup("<mark>{}</mark>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


def _attempt(view: JobView, number: int | None) -> Attempt | None:
    if number is None:
        return history.latest_attempt(view)
    found = next((a for a in view.attempts if a.number == number), None)
    if found is None:
        raise NotFoundError("attempt", number)
    return found


def _connection(viewer: Viewer, view: JobView) -> Connection | None:
    try:
        return connections.get(viewer.ctx, viewer.who, view.job.connection_id)
    except NotFoundError:
        return None  # deleted since: the job's history stays readable


@router.get("/jobs/{job_id}")
def job_page(
    request: Request, viewer: ViewerDep, job_id: JobId, attempt: AttemptQuery = None, q: SearchQuery = ""
) -> Response:
    view = jobs.get(viewer.ctx, viewer.who, job_id)
    return _job(request, viewer, view, chosen=_attempt(view, attempt), q=q)


def _job(
    request: Request,
    viewer: Viewer,
    view: JobView,
    *,
    chosen: Attempt | None,
    q: str = "",
    error: FerryError | None = None,
) -> Response:
    return render.page(
        request,
        "job.html",
        viewer,
        status_of(error) if error else 200,
        section="connections",
        view=view,
        connection=_connection(viewer, view),
        streams=history.attempt_streams(view, chosen),
        seconds=history.seconds(view),
        failure=history.failure(viewer.ctx, viewer.who, view),
        error=error,
        **_log_view(viewer, view, chosen, q),
    )


def _log_view(viewer: Viewer, view: JobView, chosen: Attempt | None, q: str) -> dict[str, Any]:
    """What the log part of the page shows: the tail (live while the attempt runs) or search results."""
    log = logs.Log(viewer.ctx, viewer.who, view.job.id, chosen.number) if chosen else None
    return {
        "attempt": chosen,
        "live": view.job.status in ACTIVE_JOB_STATUSES and chosen is history.latest_attempt(view),
        "chunk": log.tail() if log and not q else logs.Chunk(),
        "q": q,
        "matches": log.search(q) if log and q else [],
        "highlight": highlight,
    }


@router.get("/jobs/{job_id}/log")
def log_fragment(
    request: Request, viewer: ViewerDep, job_id: JobId, attempt: AttemptQuery = None, q: SearchQuery = ""
) -> Response:
    """The log part of the job page: the tail, or the lines matching a search."""
    view = jobs.get(viewer.ctx, viewer.who, job_id)
    return render.page(
        request, "job_log.html", viewer, view=view, **_log_view(viewer, view, _attempt(view, attempt), q)
    )


@router.get("/jobs/{job_id}/live")
def live_fragment(
    request: Request,
    viewer: ViewerDep,
    job_id: JobId,
    attempt: Annotated[int, Query(ge=-1, le=10_000, description="-1: the page showed no attempt yet")],
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """Polled while a job runs: new log lines and fresh stats; a whole-page refresh once the job moves on
    (it ended, or another attempt started)."""
    view = jobs.get(viewer.ctx, viewer.who, job_id)
    latest = history.latest_attempt(view)
    if view.job.status not in ACTIVE_JOB_STATUSES or (latest.number if latest else -1) != attempt:
        return HTMLResponse("", headers={"HX-Refresh": "true"})
    return render.page(
        request,
        "job_live.html",
        viewer,
        view=view,
        attempt=latest,
        chunk=logs.Log(viewer.ctx, viewer.who, job_id, latest.number).since(offset)
        if latest
        else logs.Chunk(),
        streams=history.attempt_streams(view, latest),
        seconds=history.seconds(view),
    )


@router.get("/jobs/{job_id}/log/download")
def download(viewer: ViewerDep, job_id: JobId, attempt: AttemptQuery = None) -> Response:
    """The attempt's whole log as it is now (secrets masked), as a file."""
    view = jobs.get(viewer.ctx, viewer.who, job_id)
    chosen = _attempt(view, attempt)
    if chosen is None:
        return PlainTextResponse("The job has not started an attempt yet.\n", status_code=404)
    name = f"ferry-job-{job_id}-attempt-{chosen.number + 1}.log"
    return StreamingResponse(
        logs.Log(viewer.ctx, viewer.who, job_id, chosen.number).download(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, viewer: ViewerDep, job_id: JobId, form: PostedForm) -> Response:
    try:
        jobs.cancel(viewer.ctx, viewer.who, job_id)
    except FerryError as exc:
        if status_of(exc) == 404:
            raise
        view = jobs.get(viewer.ctx, viewer.who, job_id)
        return _job(request, viewer, view, chosen=history.latest_attempt(view), error=exc)
    return render.redirect(f"/jobs/{job_id}", request)
