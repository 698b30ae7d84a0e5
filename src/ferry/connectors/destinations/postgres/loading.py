"""COPY of one batch into a table, with the row count the server reported; a value the server refuses
never loses the batch.

Each COPY runs under a savepoint. When the server rejects a value (SQLSTATE class 22, data
exception) it names the column; every value of that column in the batch is then tried server-side,
one by one, by a temporary function, and those that fail are replaced: text for a jsonb column
becomes a JSON string (nothing lost), anything else becomes NULL with a reason in
`_airbyte_meta.changes`. Then the COPY is retried. A failure that names no column, or names one
already fixed, is raised: it is not a bad value but a bug or a broken table, and swallowing it
could lose rows.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from ferry.cdk.identifiers import quote
from ferry.connectors.destinations.postgres.columns import JSONB, family
from ferry.connectors.destinations.postgres.encoding import BatchEncoder, Encoded
from ferry.connectors.destinations.postgres.tables import TableRef
from ferry.connectors.destinations.postgres.values import Notes
from ferry.errors import InternalError
from ferry.protocol import Change, Reason

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

CHECKER = "ferry_bad_values"
PROBE = "_ferry_probe"
CHECKER_SQL = f"""
CREATE OR REPLACE FUNCTION pg_temp.{CHECKER}(vals text[], probe regclass)
RETURNS TABLE(pos integer, state text) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. coalesce(array_length(vals, 1), 0) LOOP
    IF vals[i] IS NOT NULL THEN
      BEGIN
        EXECUTE format('INSERT INTO %s VALUES (%L)', probe, vals[i]);
      EXCEPTION WHEN others THEN
        pos := i;
        state := SQLSTATE;
        RETURN NEXT;
      END;
    END IF;
  END LOOP;
END $$
"""
"""Which values a column refuses (position from 1, SQLSTATE). Each value is inserted as an untyped
literal into a one-column probe table of the column's exact type, which applies the same input
function, length and domain checks as COPY. Session-local."""

_COLUMN_IN_CONTEXT = re.compile(r"COPY [^,]+, line \d+, column ([^:]+)")
_OUT_OF_RANGE_STATES = {"22003", "22008", "22001"}


def copy_batch(
    con: psycopg.Connection[tuple[object, ...]],
    table: TableRef,
    *,
    types: dict[str, str],
    encoder: BatchEncoder,
    data: pa.RecordBatch,
    emitted_at_ms: int,
    encoded: Encoded | None = None,
) -> int:
    """COPY `data` into `table` (`encoded` is its payload when already made); returns the number of
    rows the server reports."""
    import psycopg

    replaced: dict[str, pa.Array[Any]] = {}
    rescued = Notes()  # notes of the replaced columns; the others are made afresh by each encode
    for _attempt in range(len(encoder.plan.columns) + 1):
        if encoded is None:
            encoded = encoder.encode(data, emitted_at_ms, replaced, rescued.copy())
        try:
            return _copy(con, table, encoded)
        except psycopg.errors.DataError as exc:
            column = _refused_column(exc)
            if column is None or column in replaced or column not in types:
                raise
            log.warning(
                "table %s refused values of column %s (%s); finding them", table.sql, column, exc.sqlstate
            )
            replaced[column] = _rescue(con, encoder, data, column, types[column], rescued)
            encoded = None
    raise InternalError(f"COPY into {table.sql} kept failing after every column was checked")


def _copy(con: psycopg.Connection[tuple[object, ...]], table: TableRef, encoded: Encoded) -> int:
    """One COPY under a savepoint of the commit's transaction (psycopg's `transaction()` would commit
    on its own when no transaction is open yet, so the savepoint is managed here)."""
    import psycopg

    columns = ", ".join(quote(c) for c in encoded.columns)
    with con.cursor() as cur:
        cur.execute("SAVEPOINT ferry_copy")
        try:
            with cur.copy(f"COPY {table.sql} ({columns}) FROM STDIN (FORMAT {encoded.format})") as copy:
                copy.write(memoryview(encoded.payload))
        except psycopg.errors.DataError:
            cur.execute("ROLLBACK TO SAVEPOINT ferry_copy")
            raise
        rows = cur.rowcount
        cur.execute("RELEASE SAVEPOINT ferry_copy")
        return rows


def _refused_column(exc: Exception) -> str | None:
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return None
    match = _COLUMN_IN_CONTEXT.search(exc.diag.context or "")
    return match.group(1).strip() if match else None


def _rescue(  # noqa: PLR0917 - a private step of copy_batch
    con: psycopg.Connection[tuple[object, ...]],
    encoder: BatchEncoder,
    data: pa.RecordBatch,
    column: str,
    sql_type: str,
    notes: Notes,
) -> pa.Array[Any]:
    """The column's text with every value the server refuses replaced, and noted in `notes`."""
    values = encoder.column_values(data, column, notes).cast(pa.string())
    con.execute(f"DROP TABLE IF EXISTS pg_temp.{PROBE}")
    con.execute(f"CREATE TEMP TABLE {PROBE} (v {sql_type})")
    rows = con.execute(
        f"SELECT pos, state FROM pg_temp.{CHECKER}(%s::text[], 'pg_temp.{PROBE}'::regclass)",
        [values.to_pylist()],
    ).fetchall()
    con.execute(f"DROP TABLE pg_temp.{PROBE}")
    fixed: list[Any] = values.to_pylist()
    as_json = family(sql_type) == JSONB
    for pos, state in rows:
        row = int(str(pos)) - 1
        if as_json:
            fixed[row] = orjson.dumps(fixed[row]).decode()  # kept, as a JSON string
            continue
        fixed[row] = None
        reason = (
            Reason.DESTINATION_FIELD_SIZE_LIMITATION
            if state in _OUT_OF_RANGE_STATES
            else Reason.DESTINATION_SERIALIZATION_ERROR
        )
        notes.add([row], column, Change.NULLED, reason)
    log.warning("column %s: %d value(s) replaced", column, len(rows))
    return pa.array(fixed, pa.string())
