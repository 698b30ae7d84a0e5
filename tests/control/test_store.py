"""The config store: migrations, SQLite settings and several writers, the one-active-job rule, fencing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from ferry.control.errors import ConflictError, FencedError
from ferry.control.services import attempts, jobs
from ferry.control.services.context import SYSTEM, Control
from ferry.control.settings import Settings
from ferry.control.store.migrate import current_revision, head_revision
from ferry.control.store.models import Base, Job, Workspace
from ferry.control.store.state import DbStateStore
from ferry.engine.state_store import ConnectionState
from tests.control.helpers import make_connection


def test_migrations_reach_head_and_match_the_models(ctx: Control) -> None:
    engine = ctx.store.engine
    assert current_revision(engine) == head_revision(engine) == "0001"
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrating_again_changes_nothing(ctx: Control) -> None:
    ctx.store.migrate()
    ctx.store.migrate()
    assert current_revision(ctx.store.engine) == "0001"


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
