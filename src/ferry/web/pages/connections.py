"""Connections: the list (with search), set-up and edit forms, and the connection page with its history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from ferry.control.services import actors, catalogs, connections, jobs
from ferry.control.services.actors import ActorView
from ferry.control.services.jobs import JobView
from ferry.control.services.paging import Page
from ferry.control.store.models import Connection
from ferry.errors import ConfigError, FerryError
from ferry.web import connection_form, render, stream_rows
from ferry.web.history import Activity, activity, last_jobs
from ferry.web.pages.actors import ALL, ID_PATTERN
from ferry.web.routing import PageRoute, status_of
from ferry.web.session import PostedForm, Viewer, ViewerDep, first

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 20
ConnectionId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
OptionalId = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")]


@dataclass(frozen=True, slots=True)
class Listed:
    row: Connection
    source: str
    destination: str
    last: JobView | None


@router.get("/connections")
def list_page(
    request: Request,
    viewer: ViewerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    if viewer.workspace is None:
        return render.page(request, "no_workspace.html", viewer, section="connections")
    ctx, who, workspace_id = viewer.ctx, viewer.who, viewer.workspace.id
    names = {
        v.row.id: v.row.name
        for kind in ("source", "destination")
        for v in actors.list_(ctx, who, kind, workspace_ids=[workspace_id], include_deleted=False, page=ALL)
    }
    shown, more = _listed(viewer, workspace_id, names, q.strip().lower(), page)
    last = last_jobs(ctx, who, [row.id for row in shown])
    items = [
        Listed(row, names.get(row.source_id, "?"), names.get(row.destination_id, "?"), last.get(row.id))
        for row in shown
    ]
    return render.page(
        request,
        "connections.html",
        viewer,
        section="connections",
        items=items,
        q=q,
        page=page,
        more=more,
        schedule_text=connection_form.schedule_text,
    )


def _listed(
    viewer: Viewer, workspace_id: str, names: dict[str, str], needle: str, page: int
) -> tuple[list[Connection], bool]:
    """One page of connections (oldest first), and whether more follow; a search looks at all of them."""
    if not needle:
        rows = connections.list_(
            viewer.ctx, viewer.who, [workspace_id], False, Page(PAGE_SIZE + 1, page * PAGE_SIZE)
        )
        return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    matched = [
        row
        for row in connections.list_(viewer.ctx, viewer.who, [workspace_id], False, ALL)
        if any(
            needle in text.lower()
            for text in (row.name, names.get(row.source_id, ""), names.get(row.destination_id, ""))
        )
    ]
    start = page * PAGE_SIZE
    return matched[start : start + PAGE_SIZE], len(matched) > start + PAGE_SIZE


@router.get("/connections/new")
def new_page(
    request: Request,
    viewer: ViewerDep,
    source: OptionalId = "",
    destination: OptionalId = "",
    refresh: int = 0,
) -> Response:
    if viewer.workspace is None:
        return render.page(request, "no_workspace.html", viewer, section="connections")
    values = connection_form.Values()
    return _setup_form(
        request,
        viewer,
        row=None,
        source_id=source,
        destination_id=destination,
        values=values,
        refresh=bool(refresh),
    )


@router.post("/connections/new")
def create(request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
    source_id, destination_id = first(form, "source"), first(form, "destination")
    values = connection_form.posted_values(form)
    configs: list[dict[str, Any]] | None = None
    try:
        source, _ = _endpoints(viewer, source_id, destination_id)
        catalog = catalogs.catalog_of(viewer.ctx, source)
        configs = stream_rows.parse(catalog, form)
        row = connections.create(
            viewer.ctx, viewer.who, source_id, destination_id, connection_form.settings(values, configs)
        )
    except ConfigError as exc:
        return _setup_form(
            request,
            viewer,
            row=None,
            source_id=source_id,
            destination_id=destination_id,
            values=values,
            error=exc,
            configured=configs,
        )
    return render.redirect(f"/connections/{row.id}", request)


@router.get("/connections/{connection_id}/edit")
def edit_page(request: Request, viewer: ViewerDep, connection_id: ConnectionId, refresh: int = 0) -> Response:
    row = connections.get(viewer.ctx, viewer.who, connection_id)
    values = connection_form.values_of(row)
    return _setup_form(
        request,
        viewer,
        row=row,
        source_id=row.source_id,
        destination_id=row.destination_id,
        values=values,
        configured=row.streams,
        refresh=bool(refresh),
    )


@router.post("/connections/{connection_id}/edit")
def update(request: Request, viewer: ViewerDep, connection_id: ConnectionId, form: PostedForm) -> Response:
    row = connections.get(viewer.ctx, viewer.who, connection_id)
    values = connection_form.posted_values(form)
    configs: list[dict[str, Any]] | None = None
    try:
        source, _ = _endpoints(viewer, row.source_id, row.destination_id)
        configs = stream_rows.parse(catalogs.catalog_of(viewer.ctx, source), form)
        connections.update(viewer.ctx, viewer.who, connection_id, connection_form.settings(values, configs))
    except ConfigError as exc:
        return _setup_form(
            request,
            viewer,
            row=row,
            source_id=row.source_id,
            destination_id=row.destination_id,
            values=values,
            error=exc,
            configured=configs,
        )
    return render.redirect(f"/connections/{connection_id}?saved=1", request)


def _endpoints(viewer: Viewer, source_id: str, destination_id: str) -> tuple[ActorView, ActorView]:
    if not source_id or not destination_id:
        raise ConfigError("choose a source and a destination", field="source")
    return (
        actors.get(viewer.ctx, viewer.who, "source", source_id),
        actors.get(viewer.ctx, viewer.who, "destination", destination_id),
    )


def _setup_form(
    request: Request,
    viewer: Viewer,
    *,
    row: Connection | None,
    source_id: str,
    destination_id: str,
    values: connection_form.Values,
    error: FerryError | None = None,
    configured: list[dict[str, Any]] | None = None,
    refresh: bool = False,
) -> Response:
    ctx, who = viewer.ctx, viewer.who
    workspace_id = row.workspace_id if row else viewer.workspace_id
    choices = {
        kind: actors.list_(
            ctx, who, kind, workspace_ids=[workspace_id or ""], include_deleted=False, page=ALL
        )
        for kind in ("source", "destination")
    }
    rows: list[stream_rows.Row] = []
    problem = error
    if source_id and destination_id and (problem is None or configured is not None):
        try:
            source, destination = _endpoints(viewer, source_id, destination_id)
            catalog = catalogs.catalog_of(ctx, source, use_cache=not refresh)
            rows = stream_rows.rows(catalog, connections.destination_modes(destination), configured)
            if not values.name and row is None:
                values.name = f"{source.row.name} → {destination.row.name}"
        except ConfigError as exc:
            problem = problem or exc
    section = connection_form.section_of(problem.field) if problem else None
    return render.page(
        request,
        "connection_form.html",
        viewer,
        status_of(problem) if problem else 200,
        section="connections",
        connection=row,
        sources=choices["source"],
        destinations=choices["destination"],
        source_id=source_id,
        destination_id=destination_id,
        rows=rows,
        values=values,
        error=problem,
        error_section=section,
        time_units=connection_form.TIME_UNITS,
        schedule_types=connection_form.SCHEDULE_TYPES,
        namespaces=connection_form.NAMESPACES,
    )


@router.get("/connections/{connection_id}")
def connection_page(
    request: Request, viewer: ViewerDep, connection_id: ConnectionId, saved: int = 0
) -> Response:
    return _connection(request, viewer, connection_id, None, saved=bool(saved))


def _connection(
    request: Request, viewer: Viewer, connection_id: str, error: FerryError | None, saved: bool = False
) -> Response:
    row = connections.get(viewer.ctx, viewer.who, connection_id)
    source = actors.get(viewer.ctx, viewer.who, "source", row.source_id)
    destination = actors.get(viewer.ctx, viewer.who, "destination", row.destination_id)
    return render.page(
        request,
        "connection.html",
        viewer,
        status_of(error) if error else 200,
        section="connections",
        connection=row,
        source=source,
        destination=destination,
        activity=activity(viewer.ctx, viewer.who, row.id),
        schedule=connection_form.schedule_text(row),
        mode_labels=stream_rows.MODE_LABELS,
        error=error,
        saved=saved,
    )


@router.get("/connections/{connection_id}/activity")
def activity_fragment(request: Request, viewer: ViewerDep, connection_id: ConnectionId) -> Response:
    row = connections.get(viewer.ctx, viewer.who, connection_id)
    found: Activity = activity(viewer.ctx, viewer.who, row.id)
    return render.page(request, "connection_activity.html", viewer, connection=row, activity=found)


@router.post("/connections/{connection_id}/sync")
def sync_now(request: Request, viewer: ViewerDep, connection_id: ConnectionId, form: PostedForm) -> Response:
    return _start(request, viewer, connection_id, first(form, "job_type", "sync"))


def _start(request: Request, viewer: Viewer, connection_id: str, job_type: str) -> Response:
    try:
        jobs.create(viewer.ctx, viewer.who, connection_id, "clear" if job_type == "clear" else "sync")
    except FerryError as exc:
        if status_of(exc) == 404:
            raise
        return _connection(request, viewer, connection_id, exc)
    return render.redirect(f"/connections/{connection_id}", request)


@router.post("/connections/{connection_id}/delete")
def delete(request: Request, viewer: ViewerDep, connection_id: ConnectionId, form: PostedForm) -> Response:
    try:
        connections.delete(viewer.ctx, viewer.who, connection_id)
    except FerryError as exc:
        if status_of(exc) == 404:
            raise
        return _connection(request, viewer, connection_id, exc)
    return render.redirect("/connections", request)
