"""The driver's Arrow batches brought to the stream's column types, whole columns at a time.

What cannot be carried becomes NULL with a reason in the row's `_airbyte_meta.changes`, and the row
is kept: ±infinity dates and timestamps (SOURCE_SERIALIZATION_ERROR), dates and timestamps outside
years 1-9999, which neither Python nor most destinations hold (SOURCE_FIELD_SIZE_LIMITATION), the
time 24:00:00 (SOURCE_SERIALIZATION_ERROR) and numerics beyond a double's range
(SOURCE_FIELD_SIZE_LIMITATION). NaN and ±Infinity of floats and numerics are kept as doubles.
Only the flagged rows are touched in Python; a batch without such values never is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.schema import CHANGES_COLUMN, CHANGES_TYPE, Column, kind_of, nulls
from ferry.connectors.sources.postgres.types import ColumnPlan, Handling
from ferry.protocol import Reason

MICROS_PER_DAY = 86_400_000_000
_SHIFT_DAYS = 10_957
"""Days from 2000-01-01 (PostgreSQL's epoch) to 1970-01-01 (the driver's)."""
DATE_INFINITIES = (2**31 - 1 + _SHIFT_DAYS - 2**32, -(2**31) + _SHIFT_DAYS)
"""±infinity as the driver delivers dates: PostgreSQL's int32 extremes shifted to 1970, wrapped around."""
TIMESTAMP_INFINITIES = (
    2**63 - 1 + _SHIFT_DAYS * MICROS_PER_DAY - 2**64,
    -(2**63) + _SHIFT_DAYS * MICROS_PER_DAY,
)
DATE_FIRST, DATE_LAST = -719_162, 2_932_896
"""0001-01-01 and 9999-12-31 in days since 1970: the dates every destination and Python can hold.
Earlier (BC) and later dates become NULL with SOURCE_FIELD_SIZE_LIMITATION."""

_SERIAL = Reason.SOURCE_SERIALIZATION_ERROR.value
_SIZE = Reason.SOURCE_FIELD_SIZE_LIMITATION.value


