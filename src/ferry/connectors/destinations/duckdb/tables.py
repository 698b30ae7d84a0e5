"""Final and staging tables: create them, evolve them to a stream's schema, swap a staged generation in.

Evolution only ever adds: a new stream column becomes a new table column, and a changed type widens
(see `columns.widen`) with the stored values converted in place. Columns are never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb

from ferry.cdk.identifiers import quote
from ferry.connectors.destinations.duckdb.columns import (
    BIGINT,
    DOUBLE,
    DOUBLE_EXACT_LIMIT,
    VARCHAR,
    canonical,
    conversion,
    widen,
)
from ferry.connectors.destinations.duckdb.connection import TableRef
from ferry.connectors.destinations.duckdb.plan import ColumnPlan

log = logging.getLogger(__name__)

RAW_ID = "_airbyte_raw_id"
EXTRACTED_AT = "_airbyte_extracted_at"
META = "_airbyte_meta"
GENERATION_ID = "_airbyte_generation_id"

# Airbyte's final-table layout puts the metadata columns first.
META_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # DuckDB's native UUID: 16 bytes, no string compression cost; SQL shows and compares it as text.
    (RAW_ID, "UUID", " NOT NULL"),
    (EXTRACTED_AT, "TIMESTAMPTZ", " NOT NULL"),
    (META, "JSON", " NOT NULL"),
    (GENERATION_ID, BIGINT, ""),
)

_META_NAMES = frozenset(name for name, _, _ in META_COLUMNS)

ColumnTypes = dict[str, str]
"""Column identifier -> DuckDB type, as the table holds it."""


def create_schema(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(catalog)}.{quote(schema)}")


def existing_columns(con: duckdb.DuckDBPyConnection, ref: TableRef) -> ColumnTypes | None:
    """The table's columns (lower-cased names, as DuckDB matches them), or None when it does not exist."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?) ORDER BY column_index",
        [ref.catalog, ref.schema, ref.name],
    ).fetchall()
    return {str(name).lower(): canonical(str(dtype)) for name, dtype in rows} or None


def wanted_types(columns: Sequence[ColumnPlan]) -> ColumnTypes:
    return {c.name: c.sql_type for c in columns}


def ensure_table(con: duckdb.DuckDBPyConnection, ref: TableRef, wanted: ColumnTypes) -> ColumnTypes:
    """Create `ref` with the metadata columns and `wanted` (identifier -> type), or bring an existing
    table up to them; returns the resulting column types, metadata columns first."""
    current = existing_columns(con, ref)
    if current is None:
        _create(con, ref, wanted)
        return {**{name: dtype for name, dtype, _ in META_COLUMNS}, **wanted}
    for name, dtype, _ in META_COLUMNS:
        if name not in current:
            _add_column(con, ref, name, dtype)
            current[name] = dtype
    for name, dtype in wanted.items():
        if name not in current:
            _add_column(con, ref, name, dtype)
            current[name] = dtype
        elif name not in _META_NAMES:
            current[name] = _widen_column(con, ref, name, current[name], dtype)
    return current


def _create(con: duckdb.DuckDBPyConnection, ref: TableRef, wanted: ColumnTypes) -> None:
    defs = [f"{quote(name)} {dtype}{constraint}" for name, dtype, constraint in META_COLUMNS]
    defs += [f"{quote(name)} {dtype}" for name, dtype in wanted.items() if name not in _META_NAMES]
    con.execute(f"CREATE TABLE {ref.sql} ({', '.join(defs)})")


def _add_column(con: duckdb.DuckDBPyConnection, ref: TableRef, name: str, dtype: str) -> None:
    log.info("adding column %s %s to table %s", name, dtype, ref.sql)
    con.execute(f"ALTER TABLE {ref.sql} ADD COLUMN {quote(name)} {dtype}")


