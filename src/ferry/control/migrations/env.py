"""Alembic's entry point: runs the migrations on the engine the server handed over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from ferry.control.store.models import Base

# An arbitrary constant: the Postgres advisory lock that makes concurrent starts migrate one at a time.
_MIGRATION_LOCK = 7_212_019


def _run() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("migrations run from ferry.control.store.migrate, which passes the engine")
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


_run()
