"""Values into typed Arrow columns. A value that does not fit becomes NULL with a reason; the row is kept.

The fast path hands a whole column to pyarrow; only a column that fails there is walked value by
value, so well-formed data never pays for per-value Python work.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.schema import CHANGES_COLUMN, CHANGES_TYPE, Column, Kind
from ferry.cdk.schema import nulls as _nulls
from ferry.protocol import Reason

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_UTC = dt.UTC

Change = dict[str, str]
RowChanges = list[list[Change] | None]
Tabular = TypeVar("Tabular", pa.RecordBatch, pa.Table)


class _BadValueError(Exception):
    def __init__(self, reason: Reason) -> None:
        self.reason = reason


_SERIAL = Reason.DESTINATION_SERIALIZATION_ERROR
_SIZE = Reason.DESTINATION_FIELD_SIZE_LIMITATION


def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        raise _BadValueError(_SERIAL)
    if isinstance(v, int):
        out = v
    elif isinstance(v, float):
        if not v.is_integer():
            raise _BadValueError(_SERIAL)
        out = int(v)
    elif isinstance(v, str):
        try:
            out = int(v.strip())
        except ValueError:
            raise _BadValueError(_SERIAL) from None
    else:
        raise _BadValueError(_SERIAL)
    if not INT64_MIN <= out <= INT64_MAX:
        raise _BadValueError(_SIZE)
    return out


def _to_float(v: Any) -> float:
    if isinstance(v, bool):
        raise _BadValueError(_SERIAL)
    if isinstance(v, int | float):
        try:
            return float(v)
        except OverflowError:
            raise _BadValueError(_SIZE) from None
    if isinstance(v, str):
        try:
            out = float(v.strip())
        except ValueError:
            raise _BadValueError(_SERIAL) from None
        if math.isinf(out) and "inf" not in v.lower():
            raise _BadValueError(_SIZE)
        return out
    raise _BadValueError(_SERIAL)


_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        low = v.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    raise _BadValueError(_SERIAL)


def _to_str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v) if isinstance(v, float) else str(v)
    # Objects and arrays in a string column keep their JSON text: nothing is lost.
    return orjson.dumps(v).decode()


def _parse_datetime(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if not isinstance(v, str):
        raise _BadValueError(_SERIAL)
    text = v.strip()
    if text.endswith(" BC") or text.startswith(("+", "-")):
        raise _BadValueError(_SIZE)  # outside the range of the destination's timestamp type
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    # Offsets written as +hhmm or +hh, which fromisoformat handles only in some spellings.
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(text + ("00" if len(text) > 3 and text[-3] in "+-" else ""), fmt)
        except ValueError:
            continue
    raise _BadValueError(_SERIAL)


def _to_timestamp_tz(v: Any) -> dt.datetime:
    out = _parse_datetime(v)
    return out.replace(tzinfo=_UTC) if out.tzinfo is None else out.astimezone(_UTC)


def _to_timestamp(v: Any) -> dt.datetime:
    out = _parse_datetime(v)
    return out if out.tzinfo is None else out.astimezone(_UTC).replace(tzinfo=None)


def _to_date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if not isinstance(v, str):
        raise _BadValueError(_SERIAL)
    text = v.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return _parse_datetime(text).date()


def _to_time(v: Any) -> dt.time:
    if isinstance(v, dt.time):
        return v
    if not isinstance(v, str):
        raise _BadValueError(_SERIAL)
    try:
        return dt.time.fromisoformat(v.strip())
    except ValueError:
        raise _BadValueError(_SERIAL) from None


def _to_json(v: Any) -> str:
    try:
        return orjson.dumps(v, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        raise _BadValueError(_SERIAL) from None


_CONVERTERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.STRING: _to_str,
    Kind.INTEGER: _to_int,
    Kind.NUMBER: _to_float,
    Kind.BOOLEAN: _to_bool,
    Kind.DATE: _to_date,
    Kind.TIMESTAMP_TZ: _to_timestamp_tz,
    Kind.TIMESTAMP: _to_timestamp,
    Kind.TIME: _to_time,
    Kind.JSON: _to_json,
}

# Kinds whose Python values pyarrow converts exactly as Ferry would, so a column can go in whole.
_FAST = {Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN}


def _note(changes: RowChanges, row: int, field: str, reason: Reason) -> None:
    entry = {"field": field, "change": "NULLED", "reason": reason.value}
    existing = changes[row]
    if existing is None:
        changes[row] = [entry]
    else:
        existing.append(entry)


def cast_values(values: Sequence[Any], column: Column, changes: RowChanges) -> pa.Array[Any]:
    """A typed Arrow array for `values`; failures become NULL and are noted in `changes` (one slot per row)."""
    target = column.arrow_type
    if column.kind in _FAST:
        try:
            return pa.array(values, type=target, from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError, ValueError):
            pass  # UnicodeEncodeError (a lone surrogate) is a ValueError: walked value by value below
    convert = _CONVERTERS[column.kind]
    out: list[Any] = []
    append = out.append
    for row, value in enumerate(values):
        if value is None:
            append(None)
            continue
        try:
            append(convert(value))
        except _BadValueError as bad:
            append(None)
            _note(changes, row, column.name, bad.reason)
        except (ValueError, OverflowError, TypeError):
            append(None)
            _note(changes, row, column.name, _SERIAL)
    try:
        return pa.array(out, type=target, from_pandas=False)
    except (pa.ArrowInvalid, OverflowError, UnicodeEncodeError):
        # A value Python accepted but Arrow cannot hold (a date beyond Arrow's range): null it alone.
        return _array_one_by_one(out, column, changes)


def _array_one_by_one(values: list[Any], column: Column, changes: RowChanges) -> pa.Array[Any]:
    target = column.arrow_type
    kept: list[Any] = []
    for row, value in enumerate(values):
        try:
            pa.array([value], type=target)
            kept.append(value)
        except (pa.ArrowInvalid, OverflowError):
            kept.append(None)
            _note(changes, row, column.name, _SIZE)
        except UnicodeEncodeError:
            kept.append(None)
            _note(changes, row, column.name, _SERIAL)
    return pa.array(kept, type=target)


def changes_array(changes: RowChanges) -> pa.Array[Any] | None:
    """The CHANGES_COLUMN for a batch, or None when no row has a change (the common case)."""
    if not any(changes):
        return None
    return pa.array(changes, type=CHANGES_TYPE)


def conform_array(
    array: pa.Array[Any] | pa.ChunkedArray[Any], column: Column, changes: RowChanges
) -> pa.Array[Any]:
    """An Arrow column brought to the column's type: cast when Arrow can, value by value when it cannot."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    target = column.arrow_type
    dtype = array.type
    if dtype == target:
        return array
    if column.kind is Kind.JSON and (
        pa.types.is_struct(dtype)
        or pa.types.is_list(dtype)
        or pa.types.is_large_list(dtype)
        or pa.types.is_map(dtype)
    ):
        return array  # nested data stays nested; each destination writes it as its JSON type
    if pa.types.is_null(dtype):
        return _nulls(len(array), target)
    if column.kind is not Kind.JSON:
        try:
            return pc.cast(array, target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
    return cast_values(array.to_pylist(), column, changes)


def with_changes(batch: Tabular, changes: RowChanges, column: str = CHANGES_COLUMN) -> Tabular:
    """`batch` (a RecordBatch or a Table) with its changes column (`column`) merged with `changes`; rows
    keep any changes they already had."""
    extra = changes_array(changes)
    if extra is None:
        return batch
    index = batch.schema.get_field_index(column)
    if index >= 0:
        prior = batch.column(index).to_pylist()
        merged = [(p or []) + (c or []) or None for p, c in zip(prior, changes, strict=True)]
        return batch.set_column(index, column, pa.array(merged, type=CHANGES_TYPE))
    return batch.append_column(pa.field(column, CHANGES_TYPE), extra)
