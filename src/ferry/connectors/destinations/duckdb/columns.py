"""DuckDB column types for Ferry's column kinds, and how a column type widens when a stream's type changes."""

from __future__ import annotations

from ferry.cdk.schema import Kind

JSON = "JSON"
VARCHAR = "VARCHAR"
BIGINT = "BIGINT"
DOUBLE = "DOUBLE"
UUID = "UUID"
"""For string columns whose JSON schema says `format: uuid`: 16 bytes a value instead of 36 characters
of text to compress (measured: about 8% of a Postgres -> DuckDB copy of a table with one uuid column).
A value that is not a UUID becomes NULL with a reason in `_airbyte_meta`, as any value that does not fit."""

SQL_TYPES: dict[Kind, str] = {
    Kind.STRING: VARCHAR,
    Kind.INTEGER: BIGINT,
    Kind.NUMBER: DOUBLE,
    Kind.BOOLEAN: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.TIMESTAMP_TZ: "TIMESTAMPTZ",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.TIME: "TIME",
    Kind.JSON: JSON,
}

# duckdb_columns() spells some types differently from the DDL that created them.
_CATALOG_SPELLING = {
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
    "TIME WITH TIME ZONE": "TIMETZ",
    "INT64": BIGINT,
    "FLOAT8": DOUBLE,
    "STRING": VARCHAR,
    "TEXT": VARCHAR,
}

DOUBLE_EXACT_LIMIT = 2**53
"""Integers beyond this magnitude change value when stored as DOUBLE."""


def canonical(sql_type: str) -> str:
    upper = sql_type.upper()
    return _CATALOG_SPELLING.get(upper, upper)


def widen(current: str, wanted: str) -> str:
    """The type that holds both the values already stored as `current` and new `wanted` values.

    JSON can represent every value, so it absorbs everything; BIGINT and DOUBLE meet at DOUBLE;
    any other pair meets at VARCHAR, whose text keeps every value readable. Never narrows.
    """
    current, wanted = canonical(current), canonical(wanted)
    if current == wanted:
        return current
    if JSON in (current, wanted):
        return JSON
    if {current, wanted} == {BIGINT, DOUBLE}:
        return DOUBLE
    return VARCHAR


def conversion(column_sql: str, target: str) -> str:
    """The SQL expression that turns a stored `current` value into `target` during ALTER TABLE."""
    if canonical(target) == JSON:
        return f"to_json({column_sql})"
    return f"CAST({column_sql} AS {target})"
