"""What routes depend on: the control context, the caller (from the bearer token), paging and id lists."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ferry.control import auth
from ferry.control.api.problems import AuthError
from ferry.control.errors import InvalidInputError
from ferry.control.services import users
from ferry.control.services.context import Control, Principal
from ferry.control.services.paging import Page

_bearer = HTTPBearer(auto_error=False, description="A token from POST /applications/token.")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def control(request: Request) -> Control:
    ctx: Control = request.app.state.control
    return ctx


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("a bearer token is needed: POST /api/public/v1/applications/token")
    ctx = control(request)
    claims = auth.read_token(ctx.box.signing_key, credentials.credentials)
    who = users.principal(ctx, claims.user_id) if claims else None
    if who is None:
        raise AuthError("the token is invalid or has expired; get a new one")
    return who


Ctx = Annotated[Control, Depends(control)]
Caller = Annotated[Principal, Depends(caller)]


def paging(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size (1-100).")] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Page:
    return Page(limit, offset)


Paging = Annotated[Page, Depends(paging)]


def id_list(values: list[str] | None, field: str) -> list[str]:
    """Ids given as repeated keys (workspaceIds=a&workspaceIds=b) or comma-separated (workspaceIds=a,b)."""
    out = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    for value in out:
        if not _ID.match(value):
            raise InvalidInputError(f"'{value[:80]}' is not a valid id", field=field)
    return out


def page_links(request: Request, page: Page, count: int) -> tuple[str, str]:
    """Airbyte's `next` and `previous`: absolute URLs; `next` whenever this page had items, else ''."""
    following = (
        str(request.url.include_query_params(limit=page.limit, offset=page.offset + page.limit))
        if count
        else ""
    )
    preceding = (
        str(request.url.include_query_params(limit=page.limit, offset=max(page.offset - page.limit, 0)))
        if page.offset > 0
        else ""
    )
    return following, preceding


def _path_id(alias: str) -> object:
    return Path(alias=alias, min_length=1, max_length=64, pattern=_ID.pattern)


WorkspaceIdPath = Annotated[str, _path_id("workspaceId")]
SourceIdPath = Annotated[str, _path_id("sourceId")]
DestinationIdPath = Annotated[str, _path_id("destinationId")]
ConnectionIdPath = Annotated[str, _path_id("connectionId")]
JobIdPath = Annotated[int, Path(alias="jobId", ge=0, le=2**63 - 1)]
IdsQuery = Annotated[
    list[str] | None, Query(alias="workspaceIds", description="Repeated or comma-separated.")
]
IncludeDeleted = Annotated[bool, Query(alias="includeDeleted")]
