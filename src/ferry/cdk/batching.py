"""Ferry's in-process record message (an Arrow batch of one stream) and the builders that make one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ferry.cdk.casting import RowChanges, cast_values, conform_array, with_changes
from ferry.cdk.schema import CHANGES_COLUMN, CHANGES_TYPE, Column, arrow_schema, columns_of
from ferry.cdk.schema import nulls as _nulls
from ferry.protocol import RecordMessage, StreamDescriptor


@dataclass(slots=True)
class RecordBatch:
    """Many records of one stream, typed by the stream's schema, moving between Ferry's own connectors.

    `data` holds one column per schema property (in schema order) and, when some row has one, the
    CHANGES_COLUMN with that row's `_airbyte_meta.changes`. `emitted_at` is epoch milliseconds.
    """

    stream: StreamDescriptor
    data: pa.RecordBatch
    emitted_at: int

    @property
    def num_rows(self) -> int:
        return self.data.num_rows


class StreamTyper:
    """Turns a stream's records (dicts or Arrow) into batches of the stream's Arrow schema."""

    def __init__(self, json_schema: dict[str, Any]) -> None:
        self.columns: list[Column] = columns_of(json_schema)
        self.schema = arrow_schema(json_schema)
        self._names = [c.name for c in self.columns]

    def from_rows(self, rows: list[dict[str, Any]], row_changes: RowChanges | None = None) -> pa.RecordBatch:
        changes: RowChanges = row_changes if row_changes is not None else [None] * len(rows)
        arrays = [cast_values([r.get(c.name) for r in rows], c, changes) for c in self.columns]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema) if arrays else _empty_rows(len(rows))
        return with_changes(batch, changes)

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """`batch` with exactly the schema's columns and types; unknown columns are dropped."""
        if batch.schema.equals(self.schema, check_metadata=False) and batch.num_columns == len(self.columns):
            return batch
        changes: RowChanges = [None] * batch.num_rows
        arrays: list[pa.Array[Any]] = []
        fields: list[pa.Field[Any]] = []
        names = batch.schema.names
        for column, target in zip(self.columns, self.schema, strict=True):
            if column.name in names:
                array = conform_array(batch.column(column.name), column, changes)
            else:
                array = _nulls(batch.num_rows, column.arrow_type)
            arrays.append(array)
            fields.append(target.with_type(array.type))
        if CHANGES_COLUMN in names:
            arrays.append(batch.column(CHANGES_COLUMN).cast(CHANGES_TYPE))
            fields.append(pa.field(CHANGES_COLUMN, CHANGES_TYPE))
        out = (
            pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
            if arrays
            else _empty_rows(batch.num_rows)
        )
        return with_changes(out, changes)


def _empty_rows(n: int) -> pa.RecordBatch:
    # A stream with no columns still has rows; they carry only the metadata columns downstream.
    return pa.RecordBatch.from_arrays([pa.nulls(n, pa.null())], names=["_ferry_no_columns"])


class RecordBuffer:
    """Collects RECORD messages of one stream and cuts them into typed batches of bounded size."""

    def __init__(
        self, stream: StreamDescriptor, typer: StreamTyper, max_rows: int = 10_000, max_bytes: int = 16 << 20
    ):
        self.stream = stream
        self.typer = typer
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._rows: list[dict[str, Any]] = []
        self._changes: RowChanges = []
        self._any_changes = False
        self._bytes = 0
        self._emitted_at = 0

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, record: RecordMessage, approx_bytes: int = 0) -> bool:
        """Add one record; True when the buffer is full and should be flushed."""
        self._rows.append(record.data)
        changes = None
        if record.meta is not None and record.meta.changes:
            changes = [
                {"field": c.field, "change": c.change.value, "reason": c.reason.value}
                for c in record.meta.changes
            ]
            self._any_changes = True
        self._changes.append(changes)
        self._emitted_at = max(self._emitted_at, record.emitted_at)
        self._bytes += approx_bytes or 64 * (len(record.data) + 1)
        return len(self._rows) >= self.max_rows or self._bytes >= self.max_bytes

    def flush(self) -> Iterator[RecordBatch]:
        if not self._rows:
            return
        rows, changes = self._rows, self._changes if self._any_changes else None
        self._rows, self._changes, self._bytes, self._any_changes = [], [], 0, False
        yield RecordBatch(self.stream, self.typer.from_rows(rows, changes), self._emitted_at)
