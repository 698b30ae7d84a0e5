"""Ferry's web UI: server-rendered pages (Jinja2 + htmx) over the control plane's services."""

from ferry.web.router import router

__all__ = ["router"]
