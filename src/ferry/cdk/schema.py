"""JSON schema (Airbyte's well-known types) to Arrow: the one place that decides a column's type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pyarrow as pa

JSON_METADATA = {b"ferry.logical": b"json"}
CHANGES_COLUMN = "_ferry_changes"
"""Optional column in a Ferry record batch: per row, the `_airbyte_meta.changes` entries (or null)."""

CHANGE_TYPE = pa.struct([("field", pa.string()), ("change", pa.string()), ("reason", pa.string())])
CHANGES_TYPE = pa.list_(CHANGE_TYPE)


class Kind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP_TZ = "timestamp_with_timezone"
    TIMESTAMP = "timestamp_without_timezone"
    TIME = "time_without_timezone"
    JSON = "json"


_ARROW: dict[Kind, pa.DataType] = {
    Kind.STRING: pa.string(),
    Kind.INTEGER: pa.int64(),
    Kind.NUMBER: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP_TZ: pa.timestamp("us", tz="UTC"),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.TIME: pa.time64("us"),
    Kind.JSON: pa.string(),
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.kind]

    def arrow_field(self) -> pa.Field[Any]:
        metadata = JSON_METADATA if self.kind is Kind.JSON else None
        return pa.field(self.name, self.arrow_type, nullable=True, metadata=metadata)


def _non_null_types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type")
    if isinstance(declared, str):
        return [declared] if declared != "null" else []
    if isinstance(declared, list):
        return [t for t in declared if t != "null"]
    return []


def kind_of(prop: Any) -> Kind:
    """The column kind for one JSON-schema property; anything ambiguous is JSON, never dropped."""
    if not isinstance(prop, dict):
        return Kind.JSON
    for union_key in ("oneOf", "anyOf"):
        options = prop.get(union_key)
        if isinstance(options, list):
            real = [
                o
                for o in options
                if not (isinstance(o, dict) and _non_null_types(o) == [] and o.get("type") == "null")
            ]
            return kind_of(real[0]) if len(real) == 1 else Kind.JSON
    types = _non_null_types(prop)
    if len(types) != 1:
        # ["integer", "number"] widens to number; any other mix keeps the JSON value as it came.
        return Kind.NUMBER if set(types) == {"integer", "number"} else Kind.JSON
    json_type = types[0]
    airbyte_type = prop.get("airbyte_type")
    if json_type == "string":
        fmt = prop.get("format")
        if fmt == "date-time":
            return Kind.TIMESTAMP if airbyte_type == "timestamp_without_timezone" else Kind.TIMESTAMP_TZ
        if fmt == "date":
            return Kind.DATE
        if fmt == "time" and airbyte_type != "time_with_timezone":
            return Kind.TIME
        return Kind.STRING
    if json_type == "integer" or (json_type == "number" and airbyte_type == "integer"):
        return Kind.INTEGER
    return {"number": Kind.NUMBER, "boolean": Kind.BOOLEAN}.get(json_type, Kind.JSON)


def columns_of(json_schema: dict[str, Any]) -> list[Column]:
    """Top-level properties become columns, in schema order."""
    props = json_schema.get("properties") or {}
    return [Column(name, kind_of(prop)) for name, prop in props.items()]


def arrow_schema(json_schema: dict[str, Any]) -> pa.Schema:
    return pa.schema([c.arrow_field() for c in columns_of(json_schema)])


def nulls(n: int, dtype: pa.DataType) -> pa.Array[Any]:
    """An all-null array of any type (pyarrow's typing overloads do not cover a plain DataType)."""
    out: pa.Array[Any] = pa.nulls(n, dtype)  # type: ignore[call-overload]
    return out


def is_json_field(field: pa.Field[Any]) -> bool:
    return bool(field.metadata and field.metadata.get(b"ferry.logical") == b"json")


def json_type_of_arrow(dtype: pa.DataType) -> dict[str, Any]:
    """The JSON-schema property describing an Arrow type (used by sources that discover from Arrow)."""
    if pa.types.is_boolean(dtype):
        return {"type": ["null", "boolean"]}
    if pa.types.is_integer(dtype):
        return {"type": ["null", "integer"]}
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return {"type": ["null", "number"]}
    if pa.types.is_timestamp(dtype):
        airbyte_type = "timestamp_with_timezone" if dtype.tz else "timestamp_without_timezone"
        return {"type": ["null", "string"], "format": "date-time", "airbyte_type": airbyte_type}
    if pa.types.is_date(dtype):
        return {"type": ["null", "string"], "format": "date"}
    if pa.types.is_time(dtype):
        return {"type": ["null", "string"], "format": "time", "airbyte_type": "time_without_timezone"}
    if pa.types.is_struct(dtype) or pa.types.is_map(dtype):
        return {"type": ["null", "object"]}
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_fixed_size_list(dtype):
        return {"type": ["null", "array"]}
    return {"type": ["null", "string"]}
