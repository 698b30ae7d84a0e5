"""Record batches into a DuckDB table through DuckDB's Arrow scan: one INSERT ... SELECT per group of batches.

Nothing here touches a row in Python. Each batch is narrowed to the stream's columns and given its
`emitted_at` as a run-end encoded column (one value, no per-row memory); small batches of the same
shape are grouped so that DuckDB sees large scans. The metadata columns are computed in SQL:
`uuid()` for `_airbyte_raw_id`, a constant JSON literal for `_airbyte_meta` unless the batch carries
per-row changes, in which case `to_json` builds them from the changes column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.casting import RowChanges, with_changes
from ferry.cdk.identifiers import quote
from ferry.cdk.schema import CHANGES_COLUMN, Kind
from ferry.connectors.destinations.duckdb.columns import JSON, UUID, canonical
from ferry.connectors.destinations.duckdb.plan import ColumnPlan, StreamPlan
from ferry.connectors.destinations.duckdb.tables import EXTRACTED_AT, GENERATION_ID, META, RAW_ID, ColumnTypes

_VIEW = "_ferry_batch"
# Narrowed batches name their columns by table identifier; these two names contain ':', which no
# identifier does, so they cannot clash with a stream column.
_CHANGES = "ferry:changes"
_EXTRACTED = "ferry:extracted_at"
_EXTRACTED_TYPE = pa.timestamp("ms", tz="UTC")

ROW_GROUP = 122_880
"""DuckDB's row group size."""

GROUP_ROWS = 4 * ROW_GROUP
"""Most rows per INSERT. Large INSERTs let DuckDB convert and compress on several threads, but only
when fed whole row groups: the batches are re-cut at row-group boundaries first, because a parallel
INSERT of ragged batches leaves partial row groups that DuckDB's checkpoint then merges by rewriting
the table (measured on DuckDB 2.0: the file doubled and closing took as long as loading)."""


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which columns of an incoming batch are loaded, and as which table column."""

    columns: tuple[tuple[int, ColumnPlan], ...]
    changes_index: int | None


def _is_text(dtype: pa.DataType) -> bool:
    if pa.types.is_dictionary(dtype):
        return _is_text(dtype.value_type)
    return bool(
        pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype)
    )


def value_sql(column_sql: str, dtype: pa.DataType, kind: Kind, table_type: str) -> str:
    """The SQL for one incoming column, as the table column's type needs it."""
    if canonical(table_type) != JSON:
        return column_sql  # INSERT casts to the column type; widening guarantees the cast exists
    if kind is Kind.JSON and _is_text(dtype):
        # JSON text goes in as is; text that does not parse is kept as a JSON string, not lost.
        return f"COALESCE(TRY_CAST({column_sql} AS JSON), to_json({column_sql}))"
    return f"to_json({column_sql})"


