"""Settings: the workspace (switch, create, rename) and API access (tokens, credentials for new users)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ferry.control import auth
from ferry.control.services import users, workspaces
from ferry.control.services.context import ROLES
from ferry.errors import ConfigError, FerryError
from ferry.web import render, session
from ferry.web.routing import PageRoute, status_of
from ferry.web.session import PostedForm, Viewer, ViewerDep, first

router = APIRouter(route_class=PageRoute)


def _settings(request: Request, viewer: Viewer, status: int = 200, **shown: Any) -> Response:
    values: dict[str, Any] = {"token": None, "credentials": None, "error": None, "notice": None}
    values.update(shown)
    role = "admin" if viewer.who.is_admin else viewer.who.roles.get(viewer.workspace_id or "", "")
    return render.page(
        request,
        "settings.html",
        viewer,
        status,
        section="settings",
        role=role,
        roles=ROLES,
        token_seconds=viewer.ctx.settings.token_seconds,
        **values,
    )


def _failed(request: Request, viewer: Viewer, exc: FerryError) -> Response:
    if status_of(exc) == 404:
        raise exc
    return _settings(request, viewer, status_of(exc), error=exc)


@router.get("/settings")
def settings_page(request: Request, viewer: ViewerDep, notice: str = "") -> Response:
    known = {"created": "Workspace created.", "renamed": "Workspace renamed."}
    return _settings(request, viewer, notice=known.get(notice))


@router.post("/workspace")
def switch_workspace(request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
    chosen = first(form, "workspace")
    workspaces.get(viewer.ctx, viewer.who, chosen)
    response = render.redirect("/connections", request)
    session.remember_workspace(response, chosen, session.is_https(request))
    return response


@router.post("/settings/workspaces")
def create_workspace(request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
    name = first(form, "name").strip()
    if not name:
        return _failed(request, viewer, ConfigError("the workspace needs a name", field="name"))
    created = workspaces.create(viewer.ctx, viewer.who, name)
    response = render.redirect("/settings?notice=created", request)
    session.remember_workspace(response, created.id, session.is_https(request))
    return response


@router.post("/settings/workspace")
def rename_workspace(request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
    name = first(form, "name").strip()
    try:
        if not name or viewer.workspace is None:
            raise ConfigError("the workspace needs a name", field="name")
        workspaces.update(viewer.ctx, viewer.who, viewer.workspace.id, name, None)
    except FerryError as exc:
        return _failed(request, viewer, exc)
    return render.redirect("/settings?notice=renamed", request)


@router.post("/settings/token")
def new_token(request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
    """A bearer token for the API, as the signed-in user, shown once."""
    ctx = viewer.ctx
    token = auth.issue_token(ctx.box.signing_key, viewer.who.user_id, ctx.settings.token_seconds)
    return _settings(request, viewer, token=token)


@router.post("/settings/users")
def new_user(request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
    """Client credentials for a new user with a role in this workspace (workspace admins only)."""
    name, role = first(form, "name").strip(), first(form, "role", "reader")
    try:
        if viewer.workspace is None:
            raise ConfigError("create a workspace first")
        viewer.who.require(viewer.workspace.id, "admin", "workspace", viewer.workspace.id)
        if not name:
            raise ConfigError("the user needs a name", field="user_name")
        made = users.create_user(viewer.ctx, name, roles={viewer.workspace.id: role})
    except FerryError as exc:
        return _failed(request, viewer, exc)
    return _settings(request, viewer, credentials=made, new_user_name=name, new_user_role=role)
