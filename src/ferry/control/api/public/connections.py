"""/connections: create (streams checked against the source's catalog), list, get, patch, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ferry.control.api import models as m
from ferry.control.api.deps import (
    Caller,
    ConnectionIdPath,
    Ctx,
    IdsQuery,
    IncludeDeleted,
    Paging,
    id_list,
    page_links,
)
from ferry.control.api.public import views
from ferry.control.services import connections
from ferry.control.services.connections import Schedule, Settings

router = APIRouter(tags=["Connections"])


def _settings(body: m.ConnectionCreateRequest | m.ConnectionPatchRequest) -> Settings:
    streams: list[dict[str, Any]] | None = None
    if body.configurations is not None and body.configurations.streams is not None:
        streams = [s.model_dump(by_alias=True, exclude_none=True) for s in body.configurations.streams]
    schedule = None
    if body.schedule is not None:
        schedule = Schedule(type=body.schedule.schedule_type, cron_expression=body.schedule.cron_expression)
    return Settings(
        name=body.name,
        streams=streams,
        schedule=schedule,
        namespace_definition=body.namespace_definition,
        namespace_format=body.namespace_format,
        prefix=body.prefix,
        non_breaking_changes=body.non_breaking_schema_updates_behavior,
        status=body.status,
    )


@router.post("/connections", response_model=m.ConnectionResponse, operation_id="createConnection")
def create_connection(body: m.ConnectionCreateRequest, ctx: Ctx, who: Caller) -> m.ConnectionResponse:
    return views.connection(
        connections.create(ctx, who, body.source_id, body.destination_id, _settings(body))
    )


@router.get("/connections", response_model=m.ConnectionsResponse, operation_id="listConnections")
def list_connections(
    *,
    request: Request,
    ctx: Ctx,
    who: Caller,
    page: Paging,
    workspace_ids: IdsQuery = None,
    include_deleted: IncludeDeleted = False,
) -> m.ConnectionsResponse:
    rows = connections.list_(ctx, who, id_list(workspace_ids, "workspaceIds"), include_deleted, page)
    following, preceding = page_links(request, page, len(rows))
    return m.ConnectionsResponse(data=[views.connection(r) for r in rows], next=following, previous=preceding)


@router.get("/connections/{connectionId}", response_model=m.ConnectionResponse, operation_id="getConnection")
def get_connection(connection_id: ConnectionIdPath, ctx: Ctx, who: Caller) -> m.ConnectionResponse:
    return views.connection(connections.get(ctx, who, connection_id))


@router.patch(
    "/connections/{connectionId}", response_model=m.ConnectionResponse, operation_id="patchConnection"
)
def patch_connection(
    connection_id: ConnectionIdPath, body: m.ConnectionPatchRequest, ctx: Ctx, who: Caller
) -> m.ConnectionResponse:
    return views.connection(connections.update(ctx, who, connection_id, _settings(body)))


@router.delete(
    "/connections/{connectionId}", status_code=204, response_class=Response, operation_id="deleteConnection"
)
def delete_connection(connection_id: ConnectionIdPath, ctx: Ctx, who: Caller) -> Response:
    connections.delete(ctx, who, connection_id)
    return Response(status_code=204)
