"""What the scheduler, executor, logs and apply tests share: a store of their own on SQLite or Postgres,
test connector plug-ins visible to this process and to worker processes, and waiting on jobs.

Each Postgres case gets a fresh database: a scheduler sweeps every active job in its store, so it
must not see the jobs other tests left behind.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ferry.connectors import registry
from ferry.control.app import open_control
from ferry.control.services import actors, connections, jobs, workspaces
from ferry.control.services.connections import Schedule
from ferry.control.services.connections import Settings as ConnectionSettings
from ferry.control.services.context import SYSTEM, Control
from ferry.control.services.jobs import JobView
from ferry.control.settings import Settings
from ferry.control.store.models import Connection
from tests.control import plugin, ticker_plugin
from tests.control.conftest import PG_ADMIN, _postgres_or_skip

ACTIVE = ("pending", "running", "incomplete")


@contextmanager
def plugin_site(root: Path, repo_root: Path) -> Iterator[Path]:
    """`test-ticker` and `test-secret` installed for this process and the workers it starts."""
    site = root / "site"
    ticker_plugin.install(site)
    plugin.install(site)
    paths = [str(site), str(repo_root), os.environ.get("PYTHONPATH", "")]
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        patch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
        registry._entry_points.cache_clear()
        try:
            yield site
        finally:
            registry._entry_points.cache_clear()


@contextmanager
def fresh_database(backend: str, home: Path) -> Iterator[str]:
    """A store URL: SQLite in `home`, or a new Postgres database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{home / 'ferry.db'}"
        return
    import psycopg

    _postgres_or_skip()
    name = f"ferry_jobs_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def control_for(backend: str, tmp: Path, repo_root: Path) -> Iterator[Control]:
    """An open store (migrated, plug-ins registered) in `tmp`; the executor, if one is set, closed after."""
    home = tmp / "home"
    with plugin_site(tmp, repo_root), fresh_database(backend, home) as url:
        ctx = open_control(Settings(home=home, database_url=url))
        try:
            yield ctx
        finally:
            if ctx.executor is not None:
                ctx.executor.close()
            ctx.store.dispose()


def ticker_connection(
    ctx: Control, tmp: Path, *, name: str = "ticks", schedule: Schedule | None = None, **config: Any
) -> Connection:
    """A connection from `test-ticker` (config as given) to a DuckDB file, deduplicated on id."""
    workspace = workspaces.create(ctx, SYSTEM, f"ws-{uuid.uuid4().hex[:6]}")
    source = actors.create(
        ctx,
        SYSTEM,
        "source",
        workspace_id=workspace.id,
        name=f"{name} source",
        configuration={"sourceType": "test-ticker", "runs_file": str(tmp / f"{name}.runs"), **config},
    )
    destination = actors.create(
        ctx,
        SYSTEM,
        "destination",
        workspace_id=workspace.id,
        name=f"{name} warehouse",
        configuration={"destinationType": "duckdb", "path": str(tmp / f"{name}.duckdb")},
    )
    return connections.create(
        ctx,
        SYSTEM,
        source.row.id,
        destination.row.id,
        ConnectionSettings(
            name=name,
            streams=[{"name": "ticks", "syncMode": "incremental_deduped_history"}],
            schedule=schedule,
        ),
    )


def warehouse_rows(tmp: Path, name: str = "ticks") -> list[tuple[int, int]]:
    """(id, run) of every row the ticker connection loaded, by id."""
    with duckdb.connect(str(tmp / f"{name}.duckdb"), read_only=True) as con:
        return [(int(a), int(b)) for a, b in con.sql("SELECT id, run FROM main.ticks ORDER BY id").fetchall()]


def wait_for(what: Callable[[], Any], seconds: float = 60, every: float = 0.1) -> Any:
    """`what()` as soon as it is truthy; fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting after {seconds} s")
        time.sleep(every)


def finished(ctx: Control, job_id: int, seconds: float = 60) -> JobView:
    """The job once it is succeeded, failed or cancelled."""
    return wait_for(lambda: _ended(ctx, job_id), seconds)  # type: ignore[no-any-return]


def _ended(ctx: Control, job_id: int) -> JobView | None:
    view = jobs.get(ctx, SYSTEM, job_id)
    return None if view.job.status in ACTIVE else view
