"""The fast path for RECORD lines: a block of one stream's raw lines parsed by Arrow's C++ JSON reader,
typed by the stream's schema in the same step, with no Python object per record.

Only plain lines take it (`{"type":"RECORD","record":{"stream":"S","data":...` with no `namespace`
or `meta`, as the Airbyte CDK writes them). A block Arrow refuses (a value of another type than the
schema's, a record without data) returns None and its lines go through the per-record path, so the
result is always the one the connector kit's casting gives; only faster when the data is clean.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from ferry.cdk import Column, Kind, StreamTyper
from ferry.cdk.casting import RowChanges, cast_values, with_changes
from ferry.cdk.schema import nulls

_BLOCK_BYTES = 4 << 20
_READ_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, pa.ArrowIndexError)
# Parsed by the reader itself into the column's type: the same values the kit's fast path accepts,
# and ISO 8601 timestamps with Arrow's parser (a naive one is UTC, as in casting._to_timestamp_tz).
_TYPED = {Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN, Kind.TIMESTAMP_TZ}
# Read as text, then converted as the kit converts text.
_AS_TEXT = {Kind.DATE, Kind.TIME, Kind.TIMESTAMP}
_NESTED = (pa.types.is_struct, pa.types.is_list, pa.types.is_large_list)


def record_prefix(stream: str) -> bytes:
    """How a plain RECORD line of `stream` starts, byte for byte."""
    import orjson

    return b'{"type":"RECORD","record":{"stream":' + orjson.dumps(stream) + b',"data":'


class BlockParser:
    """Typed Arrow batches from raw RECORD lines of one stream."""

    def __init__(self, typer: StreamTyper) -> None:
        self.typer = typer
        data = [
            pa.field(c.name, c.arrow_type if c.kind in _TYPED else pa.string())
            for c in typer.columns
            if c.kind in _TYPED or c.kind in _AS_TEXT
        ]
        record = pa.struct([("stream", pa.string()), ("data", pa.struct(data)), ("emitted_at", pa.int64())])
        # Objects, arrays and unions (JSON columns) are not named: Arrow infers them, nested as they came.
        self._options = pajson.ParseOptions(
            explicit_schema=pa.schema([("record", record)]), unexpected_field_behavior="infer"
        )

    def parse(self, lines: bytes, rows: int) -> tuple[pa.RecordBatch, int] | None:
        """(batch, newest emitted_at) from `rows` newline-separated lines, or None when Arrow cannot
        take them as they are."""
        try:
            # One thread: the read runs beside the destination's own threads, and Arrow's pool
            # threads each keep a malloc arena (measured: ~80 MB more peak RSS, no faster on 2 cores).
            table = pajson.read_json(
                io.BytesIO(lines),
                read_options=pajson.ReadOptions(block_size=_BLOCK_BYTES, use_threads=False),
                parse_options=self._options,
            )
            record: Any = table.column("record").combine_chunks()  # a StructArray
        except _READ_ERRORS:
            return None
        data, emitted = record.field("data"), record.field("emitted_at")
        if record.null_count or data.null_count or emitted.null_count or len(record) != rows:
            return None
        changes: RowChanges = [None] * rows
        names = set(data.type.names) if hasattr(data.type, "names") else {f.name for f in data.type}
        arrays = [self._column(c, data, names, changes) for c in self.typer.columns]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self._schema(arrays))
        newest = pc.max(emitted).as_py()
        return with_changes(batch, changes), int(newest)

    def _column(self, column: Column, data: Any, names: set[str], changes: RowChanges) -> Any:
        if column.name not in names:
            return nulls(len(data), column.arrow_type)
        values = data.field(column.name)
        if column.kind in _TYPED:
            return values
        if column.kind is Kind.DATE:
            try:
                return values.cast(pa.date32())
            except _READ_ERRORS:
                return cast_values(values.to_pylist(), column, changes)
        if column.kind in _AS_TEXT:
            return cast_values(values.to_pylist(), column, changes)
        if pa.types.is_null(values.type):
            return nulls(len(values), column.arrow_type)
        if any(is_kind(values.type) for is_kind in _NESTED):
            return values  # nested data stays nested, as from the kit's conform()
        return cast_values(values.to_pylist(), column, changes)  # a union seen as one plain type

    def _schema(self, arrays: list[Any]) -> pa.Schema:
        fields = [
            target.with_type(array.type) for target, array in zip(self.typer.schema, arrays, strict=True)
        ]
        return pa.schema(fields)
