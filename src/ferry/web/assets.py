"""The UI's static files, served by the app itself with content-hashed URLs (no CDN, no build step)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

HTMX = "vendor/htmx-2.0.11.min.js"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
SERVED = ("ferry.css", "ferry.js", HTMX)

router = APIRouter()


@cache
def _content(name: str) -> bytes:
    return files("ferry.web").joinpath("static", name).read_bytes()


@cache
def version(name: str) -> str:
    return hashlib.sha256(_content(name)).hexdigest()[:12]


def url(name: str) -> str:
    """The URL of a static file; it changes whenever the file does, so browsers may cache it for good."""
    return f"/static/{name}?v={version(name)}"


@router.get("/static/{name:path}")
def static_file(name: str) -> Response:
    if name not in SERVED:
        return Response("not found", status_code=404, media_type="text/plain")
    kind = _TYPES[name[name.rfind(".") :]]
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return Response(_content(name), media_type=kind, headers=headers)
