"""One Arrow column as the text PostgreSQL parses for its table column (vectorised); refused values are fixed.

What PostgreSQL refuses, and what happens instead (each noted in the row's `_airbyte_meta.changes`):

- NUL characters (text, and `\\u0000` in JSON, which jsonb refuses): removed, the rest of the value
  kept -> TRUNCATED, DESTINATION_SERIALIZATION_ERROR.
- Invalid UTF-8: each bad sequence becomes U+FFFD -> TRUNCATED, DESTINATION_SERIALIZATION_ERROR.
- Dates and timestamps before 4714-11-24 BC (PostgreSQL's first day) or dates after 5874897-12-31:
  NULLED, DESTINATION_FIELD_SIZE_LIMITATION. Dates before year 1 are loaded as what they are
  (`0222-09-04 BC`); Arrow's astronomical year 0 is 1 BC.
- NaN and ±Infinity are kept (numeric holds them since PostgreSQL 14; older servers get NULL with
  DESTINATION_FIELD_SIZE_LIMITATION for ±Infinity); in jsonb they are the strings "NaN", "Infinity".

Per-value Python runs only on columns that need it: nested (struct/list/map) values written as JSON,
text written into a jsonb column, and the rare rows found above.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.schema import Kind
from ferry.connectors.destinations.postgres.columns import JSONB, NUMERIC, family
from ferry.protocol import Change, Reason

DATE_MIN_DAYS, DATE_MAX_DAYS = -2_440_588, 2_145_042_905
"""PostgreSQL's date range (4714-11-24 BC .. 5874897-12-31) as days since 1970-01-01."""
TIMESTAMP_MIN_US = -210_866_803_200_000_000
"""4714-11-24 00:00:00 BC in microseconds since 1970; the upper limit (year 294276) is beyond int64."""
_YEAR_ONE_DAYS = -719_162
_YEAR_ONE_US = _YEAR_ONE_DAYS * 86_400_000_000
INFINITY_SINCE = 140_000
"""The first server version whose numeric holds ±Infinity."""

_JSON_NUL = r"((?:^|[^\\])(?:\\\\)*)\\u0000"  # \u0000 not preceded by an escaping backslash


@dataclass(slots=True)
class Notes:
    """Changes found while encoding one batch: row -> entries for `_airbyte_meta.changes`."""

    rows: dict[int, list[dict[str, str]]] = field(default_factory=dict)

    def copy(self) -> Notes:
        return Notes({row: list(entries) for row, entries in self.rows.items()})

    def add(self, rows: Any, column: str, change: Change, reason: Reason) -> None:
        entry = {"field": column, "change": change.value, "reason": reason.value}
        for row in np.asarray(rows, dtype=np.int64).tolist():
            self.rows.setdefault(row, []).append(entry)


def _mask_rows(mask: pa.Array[Any] | pa.ChunkedArray[Any]) -> np.ndarray[Any, Any]:
    filled: pa.Array[Any] | pa.ChunkedArray[Any] = pc.fill_null(mask, pa.scalar(False))  # type: ignore[assignment]
    return np.flatnonzero(np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool))


def _is_nested(dtype: pa.DataType) -> bool:
    return bool(
        pa.types.is_struct(dtype)
        or pa.types.is_list(dtype)
        or pa.types.is_large_list(dtype)
        or pa.types.is_fixed_size_list(dtype)
        or pa.types.is_map(dtype)
    )


def _is_text(dtype: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype)
    )


@dataclass(frozen=True, slots=True)
class Target:
    """The table column a batch column is written to."""

    name: str
    kind: Kind
    sql_type: str
    server_version: int


def column_text(array: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any]:
    """`array` as COPY text for `target` (string, or int64/bool whose CSV spelling PostgreSQL reads as is)."""
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    dtype = array.type
    to_json = family(target.sql_type) == JSONB
    if pa.types.is_null(dtype):
        return pa.nulls(len(array), pa.string())
    if _is_nested(dtype):
        return _strip_json_nul(_nested_json(array), target, notes)
    if _is_text(dtype):
        text = _strip_nul(_valid_utf8(array.cast(pa.string()), target, notes), target, notes)
        if not to_json:
            return text
        return _strip_json_nul(text, target, notes) if target.kind is Kind.JSON else _json_strings(text)
    if pa.types.is_integer(dtype) or pa.types.is_boolean(dtype):
        return array if pa.types.is_int64(dtype) or pa.types.is_boolean(dtype) else array.cast(pa.int64())
    if pa.types.is_floating(dtype):
        return _float_text(array, target, notes, to_json)
    if pa.types.is_decimal(dtype):
        return array.cast(pa.string())
    temporal = _temporal_text(array, target, notes)
    text = temporal if temporal is not None else _python_text(array)
    return _quoted(text) if to_json else text


