"""The config store: migrations, SQLite settings and several writers, the one-active-job rule, fencing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from ferry.control.errors import ConflictError, FencedError
from ferry.control.secrets import SecretBox, load_key
from ferry.control.services import attempts, connections, definitions, jobs, logs
from ferry.control.services.context import SYSTEM, Control
from ferry.control.services.paging import Page
from ferry.control.settings import Settings
from ferry.control.store import Store
from ferry.control.store.migrate import alembic_config, current_revision, head_revision
from ferry.control.store.models import Base, Job, Workspace
from ferry.control.store.state import DbStateStore
from ferry.engine.state_store import ConnectionState
from tests.control.helpers import make_connection
from tests.control.jobs_helpers import fresh_database


def test_migrations_reach_head_and_match_the_models(ctx: Control) -> None:
    engine = ctx.store.engine
    assert current_revision(engine) == head_revision(engine) == "0003"
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrating_again_changes_nothing(ctx: Control) -> None:
    ctx.store.migrate()
    ctx.store.migrate()
    assert current_revision(ctx.store.engine) == "0003"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_v0001_database_upgrades_with_its_rows_and_then_matches_the_models(
    backend: str, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path / "home") as url:
        store = Store(url)
        try:
            command.upgrade(alembic_config(store.engine), "0001")
            with store.write() as session:
                definitions.sync_builtins(session)
            settings = Settings(home=tmp_path / "home", database_url=url, secret_key="upgrade-test")
            old = Control(store, SecretBox(load_key(settings.secret_key, settings.key_file)), settings)
            connection = make_connection(old, tmp_path)
            job = jobs.create(old, SYSTEM, connection.id, "sync").job
            ticket = attempts.start(old, job.id, "worker")  # an attempt from before logs were stored
            assert ticket is not None
            attempts.finish(old, ticket, succeeded=True)

            store.migrate()
            assert current_revision(store.engine) == "0003"
            with store.engine.connect() as db:
                assert compare_metadata(MigrationContext.configure(db), Base.metadata) == []
                indexes = {i["name"]: i["column_names"] for i in inspect(db).get_indexes("connections")}
            assert indexes["ix_connections_workspace_created"] == ["workspace_id", "created_at", "id"]
            assert "ix_connections_workspace_id" not in indexes
            assert connections.get(old, SYSTEM, connection.id).name == connection.name
            assert jobs.get(old, SYSTEM, job.id).job.status == "succeeded"
            # The old attempt has no file and no stored copy: an empty log, as before the upgrade.
            assert logs.read_page(old, SYSTEM, job.id).lines == []
            ticket.log_path.parent.mkdir(parents=True, exist_ok=True)
            ticket.log_path.write_text("a line\n")
            assert logs.store_copy(old, ticket.attempt_id, ticket.log_path) == len("a line\n")

            command.downgrade(alembic_config(store.engine), "0001")  # and back: the downgrade works too
            assert current_revision(store.engine) == "0001"
            assert "attempt_logs" not in inspect(store.engine).get_table_names()
            store.migrate()
            assert current_revision(store.engine) == "0003"
        finally:
            store.dispose()


def test_the_connection_list_reads_one_page_in_index_order(ctx: Control, tmp_path: Path) -> None:
    """One SELECT per page (no query per row), walking the workspace's index rather than sorting."""
    connection = make_connection(ctx, tmp_path)
    statements = _selects(
        ctx, lambda: connections.list_(ctx, SYSTEM, [connection.workspace_id], False, Page())
    )
    assert len(statements) == 1
    if ctx.store.is_sqlite:
        with ctx.store.read() as session:
            cursor = session.connection().connection.driver_connection.cursor()
            cursor.execute("EXPLAIN QUERY PLAN " + statements[0][0], statements[0][1])
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "ix_connections_workspace_created" in plan
        assert "TEMP B-TREE" not in plan


def test_the_job_list_loads_a_page_in_a_fixed_number_of_queries(ctx: Control, tmp_path: Path) -> None:
    connection = make_connection(ctx, tmp_path)
    for _ in range(3):
        view = jobs.create(ctx, SYSTEM, connection.id, "sync")
        jobs.cancel(ctx, SYSTEM, view.job.id)

    def listed(limit: int) -> None:
        views = jobs.list_(ctx, SYSTEM, jobs.JobFilter(connection_id=connection.id), Page(limit))
        assert len(views) == limit

    assert len(_selects(ctx, lambda: listed(1))) == len(_selects(ctx, lambda: listed(3)))


