"""The connector catalogue: built-in and external sources and destinations, with search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ferry.web import connectors, render
from ferry.web.routing import PageRoute
from ferry.web.session import ViewerDep

router = APIRouter(route_class=PageRoute)


@router.get("/catalogue")
def catalogue(
    request: Request,
    viewer: ViewerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Annotated[str, Query(pattern="^(|source|destination)$")] = "",
) -> Response:
    if viewer.workspace is None:
        return render.page(request, "no_workspace.html", viewer, section="catalogue")
    found = connectors.catalogue(
        viewer.ctx, viewer.workspace.id, "source" if kind == "source" else "destination" if kind else None, q
    )
    return render.page(
        request,
        "catalogue.html",
        viewer,
        section="catalogue",
        q=q,
        kind=kind,
        sources=[d for d in found if d.kind == "source"],
        destinations=[d for d in found if d.kind == "destination"],
    )
