"""/workspaces: create, list, get, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ferry.control.api import models as m
from ferry.control.api.deps import (
    Caller,
    Ctx,
    IdsQuery,
    IncludeDeleted,
    Paging,
    WorkspaceIdPath,
    id_list,
    page_links,
)
from ferry.control.api.public import views
from ferry.control.services import workspaces

router = APIRouter(tags=["Workspaces"])


@router.post("/workspaces", response_model=m.WorkspaceResponse, operation_id="createWorkspace")
def create_workspace(body: m.WorkspaceCreateRequest, ctx: Ctx, who: Caller) -> m.WorkspaceResponse:
    return views.workspace(workspaces.create(ctx, who, body.name, body.notifications))


@router.get("/workspaces", response_model=m.WorkspacesResponse, operation_id="listWorkspaces")
def list_workspaces(
    *,
    request: Request,
    ctx: Ctx,
    who: Caller,
    page: Paging,
    workspace_ids: IdsQuery = None,
    include_deleted: IncludeDeleted = False,
) -> m.WorkspacesResponse:
    rows = workspaces.list_(ctx, who, id_list(workspace_ids, "workspaceIds"), include_deleted, page)
    following, preceding = page_links(request, page, len(rows))
    return m.WorkspacesResponse(data=[views.workspace(r) for r in rows], next=following, previous=preceding)


@router.get("/workspaces/{workspaceId}", response_model=m.WorkspaceResponse, operation_id="getWorkspace")
def get_workspace(workspace_id: WorkspaceIdPath, ctx: Ctx, who: Caller) -> m.WorkspaceResponse:
    return views.workspace(workspaces.get(ctx, who, workspace_id))


@router.patch("/workspaces/{workspaceId}", response_model=m.WorkspaceResponse, operation_id="updateWorkspace")
def update_workspace(
    workspace_id: WorkspaceIdPath, body: m.WorkspaceUpdateRequest, ctx: Ctx, who: Caller
) -> m.WorkspaceResponse:
    return views.workspace(workspaces.update(ctx, who, workspace_id, body.name, body.notifications))


@router.delete(
    "/workspaces/{workspaceId}", status_code=204, response_class=Response, operation_id="deleteWorkspace"
)
def delete_workspace(workspace_id: WorkspaceIdPath, ctx: Ctx, who: Caller) -> Response:
    workspaces.delete(ctx, who, workspace_id)
    return Response(status_code=204)