def _python_text(array: pa.Array[Any]) -> pa.Array[Any]:
    """Any other Arrow type, as Python spells its values (rare: sources hand over Ferry's types)."""
    return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())


def _temporal_text(array: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any] | None:
    dtype = array.type
    if pa.types.is_date(dtype):
        return _date_text(array, target, notes)
    if pa.types.is_timestamp(dtype):
        return _timestamp_text(array, target, notes)
    if pa.types.is_time(dtype):
        return array.cast(pa.string())
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype) or pa.types.is_fixed_size_binary(dtype):
        # bytea's hex input format; the same text is readable in a text column
        return pa.array([None if v is None else "\\x" + v.hex() for v in array.to_pylist()], pa.string())
    return None


# --- text -----------------------------------------------------------------------------------------


def _valid_utf8(text: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any]:
    try:
        text.validate(full=True)
        return text
    except pa.ArrowInvalid:
        pass
    raw = text.cast(pa.binary()).to_pylist()
    fixed: list[str | None] = []
    bad: list[int] = []
    for row, value in enumerate(raw):
        if value is None:
            fixed.append(None)
            continue
        try:
            fixed.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            fixed.append(value.decode("utf-8", errors="replace"))
            bad.append(row)
    notes.add(bad, target.name, Change.TRUNCATED, Reason.DESTINATION_SERIALIZATION_ERROR)
    return pa.array(fixed, pa.string())


def _strip_nul(text: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any]:
    has = pc.match_substring(text, "\x00")
    if not pc.any(has).as_py():
        return text
    notes.add(_mask_rows(has), target.name, Change.TRUNCATED, Reason.DESTINATION_SERIALIZATION_ERROR)
    return pc.replace_substring(text, "\x00", "")


def _strip_json_nul(text: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any]:
    """JSON text without `\\u0000` escapes (jsonb cannot hold NUL); rows that had one are noted."""
    has = pc.match_substring_regex(text, _JSON_NUL)
    if not pc.any(has).as_py():
        return text
    notes.add(_mask_rows(has), target.name, Change.TRUNCATED, Reason.DESTINATION_SERIALIZATION_ERROR)
    while pc.any(has).as_py():  # one pass cannot remove escapes that follow each other directly
        text = pc.replace_substring_regex(text, _JSON_NUL, r"\1")
        has = pc.match_substring_regex(text, _JSON_NUL)
    return text


def _json_strings(text: pa.Array[Any]) -> pa.Array[Any]:
    """Plain text written into a jsonb column: each value becomes a JSON string (nothing is lost)."""
    return pa.array([None if v is None else orjson.dumps(v).decode() for v in text.to_pylist()], pa.string())


def _quoted(text: pa.Array[Any]) -> pa.Array[Any]:
    """Text that needs no escaping (dates, times, numbers' spellings) as JSON strings."""
    out: pa.Array[Any] = pc.binary_join_element_wise('"', text, '"', "")  # type: ignore[call-overload]
    return out


# --- nested values --------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(str(value)) if value.is_finite() else str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _plain(value: Any) -> Any:
    """Arrow maps come out of to_pylist as lists of (key, value) pairs; JSON wants objects."""
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): _plain(v) for k, v in value}
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _nested_json(array: pa.Array[Any]) -> pa.Array[Any]:
    convert: Callable[[Any], Any] = _plain if _has_map(array.type) else (lambda v: v)
    dumps = orjson.dumps
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
    return pa.array(
        [
            None if v is None else dumps(convert(v), default=_json_default, option=options).decode()
            for v in array.to_pylist()
        ],
        pa.string(),
    )


