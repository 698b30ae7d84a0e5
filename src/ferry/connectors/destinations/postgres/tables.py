"""Final, staging and side tables: create them, evolve them to a stream's schema, swap a staged generation in.

Evolution only ever adds: a new stream column becomes a new table column (ALTER TABLE ADD COLUMN),
and a changed type widens (see `columns.widen`) with the stored values converted in place
(ALTER COLUMN TYPE ... USING). Columns are never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ferry.cdk.identifiers import quote
from ferry.connectors.destinations.postgres.columns import BIGINT, JSONB, TIMESTAMPTZ, UUID, conversion, widen
from ferry.connectors.destinations.postgres.encoding import EXTRACTED_AT, GENERATION_ID, META, RAW_ID

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

# Airbyte's final-table layout puts the metadata columns first.
META_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (RAW_ID, UUID, " NOT NULL"),
    (EXTRACTED_AT, TIMESTAMPTZ, " NOT NULL"),
    (META, JSONB, " NOT NULL"),
    (GENERATION_ID, BIGINT, ""),
)

ColumnTypes = dict[str, str]
"""Column identifier -> type (as `format_type` spells it), in table order."""


@dataclass(frozen=True, slots=True)
class TableRef:
    schema: str
    name: str

    @property
    def sql(self) -> str:
        return f"{quote(self.schema)}.{quote(self.name)}"

    def sibling(self, name: str) -> TableRef:
        return TableRef(self.schema, name)


def create_schema(con: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    # Checked first: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database, which a user
    # writing into an existing schema may lack.
    found = con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
    if found is None:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")


def existing_columns(con: psycopg.Connection[tuple[object, ...]], ref: TableRef) -> ColumnTypes | None:
    """The table's columns and types, or None when there is no such table."""
    rows = con.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [ref.schema, ref.name],
    ).fetchall()
    if rows:
        return {str(name): str(dtype) for name, dtype in rows}
    exists = con.execute("SELECT to_regclass(%s)", [ref.sql]).fetchone()
    return {} if exists is not None and exists[0] is not None else None


def ensure_table(
    con: psycopg.Connection[tuple[object, ...]], ref: TableRef, columns: Sequence[tuple[str, str]]
) -> ColumnTypes:
    """Create `ref`, or bring an existing one up to `columns` (name, type); returns all its column types."""
    current = existing_columns(con, ref)
    if current is None:
        defs = [f"{quote(name)} {dtype}{constraint}" for name, dtype, constraint in META_COLUMNS]
        defs += [f"{quote(name)} {dtype}" for name, dtype in columns]
        con.execute(f"CREATE TABLE {ref.sql} ({', '.join(defs)})")
        return {**{name: dtype for name, dtype, _ in META_COLUMNS}, **dict(columns)}
    for name, dtype, _ in META_COLUMNS:
        if name not in current:
            _add_column(con, ref, name, dtype)
            current[name] = dtype
    for name, dtype in columns:
        if name not in current:
            _add_column(con, ref, name, dtype)
            current[name] = dtype
        else:
            current[name] = _widen_column(con, ref, name, current[name], dtype)
    return current


def _add_column(con: psycopg.Connection[tuple[object, ...]], ref: TableRef, name: str, dtype: str) -> None:
    log.info("adding column %s %s to table %s", name, dtype, ref.sql)
    con.execute(f"ALTER TABLE {ref.sql} ADD COLUMN {quote(name)} {dtype}")


def _widen_column(
    con: psycopg.Connection[tuple[object, ...]], ref: TableRef, name: str, current: str, wanted: str
) -> str:
    target = widen(current, wanted)
    if target == current:
        return current
    log.info("changing column %s of table %s from %s to %s", name, ref.sql, current, target)
    col = quote(name)
    con.execute(f"ALTER TABLE {ref.sql} ALTER COLUMN {col} TYPE {target} USING {conversion(col, target)}")
    return target


def ensure_key_index(
    con: psycopg.Connection[tuple[object, ...]], ref: TableRef, index: str, key: Sequence[str]
) -> None:
    """An index on the key as the merge compares it (`ARRAY[k]`, equal when both are NULL), so that a
    merge finds the stored rows of its keys without reading the whole table."""
    parts = ", ".join(f"(ARRAY[{quote(k)}])" for k in key)
    con.execute(f"CREATE INDEX IF NOT EXISTS {quote(index)} ON {ref.sql} ({parts})")


def has_generation(
    con: psycopg.Connection[tuple[object, ...]], ref: TableRef, generation_id: int | None
) -> bool:
    row = con.execute(
        f"SELECT EXISTS (SELECT 1 FROM {ref.sql} WHERE {quote(GENERATION_ID)} IS NOT DISTINCT FROM %s)",
        [generation_id],
    ).fetchone()
    return bool(row and row[0])


def drop_other_generations(
    con: psycopg.Connection[tuple[object, ...]], ref: TableRef, generation_id: int | None
) -> int:
    """Delete rows of any generation but `generation_id`; returns how many rows remain.

    A staged generation survives a crash so that the next attempt of the same generation resumes it;
    rows of another generation belong to a sync that never completed and must not be swapped in.
    """
    con.execute(f"DELETE FROM {ref.sql} WHERE {quote(GENERATION_ID)} IS DISTINCT FROM %s", [generation_id])
    row = con.execute(f"SELECT count(*) FROM {ref.sql}").fetchone()
    return int(str(row[0])) if row else 0


def drop(con: psycopg.Connection[tuple[object, ...]], ref: TableRef) -> None:
    con.execute(f"DROP TABLE IF EXISTS {ref.sql}")


def swap_in(
    con: psycopg.Connection[tuple[object, ...]],
    staging: TableRef,
    final: TableRef,
    indexes: Mapping[str, str] | None = None,
) -> None:
    """Replace `final` by `staging` inside the caller's transaction: readers see the old table until the
    commit and the new one after it, never an empty one. `indexes` renames staging indexes to final names."""
    drop(con, final)
    con.execute(f"ALTER TABLE {staging.sql} RENAME TO {quote(final.name)}")
    for old, new in (indexes or {}).items():
        con.execute(f"ALTER INDEX IF EXISTS {quote(staging.schema)}.{quote(old)} RENAME TO {quote(new)}")


def create_pending(
    con: psycopg.Connection[tuple[object, ...]], name: str, like: TableRef, seq: str
) -> TableRef:
    """A temporary table shaped like `like` plus an arrival-order column: a dedup stream's rows of one
    commit interval, merged and emptied at every commit."""
    con.execute(f"DROP TABLE IF EXISTS pg_temp.{quote(name)}")
    con.execute(
        f"CREATE TEMP TABLE {quote(name)} (LIKE {like.sql}, {quote(seq)} bigint GENERATED ALWAYS AS IDENTITY)"
    )
    return TableRef("pg_temp", name)


def replace_tombstones(
    con: psycopg.Connection[tuple[object, ...]], staging: TableRef, tombstones: TableRef, deleted_at: str
) -> None:
    """Before a deduplicated generation is swapped in: its deletions become the stream's tombstones
    (replacing those of the generation it replaces) and leave the staging table."""
    deleted = quote(deleted_at)
    drop(con, tombstones)
    con.execute(f"CREATE TABLE {tombstones.sql} (LIKE {staging.sql})")
    con.execute(f"INSERT INTO {tombstones.sql} SELECT * FROM {staging.sql} WHERE {deleted} IS NOT NULL")
    con.execute(f"DELETE FROM {staging.sql} WHERE {deleted} IS NOT NULL")
