"""Helpers for the mysql source tests: statements on the test database, syncs into DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.dbs import mysql_connect

from ferry.connectors.destinations.duckdb import DuckDBDestination
from ferry.connectors.sources.mysql import MySQLSource
from ferry.engine import (
    InProcessDestination,
    InProcessSource,
    MemoryStateStore,
    Sync,
    SyncResult,
    configure_catalog,
)
from ferry.engine.catalog import StreamSelection


def execute(database: str, *statements: str, args: Sequence[Any] | None = None) -> None:
    with mysql_connect(database) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, args)


def executemany(database: str, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    with mysql_connect(database) as connection, connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def sync_to_duckdb(
    config: dict[str, Any],
    path: Path,
    selections: list[StreamSelection] | None = None,
    store: MemoryStateStore | None = None,
) -> SyncResult:
    """One sync of the mysql source into the DuckDB file at `path` through the engine."""
    source = InProcessSource(MySQLSource(), config)
    destination = InProcessDestination(DuckDBDestination(), {"path": str(path)})
    catalog = configure_catalog(source.discover(), selections, destination.supported_sync_modes)
    result = Sync(source, destination, catalog, store or MemoryStateStore()).run()
    assert result.succeeded, result.error
    return result