def _has_map(dtype: pa.DataType) -> bool:
    if pa.types.is_map(dtype):
        return True
    if pa.types.is_struct(dtype):
        return any(_has_map(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_fixed_size_list(dtype):
        return _has_map(dtype.value_type)
    return False


# --- numbers --------------------------------------------------------------------------------------


def _float_text(array: pa.Array[Any], target: Target, notes: Notes, to_json: bool) -> pa.Array[Any]:
    text = array.cast(pa.float64()).cast(pa.string())
    finite = pc.is_finite(array)
    if pc.all(pc.or_kleene(finite, pc.is_null(array))).as_py():
        return text
    nan, inf = pc.is_nan(array), pc.is_inf(array)
    positive = pc.greater(array, pa.scalar(0.0))
    spelled = pc.if_else(nan, "NaN", pc.if_else(positive, "Infinity", "-Infinity"))
    if to_json:
        spelled = _quoted(spelled)
    text = pc.if_else(pc.or_(nan, inf), spelled, text)
    if family(target.sql_type) == NUMERIC and target.server_version < INFINITY_SINCE:
        notes.add(_mask_rows(inf), target.name, Change.NULLED, Reason.DESTINATION_FIELD_SIZE_LIMITATION)
        text = pc.if_else(inf, pa.scalar(None, pa.string()), text)
    out: pa.Array[Any] = text
    return out


# --- dates and timestamps -------------------------------------------------------------------------


def _valid(array: pa.Array[Any]) -> np.ndarray[Any, Any]:
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def date_days(
    array: pa.Array[Any], target: Target, notes: Notes
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Days since 1970-01-01, and which to load: not NULLs, nor days outside PostgreSQL's range (noted)."""
    days = (
        array.cast(pa.date32()).cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    valid = _valid(array)
    outside = valid & ((days < DATE_MIN_DAYS) | (days > DATE_MAX_DAYS))
    notes.add(np.flatnonzero(outside), target.name, Change.NULLED, Reason.DESTINATION_FIELD_SIZE_LIMITATION)
    return days, valid & ~outside


def timestamp_micros(
    array: pa.Array[Any], target: Target, notes: Notes
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Microseconds since 1970 (UTC for zoned values) and which are loaded, as `date_days`."""
    dtype = array.type
    micros = array.cast(pa.timestamp("us", tz=dtype.tz), safe=dtype.unit != "ns")  # PostgreSQL keeps µs
    values = micros.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    valid = _valid(micros)
    outside = valid & (values < TIMESTAMP_MIN_US)
    notes.add(np.flatnonzero(outside), target.name, Change.NULLED, Reason.DESTINATION_FIELD_SIZE_LIMITATION)
    return values, valid & ~outside


def _date_text(array: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any]:
    days, loaded = date_days(array, target, notes)
    text = array.cast(pa.date32()).cast(pa.string())
    return _fix_rows(text, _valid(array) & ~loaded, loaded & (days < _YEAR_ONE_DAYS))


def _timestamp_text(array: pa.Array[Any], target: Target, notes: Notes) -> pa.Array[Any]:
    values, loaded = timestamp_micros(array, target, notes)
    micros = array.cast(pa.timestamp("us", tz=array.type.tz), safe=array.type.unit != "ns")
    # Arrow keeps zoned timestamps as UTC: the naive spelling plus "+00" is the same instant, and much
    # faster to produce than a zoned spelling.
    text = micros.cast(pa.timestamp("us")).cast(pa.string())
    if array.type.tz is not None:
        text = pc.binary_join_element_wise(text, "+00", "")  # type: ignore[call-overload]
    return _fix_rows(text, _valid(micros) & ~loaded, loaded & (values < _YEAR_ONE_US))


def _fix_rows(
    text: pa.Array[Any], outside: np.ndarray[Any, Any], before_christ: np.ndarray[Any, Any]
) -> pa.Array[Any]:
    """Null the values outside PostgreSQL's range and respell those before year 1 as `... BC`."""
    if not outside.any() and not before_christ.any():
        return text
    values = text.to_pylist()
    for row in np.flatnonzero(before_christ).tolist():
        values[row] = _bc(str(values[row]))
    for row in np.flatnonzero(outside).tolist():
        values[row] = None
    return pa.array(values, pa.string())


def _bc(text: str) -> str:
    """Arrow's astronomical year (`-0221-09-04 ...`, year 0 = 1 BC) in PostgreSQL's `0222-09-04 ... BC`."""
    date, sep, rest = text.partition(" ")
    year, month_day = date[:-6], date[-6:]
    return f"{1 - int(year):04d}{month_day}{sep}{rest} BC"
