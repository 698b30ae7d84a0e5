"""PostgreSQL column types: the JSON schema each becomes, and how it is selected so Arrow can carry it.

Types the driver decodes natively (integers, floats, text, bool, dates and times, uuid, json) are
selected as they are and finished in Arrow (see `convert`). The rest are rendered by the server:
numeric (and money, as numeric) as its exact text, arrays as JSON (any dimension, any element
type), bytea as base64, and every other type (interval in ISO 8601, timetz, enums, inet/cidr,
macaddr, xml, bit strings, geometric and range types, ...) as its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ferry.cdk.identifiers import quote


class Handling(StrEnum):
    INTEGER = "integer"
    FLOAT = "float"
    NUMERIC = "numeric"
    NUMERIC_TEXT = "numeric_text"
    BOOLEAN = "boolean"
    TEXT = "text"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"
    TIMESTAMPTZ = "timestamptz"
    UUID = "uuid"
    JSON = "json"
    ARRAY = "array"
    BYTEA = "bytea"
    RENDERED = "rendered"
    """Selected as the server's text for the value (`::text`)."""


_NATIVE: dict[str, Handling] = {
    "int2": Handling.INTEGER,
    "int4": Handling.INTEGER,
    "int8": Handling.INTEGER,
    "float4": Handling.FLOAT,
    "float8": Handling.FLOAT,
    "numeric": Handling.NUMERIC,
    "money": Handling.NUMERIC,
    "bool": Handling.BOOLEAN,
    "text": Handling.TEXT,
    "varchar": Handling.TEXT,
    "bpchar": Handling.TEXT,
    "name": Handling.TEXT,
    "date": Handling.DATE,
    "time": Handling.TIME,
    "timestamp": Handling.TIMESTAMP,
    "timestamptz": Handling.TIMESTAMPTZ,
    "uuid": Handling.UUID,
    "json": Handling.JSON,
    "jsonb": Handling.JSON,
    "bytea": Handling.BYTEA,
}

_NULLABLE = ["null"]

_SCHEMAS: dict[Handling, dict[str, Any]] = {
    Handling.INTEGER: {"type": [*_NULLABLE, "integer"]},
    Handling.FLOAT: {"type": [*_NULLABLE, "number"]},
    Handling.NUMERIC: {"type": [*_NULLABLE, "number"]},
    Handling.NUMERIC_TEXT: {"type": [*_NULLABLE, "string"]},
    Handling.BOOLEAN: {"type": [*_NULLABLE, "boolean"]},
    Handling.TEXT: {"type": [*_NULLABLE, "string"]},
    Handling.DATE: {"type": [*_NULLABLE, "string"], "format": "date"},
    Handling.TIME: {
        "type": [*_NULLABLE, "string"],
        "format": "time",
        "airbyte_type": "time_without_timezone",
    },
    Handling.TIMESTAMP: {
        "type": [*_NULLABLE, "string"],
        "format": "date-time",
        "airbyte_type": "timestamp_without_timezone",
    },
    Handling.TIMESTAMPTZ: {
        "type": [*_NULLABLE, "string"],
        "format": "date-time",
        "airbyte_type": "timestamp_with_timezone",
    },
    Handling.UUID: {"type": [*_NULLABLE, "string"], "format": "uuid"},
    # Any JSON value (object, array, scalar): no "type", so destinations give the column their JSON type.
    Handling.JSON: {},
    Handling.ARRAY: {"type": [*_NULLABLE, "array"]},
    Handling.BYTEA: {"type": [*_NULLABLE, "string"], "contentEncoding": "base64"},
    Handling.RENDERED: {"type": [*_NULLABLE, "string"]},
}

CURSOR_HANDLINGS = frozenset(
    {
        Handling.INTEGER,
        Handling.FLOAT,
        Handling.NUMERIC,
        Handling.NUMERIC_TEXT,
        Handling.TEXT,
        Handling.DATE,
        Handling.TIME,
        Handling.TIMESTAMP,
        Handling.TIMESTAMPTZ,
        Handling.UUID,
        Handling.RENDERED,
    }
)
"""Handlings whose values order the same in SQL and survive a round trip through the state as text."""


@dataclass(frozen=True, slots=True)
class PgType:
    """A column's type after domains are resolved to their base type."""

    name: str
    """pg_type.typname of the base type (`int4`, `_text` for an int array, `mood` for an enum)."""
    category: str
    """pg_type.typcategory: 'A' for arrays, 'E' enums, ..."""
    sql: str
    """format_type() of the column's declared type (domain included), used to cast literals."""


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    name: str
    handling: Handling
    pg_type: PgType
    nullable: bool = True

    @property
    def json_schema(self) -> dict[str, Any]:
        schema = dict(_SCHEMAS[self.handling])
        if self.pg_type.name == "timetz":
            schema.update(format="time", airbyte_type="time_with_timezone")
        return schema

    @property
    def select_sql(self) -> str:
        """The select-list expression for this column (aliased to the column's own name)."""
        column = quote(self.name)
        expression = {
            Handling.ARRAY: f"to_json({column})",
            Handling.BYTEA: f"replace(encode({column}, 'base64'), chr(10), '')",
            # Numerics travel as text: the driver's binary numeric decoding costs four times as much
            # client time, text is exact (NUMERIC_TEXT keeps it), and Arrow parses it to doubles fast.
            Handling.NUMERIC: f"{column}::numeric::text",
            Handling.NUMERIC_TEXT: f"{column}::numeric::text",
            Handling.RENDERED: f"{column}::text",
        }.get(self.handling, column)
        if self.pg_type.name == "inet":
            # inet's ::text always adds the netmask; abbrev() is its output function's text ('::1').
            expression = f"abbrev({column})"
        return column if expression == column else f"{expression} AS {column}"


def handling_of(pg_type: PgType, numeric_as_string: bool) -> Handling:
    if pg_type.category == "A":
        return Handling.ARRAY
    handling = _NATIVE.get(pg_type.name, Handling.RENDERED)
    if handling is Handling.NUMERIC and numeric_as_string:
        return Handling.NUMERIC_TEXT
    return handling
