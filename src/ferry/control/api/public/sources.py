"""/sources and /destinations: the same operations on both kinds of actor."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ferry.control.api import models as m
from ferry.control.api.deps import (
    Caller,
    Ctx,
    DestinationIdPath,
    IdsQuery,
    IncludeDeleted,
    Paging,
    SourceIdPath,
    id_list,
    page_links,
)
from ferry.control.api.public import views
from ferry.control.services import actors

router = APIRouter()


@router.post("/sources", response_model=m.SourceResponse, operation_id="createSource", tags=["Sources"])
def create_source(body: m.SourceCreateRequest, ctx: Ctx, who: Caller) -> m.SourceResponse:
    view = actors.create(
        ctx,
        who,
        "source",
        workspace_id=body.workspace_id,
        name=body.name,
        configuration=body.configuration,
        definition_id=body.definition_id,
    )
    return views.source(view)


@router.get("/sources", response_model=m.SourcesResponse, operation_id="listSources", tags=["Sources"])
def list_sources(
    *,
    request: Request,
    ctx: Ctx,
    who: Caller,
    page: Paging,
    workspace_ids: IdsQuery = None,
    include_deleted: IncludeDeleted = False,
) -> m.SourcesResponse:
    ids = id_list(workspace_ids, "workspaceIds")
    found = actors.list_(ctx, who, "source", workspace_ids=ids, include_deleted=include_deleted, page=page)
    following, preceding = page_links(request, page, len(found))
    return m.SourcesResponse(data=[views.source(v) for v in found], next=following, previous=preceding)


@router.get(
    "/sources/{sourceId}", response_model=m.SourceResponse, operation_id="getSource", tags=["Sources"]
)
def get_source(source_id: SourceIdPath, ctx: Ctx, who: Caller) -> m.SourceResponse:
    return views.source(actors.get(ctx, who, "source", source_id))


@router.patch(
    "/sources/{sourceId}", response_model=m.SourceResponse, operation_id="patchSource", tags=["Sources"]
)
def patch_source(
    source_id: SourceIdPath, body: m.SourcePatchRequest, ctx: Ctx, who: Caller
) -> m.SourceResponse:
    return views.source(
        actors.update(ctx, who, "source", source_id, name=body.name, configuration=body.configuration)
    )


@router.put(
    "/sources/{sourceId}", response_model=m.SourceResponse, operation_id="putSource", tags=["Sources"]
)
def put_source(source_id: SourceIdPath, body: m.SourcePutRequest, ctx: Ctx, who: Caller) -> m.SourceResponse:
    view = actors.update(
        ctx, who, "source", source_id, name=body.name, configuration=body.configuration, replace=True
    )
    return views.source(view)


@router.delete(
    "/sources/{sourceId}",
    status_code=204,
    response_class=Response,
    operation_id="deleteSource",
    tags=["Sources"],
)
def delete_source(source_id: SourceIdPath, ctx: Ctx, who: Caller) -> Response:
    actors.delete(ctx, who, "source", source_id)
    return Response(status_code=204)


@router.post(
    "/destinations",
    response_model=m.DestinationResponse,
    operation_id="createDestination",
    tags=["Destinations"],
)
def create_destination(body: m.DestinationCreateRequest, ctx: Ctx, who: Caller) -> m.DestinationResponse:
    view = actors.create(
        ctx,
        who,
        "destination",
        workspace_id=body.workspace_id,
        name=body.name,
        configuration=body.configuration,
        definition_id=body.definition_id,
    )
    return views.destination(view)


@router.get(
    "/destinations",
    response_model=m.DestinationsResponse,
    operation_id="listDestinations",
    tags=["Destinations"],
)
def list_destinations(
    *,
    request: Request,
    ctx: Ctx,
    who: Caller,
    page: Paging,
    workspace_ids: IdsQuery = None,
    include_deleted: IncludeDeleted = False,
) -> m.DestinationsResponse:
    ids = id_list(workspace_ids, "workspaceIds")
    found = actors.list_(
        ctx, who, "destination", workspace_ids=ids, include_deleted=include_deleted, page=page
    )
    following, preceding = page_links(request, page, len(found))
    return m.DestinationsResponse(
        data=[views.destination(v) for v in found], next=following, previous=preceding
    )


@router.get(
    "/destinations/{destinationId}",
    response_model=m.DestinationResponse,
    operation_id="getDestination",
    tags=["Destinations"],
)
def get_destination(destination_id: DestinationIdPath, ctx: Ctx, who: Caller) -> m.DestinationResponse:
    return views.destination(actors.get(ctx, who, "destination", destination_id))


@router.patch(
    "/destinations/{destinationId}",
    response_model=m.DestinationResponse,
    operation_id="patchDestination",
    tags=["Destinations"],
)
def patch_destination(
    destination_id: DestinationIdPath, body: m.DestinationPatchRequest, ctx: Ctx, who: Caller
) -> m.DestinationResponse:
    view = actors.update(
        ctx, who, "destination", destination_id, name=body.name, configuration=body.configuration
    )
    return views.destination(view)


@router.put(
    "/destinations/{destinationId}",
    response_model=m.DestinationResponse,
    operation_id="putDestination",
    tags=["Destinations"],
)
def put_destination(
    destination_id: DestinationIdPath, body: m.DestinationPutRequest, ctx: Ctx, who: Caller
) -> m.DestinationResponse:
    view = actors.update(
        ctx,
        who,
        "destination",
        destination_id,
        name=body.name,
        configuration=body.configuration,
        replace=True,
    )
    return views.destination(view)


@router.delete(
    "/destinations/{destinationId}",
    status_code=204,
    response_class=Response,
    operation_id="deleteDestination",
    tags=["Destinations"],
)
def delete_destination(destination_id: DestinationIdPath, ctx: Ctx, who: Caller) -> Response:
    actors.delete(ctx, who, "destination", destination_id)
    return Response(status_code=204)
