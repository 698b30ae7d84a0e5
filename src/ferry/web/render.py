"""Renders the Jinja2 templates (autoescaped) and the small formats pages share: durations, counts, times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ferry.web import assets
from ferry.web.session import CSRF_FIELD, Viewer

SECURITY_HEADERS = {
    # Everything the pages load comes from this server; nothing may frame them.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def size(value: int | None) -> str:
    if not value:
        return "—"  # zero means "not measured": connectors that do not count bytes report none
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if amount < 1000 or unit == "TB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{value} B"


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        return "in " + duration(-seconds)
    if seconds < 60:
        return "just now"
    for unit, size_s in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size_s:
            n = int(seconds // size_s)
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ferry.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=duration, count=count, size=size, when=when, ago=ago)
    env.globals.update(
        static=assets.url, htmx=assets.HTMX, csrf_field=CSRF_FIELD, now_utc=lambda: datetime.now(UTC)
    )
    return env


ENV = _environment()


def html(template: str, **values: Any) -> str:
    return ENV.get_template(template).render(**values)


def page(
    request: Request, template: str, viewer: Viewer | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """A full page (or, for an htmx request naming a fragment template, that fragment)."""
    body = html(template, request=request, viewer=viewer, **values)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def redirect(url: str, request: Request) -> RedirectResponse | HTMLResponse:
    """A redirect after a post; htmx requests get HX-Redirect so the whole page moves."""
    if request.headers.get("hx-request"):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
