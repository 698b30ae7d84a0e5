"""Errors as RFC 9457 problem bodies, as Airbyte's server sends them; `data.field` names the bad input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ferry.cdk.secrets import mask
from ferry.control.errors import ConflictError, FencedError, ForbiddenError, NotFoundError, UnprocessableError
from ferry.errors import ConfigError, FerryError

log = logging.getLogger("ferry.control.api")
DOCS = "https://reference.airbyte.com/reference/errors"
_STATUS: list[tuple[type[FerryError], int, str]] = [
    (NotFoundError, 404, "resource-not-found"),
    (ConflictError, 409, "try-again-later"),
    (FencedError, 409, "try-again-later"),
    (ForbiddenError, 403, "forbidden"),
    (UnprocessableError, 422, "unprocessable-entity"),
    (ConfigError, 400, "bad-request"),
]


class AuthError(Exception):
    """No token, or one that is invalid or expired."""


def problem(
    status: int,
    slug: str,
    detail: str,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "type": f"{DOCS}#{slug}",
        "title": slug.replace("-", " "),
        "status": status,
        "detail": mask(detail),
        "data": data or {},
        "documentationUrl": DOCS,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _ferry_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FerryError)
    for kind, status, slug in _STATUS:
        if isinstance(exc, kind):
            data = {k: v for k, v in (("field", exc.field), ("hint", exc.hint), ("stream", exc.stream)) if v}
            return problem(status, slug, exc.message, data)
    log.error("internal error: %s", mask(str(exc)))
    return problem(500, "internal-server-error", "the server failed; see its log")


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    location = [str(p) for p in first.get("loc", ())]
    where = location[0] if location else "body"
    field = _field_path(location[1:]) or where
    if first.get("type") == "json_invalid":
        return problem(
            400, "bad-request", f"the request body is not valid JSON: {first.get('msg')}", {"field": "body"}
        )
    return problem(400, "bad-request", f"{field}: {first.get('msg')}", {"field": field, "in": where})


def _field_path(parts: list[str]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    slug = {
        401: "unauthorized",
        404: "resource-not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
    }.get(exc.status_code, "error")
    data = {"field": "body"} if exc.status_code == 413 else None
    return problem(exc.status_code, slug, str(exc.detail), data, headers=dict(exc.headers or {}))


def _auth_error(_request: Request, exc: Exception) -> JSONResponse:
    return problem(
        401, "unauthorized", str(exc) or "a bearer token is needed", headers={"WWW-Authenticate": "Bearer"}
    )


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error: %s", mask(f"{type(exc).__name__}: {exc}"))
    return problem(500, "internal-server-error", "the server failed; see its log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(FerryError, _ferry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(Exception, _unexpected)
