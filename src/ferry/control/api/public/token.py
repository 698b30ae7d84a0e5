"""/applications/token: client id and secret (form or JSON, `grant_type` optional) for a bearer token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ferry.control import auth
from ferry.control.api import models as m
from ferry.control.api.deps import Ctx
from ferry.control.api.problems import AuthError, problem
from ferry.control.services import users

router = APIRouter(tags=["Applications"])
_FIELDS: dict[str, Any] = {
    "type": "object",
    "required": ["client_id", "client_secret"],
    "properties": {
        "client_id": {"type": "string", "maxLength": 256},
        "client_secret": {"type": "string", "maxLength": 1024},
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
    },
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _FIELDS},
            "application/x-www-form-urlencoded": {"schema": _FIELDS},
        },
    }
}


@router.post(
    "/applications/token",
    response_model=m.TokenResponse,
    operation_id="createAccessToken",
    openapi_extra=_BODY,
)
async def create_access_token(request: Request, ctx: Ctx) -> JSONResponse | m.TokenResponse:
    fields = await _fields(request)
    if fields is None:
        return problem(400, "bad-request", "the body must be a JSON object or a form", {"field": "body"})
    for name in ("client_id", "client_secret"):
        if not isinstance(fields.get(name), str) or not fields[name] or "\x00" in fields[name]:
            return problem(400, "bad-request", f"{name} is required", {"field": name})
    grant = fields.get("grant_type")
    if grant not in (None, "", "client_credentials"):
        return problem(400, "bad-request", "grant_type must be client_credentials", {"field": "grant_type"})
    user_id = users.authenticate(ctx, fields["client_id"], fields["client_secret"])
    if user_id is None:
        raise AuthError("unknown client_id or wrong client_secret")
    seconds = ctx.settings.token_seconds
    return m.TokenResponse(
        access_token=auth.issue_token(ctx.box.signing_key, user_id, seconds), expires_in=seconds
    )


async def _fields(request: Request) -> dict[str, Any] | None:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
