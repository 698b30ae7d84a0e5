"""Single values for states: a key or cursor value as exact text the server parses back to the same value.

States keep values as PostgreSQL would print them, taken from the driver's raw batch (before any
conversion), so a numeric keeps every digit, a BC date stays BC and ±infinity survives.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import pyarrow as pa

from ferry.connectors.sources.postgres.types import ColumnPlan, Handling

_EPOCH_SHIFT_DAYS = 10_957
"""Days from 2000-01-01 (PostgreSQL's epoch) to 1970-01-01 (the driver's)."""
_EPOCH_SHIFT_MICROS = _EPOCH_SHIFT_DAYS * 86_400_000_000


def _wrap(value: int, bits: int) -> int:
    half = 1 << (bits - 1)
    return ((value + half) % (1 << bits)) - half


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) in the proleptic Gregorian calendar for days since 1970-01-01; year 0 is 1 BC."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _date_text(days: int) -> tuple[str, bool]:
    """ISO text of the date and whether it is BC (PostgreSQL writes 1 BC, not year 0)."""
    year, month, day = civil_from_days(days)
    bc = year <= 0
    return f"{1 - year if bc else year:04d}-{month:02d}-{day:02d}", bc


def _clock(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}.{fraction:06d}"


def date_text(raw_days: int) -> str:
    pg_days = _wrap(raw_days - _EPOCH_SHIFT_DAYS, 32)
    if pg_days == 2**31 - 1:
        return "infinity"
    if pg_days == -(2**31):
        return "-infinity"
    text, bc = _date_text(pg_days + _EPOCH_SHIFT_DAYS)
    return f"{text} BC" if bc else text


def timestamp_text(raw_micros: int, with_zone: bool) -> str:
    pg_micros = _wrap(raw_micros - _EPOCH_SHIFT_MICROS, 64)
    if pg_micros == 2**63 - 1:
        return "infinity"
    if pg_micros == -(2**63):
        return "-infinity"
    days, micros = divmod(pg_micros + _EPOCH_SHIFT_MICROS, 86_400_000_000)
    text, bc = _date_text(days)
    out = f"{text} {_clock(micros)}" + ("+00:00" if with_zone else "")
    return f"{out} BC" if bc else out


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def value_text(raw: pa.Array[Any], row: int, column: ColumnPlan) -> str | None:
    """The text of one raw (driver) value, or None for NULL."""
    if isinstance(raw, pa.ExtensionArray):
        raw = raw.storage
    if not raw[row].is_valid:
        return None
    handling = column.handling
    if handling is Handling.DATE:
        return date_text(raw.view(pa.int32())[row].as_py())
    if handling in (Handling.TIMESTAMP, Handling.TIMESTAMPTZ):
        return timestamp_text(raw.view(pa.int64())[row].as_py(), handling is Handling.TIMESTAMPTZ)
    if handling is Handling.TIME:
        return _clock(raw.view(pa.int64())[row].as_py())
    value = raw[row].as_py()
    if handling is Handling.UUID:
        return str(uuid.UUID(bytes=value))
    if handling is Handling.FLOAT:
        return _float_text(float(value))
    if handling is Handling.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def literal(text: str, column: ColumnPlan) -> str:
    """A SQL literal of the column's type for `text` (as `value_text` made it)."""
    quoted = "'" + text.replace("'", "''") + "'"
    if column.handling is Handling.BYTEA:
        return f"decode({quoted}, 'base64')"
    return f"{quoted}::{column.pg_type.sql}"
