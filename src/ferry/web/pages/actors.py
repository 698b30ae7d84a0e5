"""Sources and destinations: lists, new / edit forms generated from the connector's spec, test, delete."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from ferry.cdk.spec import MASK, secret_paths
from ferry.control.services import actors
from ferry.control.services.paging import Page
from ferry.control.store.models import Definition
from ferry.errors import ConfigError
from ferry.web import connectors, render, spec_form, spec_values
from ferry.web.connectors import Kind
from ferry.web.routing import PageRoute
from ferry.web.session import PostedForm, Viewer, ViewerDep, first

router = APIRouter(route_class=PageRoute)
ALL = Page(10_000, 0)
ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
IdQuery = Annotated[str, Query(min_length=1, max_length=64, pattern=ID_PATTERN)]
ActorId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
NAME_ERROR = "__name"
"""The key of the name field's error (no spec property can be called that)."""


def field_errors(exc: ConfigError) -> tuple[dict[str, str], str | None]:
    """An error of a config as {field path: message}, or as a general message when it names no field."""
    where = exc.field or ""
    if where == "name":
        return {NAME_ERROR: exc.message}, None
    if where.startswith("configuration."):
        return {where.removeprefix("configuration."): exc.message}, None
    return {}, exc.message


def typed_secrets_removed(schema: Mapping[str, Any], config: Any, prefix: tuple[str, ...] = ()) -> Any:
    """The config to show again after an error: secrets typed in are never sent back to the browser."""
    paths = secret_paths(schema)
    if isinstance(config, Mapping):
        out = {}
        for key, value in config.items():
            path = (*prefix, str(key))
            if path in paths and value != MASK:
                continue
            out[key] = typed_secrets_removed(schema, value, path)
        return out
    if isinstance(config, list):
        return [typed_secrets_removed(schema, item, prefix) for item in config]
    return config


class _Pages:
    """The pages of one kind of actor; `plural` is its URL segment."""

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.plural = f"{kind}s"

    def list_page(self, request: Request, viewer: ViewerDep) -> Response:
        if viewer.workspace is None:
            return render.page(request, "no_workspace.html", viewer, section=self.plural)
        found = actors.list_(
            viewer.ctx,
            viewer.who,
            self.kind,
            workspace_ids=[viewer.workspace.id],
            include_deleted=False,
            page=ALL,
        )
        found.sort(key=lambda v: v.row.name.lower())
        return render.page(
            request,
            "actors.html",
            viewer,
            section=self.plural,
            kind=self.kind,
            plural=self.plural,
            actors=found,
        )

    def new_page(self, request: Request, viewer: ViewerDep, definition: IdQuery) -> Response:
        if viewer.workspace is None:
            return render.page(request, "no_workspace.html", viewer, section=self.plural)
        found = connectors.definition(viewer.ctx, viewer.who, self.kind, viewer.workspace.id, definition)
        return self._form(request, viewer, found, None, name=found.name)

    def create(self, request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
        if viewer.workspace is None:
            return render.page(request, "no_workspace.html", viewer, section=self.plural)
        found = connectors.definition(
            viewer.ctx, viewer.who, self.kind, viewer.workspace.id, first(form, "definition")
        )
        name, config = first(form, "name").strip(), spec_values.parse(connectors.spec(found), form)
        try:
            _require_name(name)
            view = actors.create(
                viewer.ctx,
                viewer.who,
                self.kind,
                workspace_id=viewer.workspace.id,
                name=name,
                configuration=config,
                definition_id=found.id,
            )
        except ConfigError as exc:
            return self._form(request, viewer, found, None, name=name, config=config, error=exc)
        return render.redirect(f"/{self.plural}/{view.row.id}?saved=1", request)

    def edit_page(self, request: Request, viewer: ViewerDep, actor_id: ActorId, saved: int = 0) -> Response:
        view = actors.get(viewer.ctx, viewer.who, self.kind, actor_id)
        return self._form(
            request,
            viewer,
            view.definition,
            view,
            name=view.row.name,
            config=view.masked_configuration,
            saved=bool(saved),
        )

    def update(self, request: Request, viewer: ViewerDep, actor_id: ActorId, form: PostedForm) -> Response:
        view = actors.get(viewer.ctx, viewer.who, self.kind, actor_id)
        name, config = first(form, "name").strip(), spec_values.parse(connectors.spec(view.definition), form)
        try:
            _require_name(name)
            actors.update(
                viewer.ctx, viewer.who, self.kind, actor_id, name=name, configuration=config, replace=True
            )
        except ConfigError as exc:
            return self._form(request, viewer, view.definition, view, name=name, config=config, error=exc)
        return render.redirect(f"/{self.plural}/{actor_id}?saved=1", request)

    def delete(self, request: Request, viewer: ViewerDep, actor_id: ActorId, form: PostedForm) -> Response:
        actors.delete(viewer.ctx, viewer.who, self.kind, actor_id)
        return render.redirect(f"/{self.plural}", request)

    def check(self, request: Request, viewer: ViewerDep, form: PostedForm) -> Response:
        actor_id = first(form, "actor") or None
        workspace_id = viewer.workspace_id or ""
        if actor_id:
            view = actors.get(viewer.ctx, viewer.who, self.kind, actor_id)
            found, workspace_id = view.definition, view.row.workspace_id
        else:
            found = connectors.definition(
                viewer.ctx, viewer.who, self.kind, workspace_id, first(form, "definition")
            )
        config = spec_values.parse(connectors.spec(found), form)
        result = connectors.check(viewer.ctx, viewer.who, self.kind, found, config=config, actor_id=actor_id)
        return render.page(request, "check_result.html", viewer, result=result)

    def _form(
        self,
        request: Request,
        viewer: Viewer,
        found: Definition,
        view: actors.ActorView | None,
        *,
        name: str,
        config: Any = None,
        error: ConfigError | None = None,
        saved: bool = False,
    ) -> Response:
        schema = connectors.spec(found)
        errors, general = field_errors(error) if error else ({}, None)
        if error is not None:
            config = typed_secrets_removed(schema, config)
        return render.page(
            request,
            "actor_form.html",
            viewer,
            400 if error else 200,
            section=self.plural,
            kind=self.kind,
            plural=self.plural,
            definition=found,
            actor=view,
            name=name,
            fields=spec_form.build(schema, config, errors),
            errors=errors,
            error=general,
            hint=error.hint if error else None,
            field_error_count=len(errors),
            saved=saved,
        )


def _require_name(name: str) -> None:
    if not name:
        raise ConfigError("the name is empty", hint="Give it a name you will recognise.", field="name")


def _register(kind: Kind) -> None:
    pages = _Pages(kind)
    base = f"/{pages.plural}"
    routes: list[tuple[str, Callable[..., Response], str]] = [
        (base, pages.list_page, "GET"),
        (f"{base}/new", pages.new_page, "GET"),
        (f"{base}/new", pages.create, "POST"),
        (f"{base}/check", pages.check, "POST"),
        (base + "/{actor_id}", pages.edit_page, "GET"),
        (base + "/{actor_id}", pages.update, "POST"),
        (base + "/{actor_id}/delete", pages.delete, "POST"),
    ]
    for path, endpoint, method in routes:
        router.add_api_route(path, endpoint, methods=[method])


for _kind in connectors.KINDS:
    _register(_kind)
