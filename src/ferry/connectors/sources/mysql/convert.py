"""Vectorised conversions of the Arrow columns connectorx returns into the stream's column types.

Each converter takes the raw column (and, for dates, the server's "not a real date" flag) and returns
the converted column plus a mask of the values it turned to NULL, with the reason. No Python runs
per row, except to build `_airbyte_meta.changes` for the rare rows that have one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ferry.protocol import Reason

INT64_MAX = 2**63 - 1
MICROS_PER_DAY = 86_400_000_000

Converted = tuple[Any, Any, Reason]
"""(converted array, boolean mask of values nulled here or None, the reason for those)."""
Converter = Callable[[Any, Any], Converted]

_SERIAL = Reason.SOURCE_SERIALIZATION_ERROR
_SIZE = Reason.SOURCE_FIELD_SIZE_LIMITATION


def _null_where(values: Any, mask: Any) -> Any:
    return pc.if_else(mask, pa.scalar(None, values.type), values)


def _none(values: Any) -> Converted:
    return values, None, _SERIAL


def cast_to(target: pa.DataType) -> Converter:
    def convert(values: Any, flag: Any) -> Converted:
        return _none(values if values.type == target else values.cast(target))

    return convert


def nonzero_bool(values: Any, flag: Any) -> Converted:
    """tinyint(1) and bit(1): any non-zero value is true (as MySQL's own BOOL reads it)."""
    return _none(pc.not_equal(values, pa.scalar(0)))


def unsigned_to_int64(values: Any, flag: Any) -> Converted:
    """BIGINT UNSIGNED (and BIT(64)) into int64: values above int64 become NULL, never wrapped."""
    if pa.types.is_signed_integer(values.type):
        return _none(values.cast(pa.int64()))
    too_big = pc.fill_null(pc.greater(values, pa.scalar(INT64_MAX, values.type)), False)
    if pc.any(too_big).as_py():
        return _null_where(values, too_big).cast(pa.int64()), too_big, _SIZE
    return _none(values.cast(pa.int64()))


def float32_to_float64(values: Any, flag: Any) -> Converted:
    """FLOAT is single precision: keep the digits MySQL shows (1.1, not 1.100000023841858)."""
    if values.type != pa.float32():
        return _none(values.cast(pa.float64()))
    # numpy prints each float32 with its shortest round-trip digits, then parses them as float64.
    digits = values.to_numpy(zero_copy_only=False).astype(np.float32).astype(str)
    nulls = values.is_null().to_numpy(zero_copy_only=False)
    return _none(pa.array(digits.astype(np.float64), mask=nulls))


def flagged(target: pa.DataType) -> Converter:
    """DATE / DATETIME: the server already read zero dates ('0000-00-00', '2023-00-10') as NULL; the
    flag column says which ones were such dates, so they carry a reason."""

    def convert(values: Any, flag: Any) -> Converted:
        values = values if values.type == target else values.cast(target)
        if flag is None:
            return _none(values)
        bad = pc.fill_null(pc.equal(flag, pa.scalar(1)), False)
        return values, bad if pc.any(bad).as_py() else None, _SERIAL

    return convert


def micros_to_timestamp_utc(values: Any, flag: Any) -> Converted:
    """TIMESTAMP read as UTC microseconds since the epoch; 0 is MySQL's zero timestamp (no real
    TIMESTAMP is ever 1970-01-01 00:00:00 UTC)."""
    values = values.cast(pa.int64())
    zero = pc.fill_null(pc.equal(values, pa.scalar(0, pa.int64())), False)
    target = pa.timestamp("us", tz="UTC")
    if pc.any(zero).as_py():
        return _null_where(values, zero).cast(target), zero, _SERIAL
    return _none(values.cast(target))


def micros_to_time(values: Any, flag: Any) -> Converted:
    """TIME read as microseconds; values outside one day (TIME is also a duration) become NULL."""
    values = values.cast(pa.int64())
    below = pc.less(values, pa.scalar(0, pa.int64()))
    above = pc.greater_equal(values, pa.scalar(MICROS_PER_DAY, pa.int64()))
    outside = pc.fill_null(pc.or_(below, above), False)
    bad = outside if pc.any(outside).as_py() else None
    kept = _null_where(values, outside) if bad is not None else values
    return kept.cast(pa.time64("us")), bad, _SIZE


def set_to_list(values: Any, flag: Any) -> Converted:
    """SET 'a,c' into ["a", "c"]; the empty set is []."""
    values = values.cast(pa.string())
    parts = pc.split_pattern(values, ",")
    empty = pc.fill_null(pc.equal(values, pa.scalar("")), False)
    if pc.any(empty).as_py():
        parts = pc.if_else(empty, pa.scalar([], pa.list_(pa.string())), parts)
    return _none(parts)