@dataclass(slots=True)
class StreamLoader:
    """Loads one stream's batches into `target` (a final, staging or per-commit buffer table)."""

    plan: StreamPlan
    target_sql: str
    table_types: ColumnTypes
    rows_loaded: int = 0
    """Rows inserted into the target since the writer last reset this (a dedup merge is due when > 0)."""
    rows_reported: int = 0
    """Rows DuckDB reported inserted since the writer last took this count (what commit() reports)."""
    _by_source: dict[str, ColumnPlan] = field(init=False)
    _by_name: dict[str, ColumnPlan] = field(init=False)
    _shapes: dict[pa.Schema, _Shape] = field(init=False, default_factory=dict)
    _group: list[pa.RecordBatch] = field(init=False, default_factory=list)
    _group_rows: int = field(init=False, default=0)
    _group_bytes: int = field(init=False, default=0)
    _sql: dict[pa.Schema, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_source = {c.source: c for c in self.plan.columns}
        self._by_name = {c.name: c for c in self.plan.columns}

    @property
    def buffered_bytes(self) -> int:
        return self._group_bytes

    def add(self, con: duckdb.DuckDBPyConnection, data: pa.RecordBatch, emitted_at_ms: int) -> None:
        """Queue a batch; a full group, or one of another shape, is inserted first."""
        if data.num_rows == 0:
            return
        narrowed = self._narrow(data, emitted_at_ms)
        if self._group and not narrowed.schema.equals(self._group[0].schema):
            self.flush(con)
        offset = 0
        while offset < narrowed.num_rows:
            # Zero-copy slices keep every INSERT within GROUP_ROWS, however large the incoming batch.
            part = narrowed.slice(offset, GROUP_ROWS - self._group_rows)
            offset += part.num_rows
            self._group.append(part)
            self._group_rows += part.num_rows
            self._group_bytes += part.nbytes
            if self._group_rows >= GROUP_ROWS:
                self.flush(con)

    def flush(self, con: duckdb.DuckDBPyConnection, *, whole_row_groups: bool = False) -> int:
        """Insert the queued batches; returns the number of rows inserted. With `whole_row_groups`,
        rows beyond the last whole DuckDB row group stay queued (a partial row group in the middle of
        the table is what the checkpoint would rewrite)."""
        if not self._group:
            return 0
        table = _row_groups(self._group)
        keep = table.num_rows % ROW_GROUP if whole_row_groups and table.num_rows >= ROW_GROUP else 0
        self._group = table.slice(table.num_rows - keep).to_batches() if keep else []
        self._group_rows = keep
        self._group_bytes = sum(b.nbytes for b in self._group)
        return self._insert(con, table.slice(0, table.num_rows - keep))

    def _insert(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
        con.register(_VIEW, table)
        try:
            if self._has_bad_uuids(con, table.schema):
                con.unregister(_VIEW)
                table = self._null_bad_uuids(con, table)
                con.register(_VIEW, table)
            row = con.execute(self._insert_sql(table.schema)).fetchone()
        finally:
            con.unregister(_VIEW)
        self.rows_reported += int(row[0]) if row else 0
        self.rows_loaded += table.num_rows
        return table.num_rows

    def _uuid_columns(self, schema: pa.Schema) -> list[ColumnPlan]:
        """The UUID table columns this batch fills from text (which DuckDB casts on INSERT)."""
        return [
            c
            for f in schema
            if (c := self._by_name.get(f.name)) is not None
            and canonical(self.table_types[c.name]) == UUID
            and _is_text(f.type)
        ]

    def _has_bad_uuids(self, con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> bool:
        """True when a text value would not cast to UUID (one vectorised pass; a failed cast inside the
        INSERT would abort the whole transaction)."""
        columns = self._uuid_columns(schema)
        if not columns:
            return False
        counts = ", ".join(
            f"count(*) FILTER (WHERE {quote(c.name)} IS NOT NULL AND TRY_CAST({quote(c.name)} AS UUID) IS NULL)"
            for c in columns
        )
        rows = con.execute(f"SELECT {counts} FROM {quote(_VIEW)}").fetchall()
        return any(any(row) for row in rows)

    def _null_bad_uuids(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Table:
        """`table` with the values that are not UUIDs NULLed, each noted in the row's changes."""
        table = table.combine_chunks()
        position = "ferry:row"
        indexed = table.append_column(position, pa.array(np.arange(table.num_rows, dtype=np.int64)))
        changes: RowChanges = [None] * table.num_rows
        con.register(_VIEW, indexed)
        try:
            for column in self._uuid_columns(table.schema):
                name = quote(column.name)
                found = con.execute(
                    f"SELECT {quote(position)} FROM {quote(_VIEW)} "
                    f"WHERE {name} IS NOT NULL AND TRY_CAST({name} AS UUID) IS NULL"
                ).fetchall()
                rows = np.array([r[0] for r in found], dtype=np.int64)
                mask = np.zeros(table.num_rows, dtype=bool)
                mask[rows] = True
                index = table.schema.get_field_index(column.name)
                values = table.column(index)
                kept = pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)
                table = table.set_column(index, column.name, kept)
                entry = {
                    "field": column.source,
                    "change": "NULLED",
                    "reason": "DESTINATION_SERIALIZATION_ERROR",
                }
                for row in rows.tolist():
                    changes[row] = [*(changes[row] or []), entry]
        finally:
            con.unregister(_VIEW)
        return with_changes(table, changes, column=_CHANGES)

    def _shape(self, schema: pa.Schema) -> _Shape:
        shape = self._shapes.get(schema)
        if shape is None:
            columns = tuple(
                (i, self._by_source[f.name]) for i, f in enumerate(schema) if f.name in self._by_source
            )
            changes = schema.get_field_index(CHANGES_COLUMN)
            shape = self._shapes[schema] = _Shape(columns, changes if changes >= 0 else None)
        return shape

    def _narrow(self, data: pa.RecordBatch, emitted_at_ms: int) -> pa.RecordBatch:
        """The batch's loaded columns named by table identifier (unique even where source names differ
        only in case, which DuckDB would not tell apart), plus the changes and the extraction time."""
        shape = self._shape(data.schema)
        arrays = [data.column(i) for i, _ in shape.columns]
        names = [column.name for _, column in shape.columns]
        if shape.changes_index is not None:
            arrays.append(data.column(shape.changes_index))
            names.append(_CHANGES)
        arrays.append(_constant(emitted_at_ms, data.num_rows))
        names.append(_EXTRACTED)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def _insert_sql(self, schema: pa.Schema) -> str:
        sql = self._sql.get(schema)
        if sql is None:
            sql = self._sql[schema] = self._build_sql(schema)
        return sql

    def _build_sql(self, schema: pa.Schema) -> str:
        plan = self.plan
        targets: list[str] = []
        values: list[str] = []
        for f in schema:
            column = self._by_name.get(f.name)
            if column is not None:
                targets.append(quote(column.name))
                values.append(value_sql(quote(f.name), f.type, column.kind, self.table_types[column.name]))
        targets += [quote(RAW_ID), quote(EXTRACTED_AT), quote(META), quote(GENERATION_ID)]
        values += [
            "uuid()",
            quote(_EXTRACTED),
            meta_sql(plan.sync_id, _CHANGES in schema.names),
            "NULL" if plan.generation_id is None else str(int(plan.generation_id)),
        ]
        return (
            f"INSERT INTO {self.target_sql} ({', '.join(targets)}) "
            f"SELECT {', '.join(values)} FROM {quote(_VIEW)}"
        )


def meta_sql(sync_id: int | None, has_changes: bool) -> str:
    """`_airbyte_meta` for each row: {"sync_id": ..., "changes": [...]}."""
    sync = "NULL" if sync_id is None else str(int(sync_id))
    if has_changes:
        return (
            f"json_object('sync_id', {sync}, 'changes', "
            f"COALESCE(to_json({quote(_CHANGES)}), CAST('[]' AS JSON)))"
        )
    literal = orjson.dumps({"sync_id": sync_id, "changes": []}).decode()
    return f"CAST('{literal}' AS JSON)"


def _row_groups(batches: list[pa.RecordBatch]) -> pa.Table:
    """The batches as one table whose chunks are whole DuckDB row groups (one copy of the data)."""
    table = pa.Table.from_batches(batches)
    if len(batches) == 1 and batches[0].num_rows <= ROW_GROUP:
        return table
    return pa.Table.from_batches(table.combine_chunks().to_batches(max_chunksize=ROW_GROUP))


def _constant(emitted_at_ms: int, rows: int) -> pa.Array[Any]:
    """`rows` copies of one timestamp, stored once (run-end encoded)."""
    run_ends = pa.array([rows], type=pa.int32())
    return pa.RunEndEncodedArray.from_arrays(run_ends, pa.array([emitted_at_ms], type=_EXTRACTED_TYPE))