def _widen_column(con: duckdb.DuckDBPyConnection, ref: TableRef, name: str, current: str, wanted: str) -> str:
    target = widen(current, wanted)
    if target == DOUBLE and current == BIGINT and _has_inexact_doubles(con, ref, name):
        target = VARCHAR  # DOUBLE would silently change these integers; text keeps them exact
    if target == current:
        return current
    log.info("changing column %s of table %s from %s to %s", name, ref.sql, current, target)
    col = quote(name)
    con.execute(
        f"ALTER TABLE {ref.sql} ALTER COLUMN {col} SET DATA TYPE {target} USING {conversion(col, target)}"
    )
    return target


def _has_inexact_doubles(con: duckdb.DuckDBPyConnection, ref: TableRef, name: str) -> bool:
    limit = DOUBLE_EXACT_LIMIT
    row = con.execute(
        f"SELECT count(*) FROM {ref.sql} WHERE {quote(name)} NOT BETWEEN {-limit} AND {limit}"
    ).fetchone()
    return bool(row and row[0])


def drop_other_generations(
    con: duckdb.DuckDBPyConnection, staging: TableRef, generation_id: int | None
) -> int:
    """Delete staged rows of any generation but `generation_id`; returns how many were kept.

    A staged generation survives a crash so that the next attempt of the same generation resumes it;
    rows of another generation belong to a sync that never completed and must not be swapped in.
    A catalog without generation ids keeps staged rows without one: a resumed attempt cannot be told
    from a fresh sync then, and duplicated rows are the failure to prefer over lost ones.
    """
    con.execute(f"DELETE FROM {staging.sql} WHERE {quote(GENERATION_ID)} IS DISTINCT FROM ?", [generation_id])
    row = con.execute(f"SELECT count(*) FROM {staging.sql}").fetchone()
    return int(row[0]) if row else 0


def holds_generation(con: duckdb.DuckDBPyConnection, ref: TableRef, generation_id: int | None) -> bool:
    """True when `ref` exists and already has rows of `generation_id` (a swap that already happened)."""
    if generation_id is None or existing_columns(con, ref) is None:
        return False
    row = con.execute(
        f"SELECT count(*) FROM {ref.sql} WHERE {quote(GENERATION_ID)} = ?", [generation_id]
    ).fetchone()
    return bool(row and row[0])


def drop(con: duckdb.DuckDBPyConnection, ref: TableRef) -> None:
    con.execute(f"DROP TABLE IF EXISTS {ref.sql}")


def swap_in(con: duckdb.DuckDBPyConnection, staging: TableRef, final: TableRef) -> None:
    """Replace `final` by `staging` (the caller holds the transaction that makes this atomic)."""
    con.execute(f"DROP TABLE IF EXISTS {final.sql}")
    con.execute(f"ALTER TABLE {staging.sql} RENAME TO {quote(final.name)}")


def create_like(con: duckdb.DuckDBPyConnection, temp: TableRef, like: TableRef) -> None:
    """An empty temporary table with the columns of `like` (the per-commit buffer of a dedup stream)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {temp.sql} AS SELECT * FROM {like.sql} LIMIT 0")


def move_tombstones(
    con: duckdb.DuckDBPyConnection,
    staging: TableRef,
    tombstones: TableRef,
    columns: Sequence[str],
    deleted_at: str,
) -> None:
    """Before a deduplicated generation is swapped in: its deletions become the stream's tombstones
    (replacing those of the generation it replaces) and leave the staging table."""
    deleted = quote(deleted_at)
    names = ", ".join(quote(c) for c in columns)
    con.execute(f"DELETE FROM {tombstones.sql}")
    deletions = f"SELECT {names} FROM {staging.sql} WHERE {deleted} IS NOT NULL"
    con.execute(f"INSERT INTO {tombstones.sql} ({names}) {deletions}")
    con.execute(f"DELETE FROM {staging.sql} WHERE {deleted} IS NOT NULL")
