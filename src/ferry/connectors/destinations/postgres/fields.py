"""One Arrow column as binary COPY fields for its table column, or None when binary cannot carry it.

Native encodings cover the column types Ferry creates (and the same types in tables made by
others): bigint, boolean, date, timestamp(tz), time and numeric from their Arrow types, and text,
varchar, json and jsonb from the text `values.column_text` makes (which also fixes what PostgreSQL
refuses). Anything else (a user's `integer` or `real` column, say) makes the batch go as CSV, whose
text every type parses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ferry.connectors.destinations.postgres import binary
from ferry.connectors.destinations.postgres.columns import without_modifiers
from ferry.connectors.destinations.postgres.values import (
    Notes,
    Target,
    column_text,
    date_days,
    timestamp_micros,
)

JSONB_VERSION = b"\x01"
_TEXTUAL = ("text", "character varying", "jsonb", "json")


def base_type(sql_type: str) -> str:
    return without_modifiers(sql_type)


def is_textual(sql_type: str) -> bool:
    return base_type(sql_type) in _TEXTUAL


def text_field(text: pa.Array[Any], sql_type: str) -> pa.Array[Any]:
    prefix = JSONB_VERSION if base_type(sql_type) == "jsonb" else b""
    return binary.varlena(text.cast(pa.string()), prefix)


def column_field(array: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any] | None:
    """`array` as binary COPY fields of `target`'s type, or None when this pair has no binary encoding."""
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    dtype, sql_type = array.type, target.sql_type
    if pa.types.is_null(dtype):
        return binary.constant(None, len(array))
    if is_textual(sql_type):
        return text_field(column_text(array, target, notes), sql_type)
    base = base_type(sql_type)
    if base == "numeric" and (
        pa.types.is_floating(dtype) or pa.types.is_integer(dtype) or pa.types.is_decimal(dtype)
    ):
        checked = not pa.types.is_decimal(dtype)  # floats' and integers' spellings are Arrow's own
        return binary.numeric(column_text(array, target, notes).cast(pa.string()), checked=checked)
    return _native(array, base, target, notes)


def _valid(array: pa.Array[Any]) -> np.ndarray[Any, Any]:
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _native(array: pa.Array[Any], base: str, target: Target, notes: Notes) -> pa.Array[Any] | None:
    dtype = array.type
    if base == "bigint" and pa.types.is_integer(dtype):
        values = array.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        return binary.fixed(binary.big_endian(values, ">i8"), _valid(array))
    if base == "boolean" and pa.types.is_boolean(dtype):
        flags = array.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8)
        return binary.fixed(flags.reshape(-1, 1), _valid(array))
    if base == "date" and pa.types.is_date(dtype):
        days, loaded = date_days(array, target, notes)
        return binary.fixed(binary.big_endian(days - binary.EPOCH_DAYS, ">i4"), loaded)
    if base.startswith("timestamp") and pa.types.is_timestamp(dtype):
        micros, loaded = timestamp_micros(array, target, notes)
        return binary.fixed(binary.big_endian(micros - binary.EPOCH_MICROS, ">i8"), loaded)
    if base == "time without time zone" and pa.types.is_time(dtype):
        micros = array.cast(pa.time64("us")).cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        return binary.fixed(binary.big_endian(micros, ">i8"), _valid(array))
    return None
