"""The JSON boundary: records from an external source into typed Arrow batches, and batches back into
RECORD lines for an external destination.

Incoming records are collected per stream and typed a column at a time by the stream's StreamTyper,
the same typed path built-in connectors take: values that do not fit become NULL with a reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from ferry.cdk import CHANGES_COLUMN, RecordBatch, StreamTyper, is_json_field
from ferry.cdk.casting import RowChanges
from ferry.protocol import StreamDescriptor, dumps

_NO_COLUMNS = "_ferry_no_columns"


class JsonBatcher:
    """Collects one stream's record dicts and cuts them into typed batches of bounded rows and bytes."""

    __slots__ = ("_bytes", "_changes", "_emitted_at", "_rows", "max_bytes", "max_rows", "stream", "typer")

    def __init__(
        self, stream: StreamDescriptor, typer: StreamTyper, max_rows: int, max_bytes: int = 16 << 20
    ) -> None:
        self.stream = stream
        self.typer = typer
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._rows: list[dict[str, Any]] = []
        self._changes: RowChanges | None = None
        self._bytes = 0
        self._emitted_at = 0

    def add(self, data: dict[str, Any], emitted_at: int, size: int) -> bool:
        """Add one record; True when the batch is full and should be flushed."""
        self._rows.append(data)
        if self._changes is not None:
            self._changes.append(None)
        self._emitted_at = max(self._emitted_at, emitted_at)
        self._bytes += size
        return len(self._rows) >= self.max_rows or self._bytes >= self.max_bytes

    def add_with_changes(
        self, data: dict[str, Any], emitted_at: int, size: int, changes: list[dict[str, str]]
    ) -> bool:
        """Add a record the source already marked (`meta.changes`): the marks travel with the row."""
        if self._changes is None:
            self._changes = [None] * len(self._rows)
        full = self.add(data, emitted_at, size)
        self._changes[-1] = changes
        return full

    def flush(self) -> RecordBatch | None:
        if not self._rows:
            return None
        rows, changes = self._rows, self._changes
        self._rows, self._changes, self._bytes = [], None, 0
        return RecordBatch(self.stream, self.typer.from_rows(rows, changes), self._emitted_at)


def batch_lines(batch: RecordBatch) -> bytes:
    """A batch as RECORD lines. JSON-typed columns (objects, arrays, unions) go out as JSON values again,
    not as the text Ferry keeps them in, and per-row changes become `meta.changes`."""
    data = batch.data
    changes = data.column(CHANGES_COLUMN).to_pylist() if CHANGES_COLUMN in data.schema.names else None
    drop = [n for n in (CHANGES_COLUMN, _NO_COLUMNS) if n in data.schema.names]
    if drop:
        data = data.drop_columns(drop)
    json_fields = [f.name for f in data.schema if is_json_field(f) and pa.types.is_string(f.type)]
    rows = data.to_pylist()
    if json_fields:
        _parse_json_fields(rows, json_fields)
    head: dict[str, Any] = {"stream": batch.stream.name}
    if batch.stream.namespace is not None:
        head["namespace"] = batch.stream.namespace
    head["emitted_at"] = batch.emitted_at
    return b"".join(_record_lines(rows, head, changes))


def _record_lines(
    rows: list[dict[str, Any]], head: dict[str, Any], changes: list[Any] | None
) -> Iterator[bytes]:
    for i, row in enumerate(rows):
        record = {**head, "data": row}
        if changes is not None and changes[i]:
            record["meta"] = {"changes": changes[i]}
        yield dumps({"type": "RECORD", "record": record})


def _parse_json_fields(rows: list[dict[str, Any]], fields: list[str]) -> None:
    loads = orjson.loads
    for row in rows:
        for name in fields:
            value = row[name]
            if value is not None:
                with contextlib.suppress(orjson.JSONDecodeError):  # text that was never JSON stays text
                    row[name] = loads(value)