class Changes:
    """Per-row `_airbyte_meta.changes` of one batch, filled only for rows that have one."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self._by_row: dict[int, list[dict[str, str]]] = {}

    def null(self, mask: pa.Array[Any], field: str, reason: str) -> None:
        entry = {"field": field, "change": "NULLED", "reason": reason}
        for row in np.flatnonzero(mask.to_numpy(zero_copy_only=False)):
            self._by_row.setdefault(int(row), []).append(entry)

    def array(self) -> pa.Array[Any] | None:
        if not self._by_row:
            return None
        return pa.array([self._by_row.get(i) for i in range(self.rows)], type=CHANGES_TYPE)


def _storage(array: pa.Array[Any]) -> pa.Array[Any]:
    # The driver tags json, uuid and numeric as Arrow extension types; their storage is what we use.
    return array.storage if isinstance(array, pa.ExtensionArray) else array


def _nulled(array: pa.Array[Any], mask: pa.Array[Any]) -> pa.Array[Any]:
    out: pa.Array[Any] = pc.if_else(mask, pa.scalar(None, array.type), array)
    return out


def _flag(array: pa.Array[Any], bad: Any, column: ColumnPlan, changes: Changes, reason: str) -> pa.Array[Any]:
    bad = bad.fill_null(False)
    if not pc.any(bad).as_py():
        return array
    changes.null(bad, column.name, reason)
    return _nulled(array, bad)


def _in_years_1_to_9999(
    array: pa.Array[Any],
    values: pa.Array[Any],
    *,
    infinities: tuple[int, int],
    per_day: int,
    column: ColumnPlan,
    changes: Changes,
) -> pa.Array[Any]:
    first, last = DATE_FIRST * per_day, (DATE_LAST + 1) * per_day - 1
    bounds = pc.min_max(values)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None or (low >= first and high <= last):
        return array  # the usual case: one pass over the column, nothing to null
    infinite = pc.is_in(values, pa.array(infinities, values.type))
    array = _flag(array, infinite, column, changes, _SERIAL)
    outside = pc.or_(
        pc.less(values, pa.scalar(first, values.type)), pc.greater(values, pa.scalar(last, values.type))
    )
    return _flag(array, pc.and_(outside, pc.invert(infinite)), column, changes, _SIZE)


def _date(array: pa.Array[Any], column: ColumnPlan, changes: Changes) -> pa.Array[Any]:
    return _in_years_1_to_9999(
        array, array.view(pa.int32()), infinities=DATE_INFINITIES, per_day=1, column=column, changes=changes
    )


def _timestamp(tz: str | None) -> Callable[[pa.Array[Any], ColumnPlan, Changes], pa.Array[Any]]:
    target = pa.timestamp("us", tz=tz)

    def convert(array: pa.Array[Any], column: ColumnPlan, changes: Changes) -> pa.Array[Any]:
        if array.type != target:
            array = array.cast(target)
        micros = array.view(pa.int64())
        return _in_years_1_to_9999(
            array,
            micros,
            infinities=TIMESTAMP_INFINITIES,
            per_day=MICROS_PER_DAY,
            column=column,
            changes=changes,
        )

    return convert


def _time(array: pa.Array[Any], column: ColumnPlan, changes: Changes) -> pa.Array[Any]:
    # 24:00:00 is a valid PostgreSQL time but outside every Arrow and Python time of day.
    micros = array.view(pa.int64())
    end_of_day = pa.scalar(MICROS_PER_DAY, pa.int64())
    return _flag(array, pc.greater_equal(micros, end_of_day), column, changes, _SERIAL)


def _numeric(array: pa.Array[Any], column: ColumnPlan, changes: Changes) -> pa.Array[Any]:
    out: pa.Array[Any] = pc.cast(array, pa.float64())
    infinite = pc.is_inf(out)
    if not pc.any(infinite).as_py():
        return out
    # A digit string past a double's range parses as ±inf; only a stored Infinity may stay infinite.
    spelled = pc.match_substring_regex(array, "^[-+]?inf", ignore_case=True)
    return _flag(out, pc.and_(infinite, pc.invert(spelled)), column, changes, _SIZE)


def _float(array: pa.Array[Any], column: ColumnPlan, changes: Changes) -> pa.Array[Any]:
    if array.type == pa.float32():
        # Through text, so a real's 0.1 stays 0.1 rather than becoming 0.10000000149011612.
        return pc.cast(pc.cast(array, pa.string()), pa.float64())
    return array


_HEX = np.array([f"{i:02x}".encode() for i in range(256)]).view(np.uint16)
_UUID_GROUPS = ((0, 8), (9, 13), (14, 18), (19, 23), (24, 36))


def _uuid(array: pa.Array[Any], column: ColumnPlan, changes: Changes) -> pa.Array[Any]:
    """16-byte uuids as their 36-character text, built in numpy: a table lookup, no per-row work."""
    n = len(array)
    validity, data = array.buffers()[0], array.buffers()[1]
    if data is None or n == 0:
        return nulls(n, pa.string())
    raw = np.frombuffer(memoryview(data), dtype=np.uint8, count=(array.offset + n) * 16)[array.offset * 16 :]
    hexed = _HEX[raw.reshape(n, 16)].view(np.uint8)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    source = 0
    for start, end in _UUID_GROUPS:
        text[:, start:end] = hexed[:, source : source + end - start]
        source += end - start
    offsets = np.arange(0, (n + 1) * 36, 36, dtype=np.int32)
    if validity is not None and array.offset:
        validity = pc.is_valid(array).buffers()[1]
    offsets_buffer, text_buffer = pa.py_buffer(offsets.data), pa.py_buffer(text.data)
    return pa.StringArray.from_buffers(n, offsets_buffer, text_buffer, validity, array.null_count)


def _as_is(array: pa.Array[Any], column: ColumnPlan, changes: Changes) -> pa.Array[Any]:
    return array


_CONVERTERS: dict[Handling, Callable[[pa.Array[Any], ColumnPlan, Changes], pa.Array[Any]]] = {
    Handling.FLOAT: _float,
    Handling.NUMERIC: _numeric,
    Handling.DATE: _date,
    Handling.TIME: _time,
    Handling.TIMESTAMP: _timestamp(None),
    Handling.TIMESTAMPTZ: _timestamp("UTC"),
    Handling.UUID: _uuid,
}


class BatchConverter:
    """Turns the driver's batches of one query into batches of the stream's Arrow schema."""

    def __init__(self, columns: list[ColumnPlan]) -> None:
        self.columns = columns
        self.schema = pa.schema([Column(c.name, kind_of(c.json_schema)).arrow_field() for c in columns])

    def convert(self, raw: pa.RecordBatch) -> pa.RecordBatch:
        changes = Changes(raw.num_rows)
        arrays = []
        for index, (column, target) in enumerate(zip(self.columns, self.schema, strict=True)):
            array = _CONVERTERS.get(column.handling, _as_is)(_storage(raw.column(index)), column, changes)
            arrays.append(array if array.type == target.type else array.cast(target.type))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        extra = changes.array()
        return batch if extra is None else batch.append_column(pa.field(CHANGES_COLUMN, CHANGES_TYPE), extra)
