"""Opening the DuckDB database named in the config, with errors that name the path and say what to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ferry.cdk.identifiers import quote
from ferry.errors import ConfigError, FerryError, TransientError

MEMORY = ":memory:"


@dataclass(frozen=True, slots=True)
class TableRef:
    """A table named by catalog, schema and table, so a schema called like a catalog is never ambiguous."""

    catalog: str
    schema: str
    name: str

    @property
    def sql(self) -> str:
        return f"{quote(self.catalog)}.{quote(self.schema)}.{quote(self.name)}"

    def sibling(self, name: str) -> TableRef:
        return TableRef(self.catalog, self.schema, name)


def database_path(config: Mapping[str, Any]) -> str:
    path = str(config["path"])
    return path if path == MEMORY else str(Path(path).expanduser())


def memory_limit(config: Mapping[str, Any]) -> str:
    return str(config.get("memory_limit") or "128MB")


def connect(path: str, limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with UTC as its session time zone (timestamp casts must not depend on the host).

    For a file database the buffer pool is capped: DuckDB otherwise keeps every block it wrote in
    memory (up to 80% of RAM), so a sync's peak memory would grow with the size of the table.
    """
    if path != MEMORY:
        _make_parent(path)
    try:
        con = duckdb.connect(path)
    except duckdb.Error as exc:
        raise open_error(path, exc) from None
    con.execute("SET TimeZone = 'UTC'")
    if path != MEMORY and limit:
        con.execute(f"SET memory_limit = '{limit}'")
        # Hand freed buffers back to the OS promptly instead of keeping them cached in the allocator.
        con.execute("SET allocator_flush_threshold = '32MB'")
    return con


def _make_parent(path: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the directory for the DuckDB database {path}: {exc.strerror or exc}",
            hint="Set 'path' to a file in a directory this process may write.",
            field="path",
        ) from None


def open_error(path: str, exc: Exception) -> FerryError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "lock" in text.lower():
        return TransientError(
            f"the DuckDB database {path} is in use by another process: {text}",
            hint="DuckDB allows one writing process per file; retry when the other process has finished.",
            field="path",
        )
    return ConfigError(
        f"cannot open the DuckDB database {path}: {text}",
        hint="Set 'path' to a DuckDB file (created if missing) that this process may write, or ':memory:'.",
        field="path",
    )


def current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_database()").fetchone()
    assert row is not None
    return str(row[0])
