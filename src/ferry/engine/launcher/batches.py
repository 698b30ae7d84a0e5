"""The JSON boundary: records from an external source into typed Arrow batches, and batches back into
RECORD lines for an external destination.

Incoming records are collected per stream and typed by the stream's StreamTyper, the same typed path
built-in connectors take: values that do not fit become NULL with a reason. `RowTyper` first tries
to convert all plain columns in one pass of Arrow's C++ converter (dicts to a struct array), and
timestamps and dates with Arrow's ISO-8601 parser; any column that does not convert cleanly there
goes through the kit's value-by-value casting, and a batch that does not convert goes whole through
StreamTyper.from_rows. Either way the result is the one from_rows gives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from ferry.cdk import CHANGES_COLUMN, Column, Kind, RecordBatch, StreamTyper, is_json_field
from ferry.cdk.casting import RowChanges, cast_values, with_changes
from ferry.engine.launcher.blocks import BlockParser
from ferry.protocol import StreamDescriptor, dumps

_NO_COLUMNS = "_ferry_no_columns"
_ARROW_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    TypeError,
    ValueError,
    OverflowError,
)
# Kinds whose Python values Arrow's converter takes exactly as casting.cast_values' fast path does.
_DIRECT = {Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN}
# Kinds parsed from text by Arrow's cast (ISO 8601) when every value is text Arrow accepts.
_PARSED = {Kind.TIMESTAMP_TZ: pa.timestamp("us", tz="UTC"), Kind.DATE: pa.date32()}


class RowTyper:
    """Typed Arrow batches from record dicts, a column at a time in C++ where the values allow it."""

    def __init__(self, typer: StreamTyper) -> None:
        self.typer = typer
        fields = [
            pa.field(c.name, c.arrow_type if c.kind in _DIRECT else pa.string())
            for c in typer.columns
            if c.kind in _DIRECT or c.kind in _PARSED
        ]
        self._struct = pa.struct(fields) if fields else None

    def from_rows(self, rows: list[dict[str, Any]], changes: RowChanges | None = None) -> pa.RecordBatch:
        if self._struct is None:
            return self.typer.from_rows(rows, changes)
        try:
            plain: Any = pa.array(rows, type=self._struct)  # a StructArray
        except _ARROW_ERRORS:
            return self.typer.from_rows(rows, changes)  # some value needs the kit's casting rules
        row_changes: RowChanges = changes if changes is not None else [None] * len(rows)
        arrays = [self._column(c, plain, rows, row_changes) for c in self.typer.columns]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.typer.schema)
        return with_changes(batch, row_changes)

    def _column(
        self, column: Column, plain: pa.StructArray, rows: list[dict[str, Any]], changes: RowChanges
    ) -> pa.Array[Any]:
        name = column.name
        if column.kind in _DIRECT:
            return plain.field(name)
        if column.kind in _PARSED:
            text = plain.field(name)
            try:
                return text.cast(_PARSED[column.kind])
            except _ARROW_ERRORS:
                return cast_values(text.to_pylist(), column, changes)
        return cast_values([r.get(name) for r in rows], column, changes)


class JsonBatcher:
    """Collects one stream's records and cuts them into typed batches of bounded rows and bytes.

    Plain RECORD lines are kept as bytes and parsed a block at a time by Arrow (`BlockParser`);
    records that needed a full parse arrive as dicts. Order is kept: a switch from one kind to the
    other closes the batch in progress.
    """

    def __init__(
        self, stream: StreamDescriptor, typer: StreamTyper, max_rows: int, max_bytes: int = 16 << 20
    ) -> None:
        self.stream = stream
        self.typer = RowTyper(typer)
        self.blocks = BlockParser(typer)
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._text: list[bytes] = []
        self._text_rows = 0
        self._rows: list[dict[str, Any]] = []
        self._changes: RowChanges | None = None
        self._ready: list[RecordBatch] = []
        self._bytes = 0
        self._emitted_at = 0

    def add_line(self, line: bytes) -> bool:
        """Add a plain RECORD line (without its newline); True when batches are ready to be flushed."""
        if self._rows:
            self._close_rows()
        self._text += (line, b"\n")
        self._text_rows += 1
        self._bytes += len(line)
        return self._full(self._text_rows)

    def add_lines(self, block: bytes, rows: int) -> bool:
        """Add `rows` plain RECORD lines, each ending with a newline; True when batches are ready."""
        if self._rows:
            self._close_rows()
        self._text.append(block)
        self._text_rows += rows
        self._bytes += len(block)
        return self._full(self._text_rows)

    def add(self, data: dict[str, Any], emitted_at: int, size: int) -> bool:
        """Add one parsed record; True when batches are ready to be flushed."""
        if self._text:
            self._close_text()
        self._rows.append(data)
        if self._changes is not None:
            self._changes.append(None)
        self._emitted_at = max(self._emitted_at, emitted_at)
        self._bytes += size
        return self._full(len(self._rows))

    def add_with_changes(
        self, data: dict[str, Any], emitted_at: int, size: int, changes: list[dict[str, str]]
    ) -> bool:
        """Add a record the source already marked (`meta.changes`): the marks travel with the row."""
        if self._text:
            self._close_text()
        if self._changes is None:
            self._changes = [None] * len(self._rows)
        full = self.add(data, emitted_at, size)
        self._changes[-1] = changes
        return full

    def _full(self, rows: int) -> bool:
        return bool(self._ready) or rows >= self.max_rows or self._bytes >= self.max_bytes

    def flush(self) -> list[RecordBatch]:
        if self._text:
            self._close_text()
        if self._rows:
            self._close_rows()
        ready, self._ready = self._ready, []
        return ready

    def _close_rows(self) -> None:
        rows, changes = self._rows, self._changes
        self._rows, self._changes, self._bytes = [], None, 0
        self._ready.append(RecordBatch(self.stream, self.typer.from_rows(rows, changes), self._emitted_at))
        self._emitted_at = 0

    def _close_text(self) -> None:
        text, rows = b"".join(self._text), self._text_rows
        self._text, self._text_rows, self._bytes = [], 0, 0
        parsed = self.blocks.parse(text, rows)
        if parsed is not None:
            self._ready.append(RecordBatch(self.stream, parsed[0], parsed[1]))
            return
        for line in text.split(b"\n"):  # Arrow refused the block: each record the careful way
            if not line.strip():
                continue
            record = orjson.loads(line)["record"]
            data, emitted_at = record.get("data"), record.get("emitted_at")
            if type(data) is dict and isinstance(emitted_at, int | float):
                self._rows.append(data)
                self._emitted_at = max(self._emitted_at, int(emitted_at))
            # else: not a record; the source's count at its next state shows the gap
        if self._rows:
            self._close_rows()


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
