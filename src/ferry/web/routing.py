"""The route class of every UI page: errors as HTML pages, login redirects, cookies, Server-Timing.

The API's exception handlers answer with JSON problems; UI routes catch what they raise themselves,
so a person sees a page that says what went wrong instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from ferry.cdk.secrets import mask
from ferry.control.errors import ConflictError, ForbiddenError, NotFoundError
from ferry.errors import ConfigError, FerryError
from ferry.web import render, session

log = logging.getLogger("ferry.web")
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def status_of(exc: FerryError) -> int:
    for kind, status in (
        (NotFoundError, 404),
        (ForbiddenError, 403),
        (ConflictError, 409),
        (ConfigError, 400),
    ):
        if isinstance(exc, kind):
            return status
    return 500


def error_page(request: Request, status: int, title: str, message: str, hint: str | None = None) -> Response:
    body = render.html(
        "error.html", request=request, viewer=None, status=status, title=title, message=message, hint=hint
    )
    return HTMLResponse(body, status_code=status, headers=render.SECURITY_HEADERS)


def _login_redirect(request: Request) -> Response:
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?next={quote(wanted, safe='')}"
    if request.headers.get("hx-request"):
        return HTMLResponse("", headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


class PageRoute(APIRoute):
    """Wraps a UI endpoint: failures become pages, and every response says how long the server took."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            started = time.perf_counter()
            response = await _guarded(handler, request)
            session.finish(request, response)
            elapsed_ms = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
            return response

        return handle


async def _guarded(handler: Handler, request: Request) -> Response:
    try:
        return await handler(request)
    except session.LoginRequiredError:
        return _login_redirect(request)
    except session.CsrfRejectedError:
        return error_page(
            request,
            403,
            "The form has expired",
            "This form was not accepted because its security token is missing or out of date.",
            "Go back, reload the page and send the form again.",
        )
    except RequestValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_page(request, 400, "Bad request", f"{where}: {first.get('msg', 'invalid')}")
    except FerryError as exc:
        status = status_of(exc)
        if status == 500:
            log.error("web page failed: %s", mask(str(exc)))
        title = {404: "Not found", 403: "Not allowed", 409: "Conflict", 400: "Cannot do that"}.get(
            status, "Something went wrong"
        )
        return error_page(request, status, title, mask(exc.message), exc.hint)
    except Exception as exc:  # a page must answer with a page, whatever broke
        log.exception("web page failed: %s", mask(f"{type(exc).__name__}: {exc}"))
        return error_page(request, 500, "Something went wrong", "The server failed; its log has the details.")
