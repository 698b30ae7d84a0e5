"""Who is looking at a page: the session cookie, the CSRF token, and the workspace the pages show.

The session cookie holds a signed token of `ferry.control.auth` (HttpOnly, SameSite=Lax), so any
server process sharing the store accepts it. Form posts carry a CSRF token: an HMAC of a random
per-browser cookie under the server's signing key (the signed double-submit pattern), which a page
from another site can neither read nor forge.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from ferry.control import auth
from ferry.control.services import users, workspaces
from ferry.control.services.context import Control, Principal
from ferry.control.services.paging import Page
from ferry.control.store.models import Workspace

SESSION_COOKIE = "ferry_session"
CSRF_COOKIE = "ferry_csrf"
WORKSPACE_COOKIE = "ferry_workspace"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
MAX_FORM_FIELDS = 20_000
Fields = dict[str, list[str]]


class LoginRequiredError(Exception):
    """No session, or one that expired: the browser is sent to the login page."""


class CsrfRejectedError(Exception):
    """A form post without a valid CSRF token."""


@dataclass
class Viewer:
    """The signed-in user, the workspace the pages show, and the token their forms must carry."""

    ctx: Control
    who: Principal
    csrf: str
    workspaces: list[Workspace] = field(default_factory=list)
    workspace: Workspace | None = None

    @property
    def workspace_id(self) -> str | None:
        return self.workspace.id if self.workspace else None


def control(request: Request) -> Control:
    ctx: Control = request.app.state.control
    return ctx


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser's forms; a new browser gets its cookie with the response."""
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(32)
        request.state.new_csrf_seed = seed
    return _sign(control(request), seed)


def _sign(ctx: Control, seed: str) -> str:
    return hmac.new(ctx.box.signing_key, b"ferry-csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, form: FormData) -> None:
    seed = request.cookies.get(CSRF_COOKIE)
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if (
        not seed
        or not isinstance(given, str)
        or not hmac.compare_digest(given, _sign(control(request), seed))
    ):
        raise CsrfRejectedError


async def posted(request: Request) -> Fields:
    """The fields of a form post whose CSRF token is valid (a dependency of every POST route)."""
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    check_csrf(request, form)
    out: Fields = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def principal(request: Request) -> Principal | None:
    ctx = control(request)
    token = request.cookies.get(SESSION_COOKIE)
    claims = auth.read_token(ctx.box.signing_key, token) if token else None
    return users.principal(ctx, claims.user_id) if claims else None


def viewer(request: Request) -> Viewer:
    """The signed-in viewer (a dependency of every page); LoginRequiredError without a valid session."""
    who = principal(request)
    if who is None:
        raise LoginRequiredError
    ctx = control(request)
    seen = workspaces.list_(ctx, who, [], False, Page(200, 0))
    chosen = request.cookies.get(WORKSPACE_COOKIE)
    current = next((w for w in seen if w.id == chosen), seen[0] if seen else None)
    return Viewer(ctx, who, csrf_token(request), seen, current)


def start_session(ctx: Control, response: Response, user_id: str, secure: bool) -> None:
    token = auth.issue_token(ctx.box.signing_key, user_id, SESSION_SECONDS)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def remember_workspace(response: Response, workspace_id: str, secure: bool) -> None:
    response.set_cookie(
        WORKSPACE_COOKIE,
        workspace_id,
        max_age=365 * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def finish(request: Request, response: Response) -> None:
    """Sets the CSRF cookie on the response when this request made the browser's first one."""
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        response.set_cookie(
            CSRF_COOKIE,
            seed,
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=is_https(request),
            path="/",
        )


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def first(fields: Fields, name: str, default: str = "") -> str:
    values = fields.get(name)
    return values[0] if values else default


ViewerDep = Annotated[Viewer, Depends(viewer)]
PostedForm = Annotated[Fields, Depends(posted)]
