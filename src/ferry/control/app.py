"""Builds the server: store (migrated), secrets, admin bootstrap, executor, and the FastAPI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TextIO

from fastapi import FastAPI

from ferry import __version__
from ferry.control.api import config_api, problems
from ferry.control.api.limits import BodyLimit
from ferry.control.api.public import connections, health, jobs, logs, sources, streams, token, workspaces
from ferry.control.executor import Executor
from ferry.control.executor_process import ProcessExecutor
from ferry.control.scheduler import Scheduler
from ferry.control.secrets import SecretBox, load_key
from ferry.control.services import definitions, users
from ferry.control.services.context import Control
from ferry.control.settings import Settings
from ferry.control.store import Store
from ferry.web import router as web_router

PUBLIC_ROOT = "/api/public/v1"
log = logging.getLogger("ferry.control")


def open_control(settings: Settings) -> Control:
    """The store migrated to the newest schema, built-in definitions registered, the secret key loaded."""
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url)
    store.migrate()
    with store.write() as session:
        definitions.sync_builtins(session)
    return Control(store, SecretBox(load_key(settings.secret_key, settings.key_file)), settings)


def create_app(
    settings: Settings | None = None,
    *,
    executor: Callable[[Control], Executor] | None = None,
    announce: TextIO | None = None,
    scheduler: bool = True,
) -> FastAPI:
    """The app; `executor` makes the executor (default: a worker process per attempt), and
    `scheduler` runs the scheduler loop (due jobs, dead attempts, retries) while the app runs."""
    settings = settings or Settings.from_env()
    ctx = open_control(settings)
    users.bootstrap_admin(ctx, announce)
    ctx.executor = (executor or ProcessExecutor)(ctx)
    loop = Scheduler(ctx, ctx.executor) if scheduler else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if loop is not None:
            loop.start()
        yield
        if loop is not None:
            loop.stop()
        if ctx.executor is not None:
            ctx.executor.close()
        ctx.store.dispose()

    app = FastAPI(
        title="Ferry API",
        version=__version__,
        description="Airbyte-compatible public API of a Ferry server.",
        openapi_url=f"{PUBLIC_ROOT}/openapi.json",
        docs_url=f"{PUBLIC_ROOT}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.control = ctx
    problems.install(app)
    for router in (
        health.router,
        token.router,
        workspaces.router,
        sources.router,
        connections.router,
        jobs.router,
        logs.router,
        streams.router,
    ):
        app.include_router(router, prefix=PUBLIC_ROOT)
        app.include_router(router, prefix="/v1", include_in_schema=False)
    # The SDK's default token URL is relative, so it resolves to the host root.
    app.include_router(token.router, include_in_schema=False)
    app.include_router(config_api.router)
    app.include_router(web_router)  # the web UI at /, after the API so API paths always win
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
