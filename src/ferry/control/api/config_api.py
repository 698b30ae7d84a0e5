"""The older config API (`/api/v1/...`, RPC over POST) for the calls tools still make, in Airbyte's shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from ferry.control.api import config_views as cv
from ferry.control.api.deps import Caller, Ctx
from ferry.control.api.public.health import store_ok
from ferry.control.errors import InvalidInputError
from ferry.control.services import actors, catalogs, connections, jobs, logs, state, workspaces
from ferry.control.services.connections import Schedule, Settings
from ferry.control.services.jobs import JobFilter
from ferry.control.services.paging import Page

router = APIRouter(prefix="/api/v1", tags=["Config API"])
Json = dict[str, Any]
JsonBody = Body(default_factory=dict)
ALL = Page(10_000, 0)


def _str(body: Json, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > 256:
        raise InvalidInputError(f"{key} is required and must be a non-empty string", field=key)
    return value


def _obj(body: Json, key: str) -> Json:
    value = body.get(key)
    if not isinstance(value, dict):
        raise InvalidInputError(f"{key} is required and must be an object", field=key)
    return value


@router.get("/health")
def health(ctx: Ctx) -> JSONResponse:
    ok = store_ok(ctx)
    return JSONResponse({"available": ok}, status_code=200 if ok else 503)


@router.post("/workspaces/get")
def workspace_get(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    return cv.workspace(workspaces.get(ctx, who, _str(body, "workspaceId")))


@router.post("/sources/create")
def source_create(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    view = actors.create(
        ctx,
        who,
        "source",
        workspace_id=_str(body, "workspaceId"),
        name=_str(body, "name"),
        configuration=_obj(body, "connectionConfiguration"),
        definition_id=_str(body, "sourceDefinitionId"),
    )
    return cv.actor(view)


@router.post("/sources/get")
def source_get(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    return cv.actor(actors.get(ctx, who, "source", _str(body, "sourceId")))


@router.post("/sources/list")
def source_list(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    found = actors.list_(
        ctx, who, "source", workspace_ids=[_str(body, "workspaceId")], include_deleted=False, page=ALL
    )
    return {"sources": [cv.actor(v) for v in found]}


@router.post("/sources/discover_schema")
def source_discover(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    catalog = catalogs.discover(ctx, who, _str(body, "sourceId"), use_cache=not body.get("disable_cache"))
    return {
        "catalog": cv.catalog(catalog),
        "catalogId": None,
        "jobInfo": cv.succeeded_job_info("discover_schema"),
    }


@router.post("/destinations/create")
def destination_create(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    view = actors.create(
        ctx,
        who,
        "destination",
        workspace_id=_str(body, "workspaceId"),
        name=_str(body, "name"),
        configuration=_obj(body, "connectionConfiguration"),
        definition_id=_str(body, "destinationDefinitionId"),
    )
    return cv.actor(view)


@router.post("/destinations/get")
def destination_get(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    return cv.actor(actors.get(ctx, who, "destination", _str(body, "destinationId")))


@router.post("/destinations/list")
def destination_list(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    found = actors.list_(
        ctx, who, "destination", workspace_ids=[_str(body, "workspaceId")], include_deleted=False, page=ALL
    )
    return {"destinations": [cv.actor(v) for v in found]}


@router.post("/connections/create")
def connection_create(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    settings = _connection_settings(body)
    row = connections.create(ctx, who, _str(body, "sourceId"), _str(body, "destinationId"), settings)
    return cv.connection(row)


def _connection_settings(body: Json) -> Settings:
    namespace = {"customformat": "custom_format"}.get(
        body.get("namespaceDefinition") or "", body.get("namespaceDefinition")
    )
    preference = {"disable": "disable_connection"}.get(
        body.get("nonBreakingChangesPreference") or "", body.get("nonBreakingChangesPreference")
    )
    return Settings(
        name=body.get("name"),
        streams=cv.stream_configs(body.get("syncCatalog")),
        schedule=_schedule(body),
        namespace_definition=namespace,
        namespace_format=body.get("namespaceFormat"),
        prefix=body.get("prefix"),
        non_breaking_changes=preference,
        status=body.get("status") or "active",
    )


def _schedule(body: Json) -> Schedule | None:
    kind = body.get("scheduleType")
    data = body.get("scheduleData") or {}
    if kind is None:
        return None
    if kind == "cron":
        cron = data.get("cron") or {}
        return Schedule("cron", cron.get("cronExpression"), cron.get("cronTimeZone"))
    if kind == "basic":
        basic = data.get("basicSchedule") or {}
        units = basic.get("units")
        return Schedule(
            "basic", units=units if isinstance(units, int) else 0, time_unit=basic.get("timeUnit")
        )
    return Schedule(str(kind))


@router.post("/connections/get")
def connection_get(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    return cv.connection(connections.get(ctx, who, _str(body, "connectionId")))


@router.post("/connections/list")
def connection_list(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    rows = connections.list_(ctx, who, [_str(body, "workspaceId")], False, Page(10_000, 0))
    return {"connections": [cv.connection(r) for r in rows]}


@router.post("/connections/sync")
def connection_sync(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    return cv.job_info(jobs.create(ctx, who, _str(body, "connectionId"), "sync"))


@router.post("/connections/reset")
def connection_reset(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    return cv.job_info(jobs.create(ctx, who, _str(body, "connectionId"), "clear"))


@router.post("/jobs/get")
def job_get(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    view = jobs.get(ctx, who, _job_id(body))
    return cv.job_info(view, logs.tails(ctx, view))


@router.post("/jobs/cancel")
def job_cancel(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    return cv.job_info(jobs.cancel(ctx, who, _job_id(body)))


def _job_id(body: Json) -> int:
    value = body.get("id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InvalidInputError("id is required and must be a job id (an integer)", field="id")
    return value


@router.post("/jobs/list")
def job_list(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    types = body.get("configTypes")
    if not isinstance(types, list) or not types:
        raise InvalidInputError('configTypes is required, e.g. ["sync"]', field="configTypes")
    paging = body.get("pagination") or {}
    size, offset = paging.get("pageSize", 200), paging.get("rowOffset", 0)
    if (
        not isinstance(size, int)
        or not isinstance(offset, int)
        or not 1 <= size <= 1000
        or not 0 <= offset < 2**31
    ):
        raise InvalidInputError("pagination.pageSize must be 1-1000 and rowOffset >= 0", field="pagination")
    field = {"createdAt": "createdAt", "updatedAt": "updatedAt"}.get(
        body.get("orderByField") or "createdAt", ""
    )
    order = f"{field}|{body.get('orderByMethod') or 'DESC'}"
    config_id = body.get("configId")
    filters = JobFilter(connection_id=config_id if isinstance(config_id, str) else None, order_by=order)
    found = [
        v
        for v in jobs.list_(ctx, who, filters, Page(size, offset))
        if cv.config_type(v.job.job_type) in types
    ]
    return {"jobs": [cv.job_with_attempts(v) for v in found], "totalJobCount": len(found)}


@router.post("/state/get")
def state_get(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    connection_id = _str(body, "connectionId")
    return state.to_airbyte(connection_id, state.get(ctx, who, connection_id))


@router.post("/state/create_or_update")
def state_update(ctx: Ctx, who: Caller, body: Json = JsonBody) -> Json:
    connection_id = _str(body, "connectionId")
    current = state.get(ctx, who, connection_id)
    raw = state.from_airbyte(_obj(body, "connectionState"), current)
    return state.to_airbyte(connection_id, state.replace(ctx, who, connection_id, raw))
