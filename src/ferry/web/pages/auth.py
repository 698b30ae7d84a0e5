"""Sign in with a client id and secret (a user's application or the admin credential), sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ferry.control.services import users
from ferry.web import render, session
from ferry.web.routing import PageRoute
from ferry.web.session import PostedForm, ViewerDep, first

router = APIRouter(route_class=PageRoute)


def _local(target: str | None) -> str:
    """`next` only ever leads to a page of this server."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/connections"


@router.get("/")
def home(viewer: ViewerDep, request: Request) -> Response:
    return render.redirect("/connections", request)


@router.get("/login")
def login_page(
    request: Request, target: Annotated[str, Query(alias="next", max_length=2000)] = ""
) -> Response:
    if session.principal(request) is not None:
        return render.redirect(_local(target), request)
    return _login_form(request, target, None, 200)


def _login_form(request: Request, target: str, error: str | None, status: int) -> Response:
    return render.page(
        request,
        "login.html",
        None,
        status,
        csrf=session.csrf_token(request),
        next=target,
        error=error,
    )


@router.post("/login")
def login(request: Request, form: PostedForm) -> Response:
    client_id, secret = first(form, "client_id").strip(), first(form, "client_secret")
    target = first(form, "next")
    user_id = (
        users.authenticate(session.control(request), client_id, secret) if client_id and secret else None
    )
    if user_id is None:
        return _login_form(request, target, "Unknown client id or wrong client secret.", 401)
    response = render.redirect(_local(target), request)
    session.start_session(session.control(request), response, user_id, session.is_https(request))
    return response


@router.post("/logout")
def logout(request: Request, form: PostedForm) -> Response:
    response = render.redirect("/login", request)
    session.end_session(response)
    return response
