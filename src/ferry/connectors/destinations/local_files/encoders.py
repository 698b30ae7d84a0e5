"""Rows to each file format's shape.

- parquet: an Arrow table. Nested JSON columns that arrive as Arrow struct/list stay nested; JSON
  that arrives as text stays a string column (tagged with Ferry's JSON field metadata).
  `_airbyte_meta` is a struct `{sync_id: int64, changes: list<struct<field, change, reason>>}`.
- csv: an Arrow table of flat columns; nested values and `_airbyte_meta` become JSON text and
  timestamps ISO 8601 text (`2024-05-01T12:00:00.000000Z`).
- jsonl: one JSON object per line with real nested JSON (JSON text columns are embedded as JSON,
  exactly as they came); `_airbyte_meta` is a nested object; dates and times are ISO 8601 text.
  NaN and infinities, which JSON cannot hold, are written as the strings "NaN", "Infinity" and
  "-Infinity" rather than silently becoming null.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.schema import CHANGES_TYPE, is_json_field
from ferry.connectors.destinations.local_files.columns import (
    EXTRACTED_AT,
    EXTRACTED_AT_TYPE,
    GENERATION_ID,
    META,
    RAW_ID,
    Rows,
)

META_STRUCT = pa.struct([pa.field("sync_id", pa.int64()), pa.field("changes", CHANGES_TYPE)])
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _json_default(value: Any) -> Any:
    # Types orjson does not know that can sit inside nested Arrow data from an Arrow source.
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(str(value)) if value.is_finite() else str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def to_json(value: Any) -> bytes:
    return orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS)


def _is_nested(dtype: pa.DataType) -> bool:
    return (
        pa.types.is_struct(dtype)
        or pa.types.is_list(dtype)
        or pa.types.is_large_list(dtype)
        or pa.types.is_fixed_size_list(dtype)
        or pa.types.is_map(dtype)
    )


def _leading(rows: Rows, meta: pa.Array[Any]) -> tuple[list[pa.Field[Any]], list[pa.Array[Any]]]:
    fields: list[pa.Field[Any]] = [
        pa.field(RAW_ID, pa.string()),
        pa.field(EXTRACTED_AT, EXTRACTED_AT_TYPE),
        pa.field(META, meta.type),
        pa.field(GENERATION_ID, pa.int64()),
    ]
    return fields, [rows.raw_id, rows.extracted_at, meta, rows.generation_id]


def parquet_table(rows: Rows) -> pa.Table:
    sync_ids = pa.repeat(pa.scalar(rows.sync_id, type=pa.int64()), rows.num_rows)
    meta = pa.StructArray.from_arrays([sync_ids, rows.changes_or_empty()], fields=list(META_STRUCT))
    fields, arrays = _leading(rows, meta)
    return pa.Table.from_arrays([*arrays, *rows.arrays], schema=pa.schema([*fields, *rows.fields]))


def _json_text(array: pa.Array[Any]) -> pa.Array[Any]:
    return pa.array([None if v is None else to_json(v).decode() for v in array.to_pylist()], type=pa.string())


def _meta_text(rows: Rows) -> pa.Array[Any]:
    if rows.changes is None:
        text = to_json({"sync_id": rows.sync_id, "changes": []}).decode()
        return pa.repeat(pa.scalar(text, type=pa.string()), rows.num_rows)
    values = [
        to_json({"sync_id": rows.sync_id, "changes": c or []}).decode() for c in rows.changes.to_pylist()
    ]
    return pa.array(values, type=pa.string())


def csv_table(rows: Rows) -> pa.Table:
    fields, arrays = _leading(rows, _meta_text(rows))
    fields[1], arrays[1] = fields[1].with_type(pa.string()), _iso_text(arrays[1])
    for data_field, column in zip(rows.fields, rows.arrays, strict=True):
        flat = column
        if _is_nested(data_field.type):
            flat = _json_text(column)
        elif pa.types.is_timestamp(data_field.type):
            flat = _iso_text(column)  # the same spelling as jsonl, and much faster than the CSV writer's
        elif pa.types.is_null(data_field.type):
            flat = column.cast(pa.string())  # keeps the header stable whatever later batches hold
        fields.append(data_field.with_type(flat.type))
        arrays.append(flat)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _embed_json(text: str | None) -> Any:
    """JSON text written as itself (exact, big numbers included) once it is known to be valid JSON."""
    if text is None:
        return None
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return text  # not JSON after all (or beyond a double's range): keep the text itself, as a string
    return orjson.Fragment(text)


def _finite_or_text(value: float | None) -> Any:
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _iso_text(column: pa.Array[Any]) -> pa.Array[Any]:
    """Dates, times and timestamps as ISO 8601 text, vectorised (Python datetimes are slow to make)."""
    dtype = column.type
    if not pa.types.is_timestamp(dtype):
        return column.cast(pa.string())
    # Arrow keeps zoned timestamps as UTC, so dropping the zone gives the UTC wall clock; formatting
    # that is several times faster than formatting in the zone.
    text = column.cast(pa.timestamp(dtype.unit)).cast(pa.string())
    text = pc.replace_substring(text, " ", "T", max_replacements=1)
    if dtype.tz is not None:
        # The stubs want arrays only; Arrow broadcasts the scalar suffix and separator itself.
        text = pc.binary_join_element_wise(text, "Z", "")  # type: ignore[call-overload]
    return text


def _python_column(data_field: pa.Field[Any], column: pa.Array[Any]) -> list[Any]:
    dtype = data_field.type
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype) or pa.types.is_time(dtype):
        column = _iso_text(column)
    values: list[Any] = column.to_pylist()
    convert: Callable[[Any], Any] | None = None
    if is_json_field(data_field) and pa.types.is_string(data_field.type):
        convert = _embed_json
    elif pa.types.is_floating(data_field.type) and not pc.all(pc.is_finite(column.fill_null(0.0))).as_py():
        convert = _finite_or_text
    elif pa.types.is_map(data_field.type):
        convert = _map_as_object
    return [convert(v) for v in values] if convert is not None else values


def _map_as_object(value: list[tuple[Any, Any]] | None) -> Any:
    return None if value is None else {str(k): v for k, v in value}


def jsonl_lines(rows: Rows) -> list[bytes]:
    """One JSON object per row, each newline-terminated."""
    names = [RAW_ID, EXTRACTED_AT, META, GENERATION_ID, *(f.name for f in rows.fields)]
    if rows.changes is None:
        shared = orjson.Fragment(to_json({"sync_id": rows.sync_id, "changes": []}))
        metas: list[Any] = [shared] * rows.num_rows
    else:
        metas = [{"sync_id": rows.sync_id, "changes": c or []} for c in rows.changes.to_pylist()]
    columns = [
        rows.raw_id.to_pylist(),
        _iso_text(rows.extracted_at).to_pylist(),
        metas,
        rows.generation_id.to_pylist(),
        *(_python_column(f, a) for f, a in zip(rows.fields, rows.arrays, strict=True)),
    ]
    dumps = to_json
    return [dumps(dict(zip(names, values, strict=True))) + b"\n" for values in zip(*columns, strict=True)]