def _selects(ctx: Control, call: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SELECT statements (with their parameters) that `call` sends to the store."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engines = {ctx.store.engine, ctx.store._read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)
    return seen


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    from ferry.control.store import Store

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.dispose()


_WRITER = """
import sys
from pathlib import Path
from ferry.control.app import open_control
from ferry.control.services import workspaces
from ferry.control.services.context import SYSTEM
from ferry.control.settings import Settings
ctx = open_control(Settings(home=Path(sys.argv[1]), database_url=sys.argv[2]))
for i in range(25):
    workspaces.create(ctx, SYSTEM, f"{sys.argv[3]}-{i}")
"""


@pytest.mark.slow
def test_several_processes_write_to_sqlite_at_once(tmp_path: Path) -> None:
    # Each process also migrates on start, as several servers starting together would.
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), url, f"p{n}"], stderr=subprocess.PIPE)
        for n in range(2)
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors.decode()[-2000:]
    from ferry.control.store import Store

    store = Store(url)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Workspace)) == 50
    store.dispose()


def test_the_store_refuses_a_second_active_job_for_a_connection(ctx: Control, tmp_path: Path) -> None:
    connection = make_connection(ctx, tmp_path)
    first = jobs.create(ctx, SYSTEM, connection.id, "sync")
    with pytest.raises(ConflictError, match=f"A sync is already running for: {connection.id}"):
        jobs.create(ctx, SYSTEM, connection.id, "sync")
    # The database itself holds the rule, for servers that skip the service's check.
    with pytest.raises(IntegrityError), ctx.store.write() as session:
        session.add(Job(connection_id=connection.id, workspace_id=connection.workspace_id, job_type="sync"))
    jobs.cancel(ctx, SYSTEM, first.job.id)
    assert jobs.create(ctx, SYSTEM, connection.id, "sync").job.status == "pending"


def test_a_replaced_attempt_cannot_save_state(ctx: Control, tmp_path: Path) -> None:
    connection = make_connection(ctx, tmp_path)
    job = jobs.create(ctx, SYSTEM, connection.id, "sync").job
    first = attempts.start(ctx, job.id, "worker-a")
    assert first is not None
    old = DbStateStore(ctx.store, connection.id, first.fence)
    state = ConnectionState(sync_id=1)
    old.save(state)
    assert old.load().sync_id == 1

    assert attempts.finish(ctx, first, succeeded=False, retry=True) == "incomplete"
    second = attempts.start(ctx, job.id, "worker-b")
    assert second is not None
    assert second.fence > first.fence
    with pytest.raises(FencedError, match="no longer current"):
        old.save(ConnectionState(sync_id=99))
    DbStateStore(ctx.store, connection.id, second.fence).save(ConnectionState(sync_id=2))
    assert old.load().sync_id == 2
    assert not attempts.is_current(ctx, first)
    assert attempts.is_current(ctx, second)
    # The old attempt cannot close the job either.
    attempts.finish(ctx, first, succeeded=True)
    assert jobs.get(ctx, SYSTEM, job.id).job.status == "running"
    assert attempts.finish(ctx, second, succeeded=True) == "succeeded"


def test_a_cancelled_attempt_cannot_save_state(ctx: Control, tmp_path: Path) -> None:
    connection = make_connection(ctx, tmp_path)
    job = jobs.create(ctx, SYSTEM, connection.id, "sync").job
    ticket = attempts.start(ctx, job.id, "worker")
    assert ticket is not None
    jobs.cancel(ctx, SYSTEM, job.id)
    with pytest.raises(FencedError):
        DbStateStore(ctx.store, connection.id, ticket.fence).save(ConnectionState(sync_id=5))
    assert attempts.finish(ctx, ticket, succeeded=True) == "cancelled"
    assert attempts.start(ctx, job.id, "worker") is None


def test_timestamps_come_back_as_aware_utc(ctx: Control, settings: Settings) -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    with ctx.store.write() as session:
        session.add(Workspace(id="tz-check-" + settings.home.name, name="tz", created_at=moment))
    with ctx.store.read() as session:
        row = session.get(Workspace, "tz-check-" + settings.home.name)
        assert row is not None
        assert row.created_at == moment
        assert row.created_at.tzinfo is not None
