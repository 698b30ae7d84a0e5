"""MySQL / MariaDB column types: the JSON-schema property each becomes, the SQL that reads it in a form
connectorx handles, and the vectorised conversion into the stream's Arrow type.

| MySQL                                | stream type                        | read as                        |
|--------------------------------------|------------------------------------|--------------------------------|
| tinyint..bigint (not bigint unsigned)| integer                            | the value                      |
| bigint unsigned, bit(64)             | per `unsigned_bigint_as` (integer) | the value / CAST AS CHAR       |
| tinyint(1) (BOOL), bit(1)            | boolean (non-zero is true)         | the value / `col <> 0`         |
| bit(2..63)                           | integer                            | CAST AS UNSIGNED               |
| decimal(p,s), float, double          | number                             | p > 28: CAST AS CHAR           |
| char, varchar, *text, enum           | string                             | the value                      |
| set                                  | array of strings                   | the value, split on ','        |
| binary, varbinary, *blob             | string, base64                     | TO_BASE64 without line breaks  |
| date, datetime                       | date / timestamp without time zone | zero dates read as NULL + flag |
| timestamp                            | timestamp with time zone (UTC)     | UTC microseconds               |
| time                                 | time (outside 00:00..24:00: NULL)  | microseconds                   |
| year                                 | integer                            | the value                      |
| json                                 | JSON                               | the text                       |
| geometry and the spatial types       | string (WKT)                       | ST_AsText                      |
| anything else                        | string                             | CAST AS CHAR                   |

Zero dates ('0000-00-00', '2023-00-10') become NULL with reason SOURCE_SERIALIZATION_ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ferry.connectors.sources.mysql import convert
from ferry.connectors.sources.mysql.discovery import ColumnInfo

INTEGERS = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint"})
TEXTS = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum"})
BINARIES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})
SPATIAL = frozenset(
    {
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
        "geomcollection",
    }
)
RUST_DECIMAL_DIGITS = 28
"""connectorx reads DECIMAL through rust_decimal, which holds at most 28 significant digits."""


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _nullable(json_type: str, **extra: Any) -> dict[str, Any]:
    return {"type": ["null", json_type], **extra}


INTEGER = _nullable("integer")
NUMBER = _nullable("number")
BOOLEAN = _nullable("boolean")
STRING = _nullable("string")
BASE64 = _nullable("string", contentEncoding="base64")
DATE = _nullable("string", format="date")
DATETIME = _nullable("string", format="date-time", airbyte_type="timestamp_without_timezone")
TIMESTAMP = _nullable("string", format="date-time", airbyte_type="timestamp_with_timezone")
TIME = _nullable("string", format="time", airbyte_type="time_without_timezone")
STRINGS = _nullable("array", items={"type": "string"})
JSON: dict[str, Any] = {}
"""No type: any JSON value (Ferry's JSON column kind)."""


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """How one column is declared, selected and converted."""

    name: str
    prop: dict[str, Any]
    select: str
    converter: convert.Converter
    flag: str | None = None
    """SQL that is 1 where the stored value is not a real date (its value is read as NULL)."""


def _is_bool(column: ColumnInfo) -> bool:
    return column.column_type.startswith("tinyint(1)") or column.data_type in ("bool", "boolean")


def _bit_width(column: ColumnInfo) -> int:
    return column.precision or 1


def _not_a_date(q: str) -> str:
    return f"MONTH({q}) = 0 OR DAYOFMONTH({q}) = 0"


def _integer_plan(column: ColumnInfo, q: str, unsigned_bigint_as: str) -> ColumnPlan:
    name = column.name
    if _is_bool(column):
        return ColumnPlan(name, BOOLEAN, q, convert.nonzero_bool)
    if column.data_type == "bigint" and column.unsigned:
        return _unsigned_bigint(name, q, unsigned_bigint_as)
    return ColumnPlan(name, INTEGER, q, convert.cast_to(pa.int64()))


def _unsigned_bigint(name: str, q: str, unsigned_bigint_as: str) -> ColumnPlan:
    if unsigned_bigint_as == "string":
        return ColumnPlan(name, STRING, f"CAST({q} AS CHAR)", convert.cast_to(pa.string()))
    if unsigned_bigint_as == "number":
        return ColumnPlan(name, NUMBER, q, convert.cast_to(pa.float64()))
    return ColumnPlan(name, INTEGER, q, convert.unsigned_to_int64)


def _bit_plan(column: ColumnInfo, q: str, unsigned_bigint_as: str) -> ColumnPlan:
    width = _bit_width(column)
    if width == 1:
        return ColumnPlan(column.name, BOOLEAN, f"({q} <> 0)", convert.nonzero_bool)
    if width == 64:
        return _unsigned_bigint(column.name, f"CAST({q} AS UNSIGNED)", unsigned_bigint_as)
    return ColumnPlan(column.name, INTEGER, f"CAST({q} AS UNSIGNED)", convert.cast_to(pa.int64()))


def _decimal_plan(column: ColumnInfo, q: str) -> ColumnPlan:
    if (column.precision or 65) > RUST_DECIMAL_DIGITS:
        return ColumnPlan(column.name, NUMBER, f"CAST({q} AS CHAR)", convert.cast_to(pa.float64()))
    return ColumnPlan(column.name, NUMBER, q, convert.cast_to(pa.float64()))


def _temporal_plan(column: ColumnInfo, q: str) -> ColumnPlan | None:
    name, kind = column.name, column.data_type
    if kind == "date":
        read = f"CASE WHEN {_not_a_date(q)} THEN NULL ELSE {q} END"
        return ColumnPlan(name, DATE, read, convert.flagged(pa.date32()), flag=_flag(q))
    if kind == "datetime":
        read = f"CASE WHEN {_not_a_date(q)} THEN NULL ELSE {q} END"
        return ColumnPlan(name, DATETIME, read, convert.flagged(pa.timestamp("us")), flag=_flag(q))
    if kind == "timestamp":
        # The stored instant itself, whatever the session's time zone (UNIX_TIMESTAMP of a column).
        read = f"CAST(UNIX_TIMESTAMP({q}) * 1000000 AS SIGNED)"
        return ColumnPlan(name, TIMESTAMP, read, convert.micros_to_timestamp_utc)
    if kind == "time":
        return ColumnPlan(name, TIME, f"CAST(TIME_TO_SEC({q}) * 1000000 AS SIGNED)", convert.micros_to_time)
    if kind == "year":
        return ColumnPlan(name, INTEGER, q, convert.cast_to(pa.int64()))
    return None


def _flag(q: str) -> str:
    return f"({q} IS NOT NULL AND ({_not_a_date(q)}))"


def plan_for(column: ColumnInfo, unsigned_bigint_as: str = "integer") -> ColumnPlan:
    """The plan for one column (see the module's table)."""
    q = quote_identifier(column.name)
    kind = column.data_type
    if column.is_json:
        return ColumnPlan(column.name, JSON, f"CAST({q} AS CHAR)", convert.cast_to(pa.string()))
    if kind in INTEGERS:
        return _integer_plan(column, q, unsigned_bigint_as)
    if kind in ("bool", "boolean"):
        return ColumnPlan(column.name, BOOLEAN, q, convert.nonzero_bool)
    if kind == "bit":
        return _bit_plan(column, q, unsigned_bigint_as)
    if kind in ("decimal", "numeric"):
        return _decimal_plan(column, q)
    if kind == "float":
        return ColumnPlan(column.name, NUMBER, q, convert.float32_to_float64)
    if kind in ("double", "real"):
        return ColumnPlan(column.name, NUMBER, q, convert.cast_to(pa.float64()))
    temporal = _temporal_plan(column, q)
    if temporal is not None:
        return temporal
    if kind in TEXTS:
        return ColumnPlan(column.name, STRING, q, convert.cast_to(pa.string()))
    if kind == "set":
        return ColumnPlan(column.name, STRINGS, q, convert.set_to_list)
    if kind in BINARIES:
        read = (
            f"REPLACE(TO_BASE64({q}), CHAR(10 USING ascii), '')"  # TO_BASE64 breaks lines every 76 characters
        )
        return ColumnPlan(column.name, BASE64, read, convert.cast_to(pa.string()))
    if kind in SPATIAL:
        return ColumnPlan(column.name, STRING, f"ST_AsText({q})", convert.cast_to(pa.string()))
    return ColumnPlan(column.name, STRING, f"CAST({q} AS CHAR)", convert.cast_to(pa.string()))
