"""The UI's routes, gathered into one router that the server includes at `/`."""

from __future__ import annotations

from fastapi import APIRouter

from ferry.web import assets
from ferry.web.pages import actors, auth, catalogue, connections, jobs, settings

router = APIRouter(include_in_schema=False)
router.include_router(assets.router)
for _pages in (auth, catalogue, actors, connections, jobs, settings):
    router.include_router(_pages.router)
