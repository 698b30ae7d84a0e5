"""PostgreSQL column types for Ferry's column kinds, and how a column type widens when a stream changes.

`number` is `numeric` (as in Airbyte's destination-postgres): it holds every float exactly as its
shortest decimal text, integers of any size when a column widens from `bigint`, and (since
PostgreSQL 14) NaN and ±Infinity.
"""

from __future__ import annotations

import re

from ferry.cdk.schema import Kind

TEXT = "text"
BIGINT = "bigint"
NUMERIC = "numeric"
JSONB = "jsonb"
UUID = "uuid"
TIMESTAMPTZ = "timestamp with time zone"

SQL_TYPES: dict[Kind, str] = {
    Kind.STRING: TEXT,
    Kind.INTEGER: BIGINT,
    Kind.NUMBER: NUMERIC,
    Kind.BOOLEAN: "boolean",
    Kind.DATE: "date",
    Kind.TIMESTAMP_TZ: TIMESTAMPTZ,
    Kind.TIMESTAMP: "timestamp without time zone",
    Kind.TIME: "time without time zone",
    Kind.JSON: JSONB,
}

# Types another writer may have used for a column: what they widen like.
_FAMILY = {
    "character varying": TEXT,
    "character": TEXT,
    "integer": BIGINT,
    "smallint": BIGINT,
    "json": JSONB,
    "double precision": NUMERIC,
    "real": NUMERIC,
}


def family(sql_type: str) -> str:
    """`format_type` output without modifiers (`numeric(12,2)` -> numeric), folded to what it widens like."""
    base = without_modifiers(sql_type)
    return _FAMILY.get(base, base)


def without_modifiers(sql_type: str) -> str:
    """`timestamp(3) with time zone` -> `timestamp with time zone`, `numeric(12,2)` -> `numeric`."""
    return " ".join(re.sub(r"\([^)]*\)", " ", sql_type).lower().split())


def widen(current: str, wanted: str) -> str:
    """The type that holds both the values stored as `current` and new `wanted` values; never narrows.

    jsonb absorbs everything (a JSON document can hold any value); bigint and numeric meet at numeric
    (exact for every integer); any other pair meets at text, whose spelling keeps every value readable.
    A column already wide enough keeps its own type (a user's varchar stays varchar for text values).
    """
    have, want = family(current), family(wanted)
    if have == want:
        return current
    if JSONB in (have, want):
        return JSONB
    if {have, want} == {BIGINT, NUMERIC}:
        return current if have == NUMERIC else NUMERIC
    if have == TEXT:
        return current
    return TEXT


def conversion(column_sql: str, target: str) -> str:
    """The USING expression that turns a stored value into `target` during ALTER COLUMN TYPE."""
    if target == JSONB:
        return f"to_jsonb({column_sql})"
    return f"{column_sql}::{target}"
