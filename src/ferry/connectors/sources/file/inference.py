"""Column types inferred from sample values, merged across files, and written as JSON-schema properties.

A column gets a type only when every sampled value has its shape; otherwise it is a string, which keeps
every value. Integers beyond int64 make the column a string, so their digits are kept exactly.
Values with leading zeros (`007`, zip codes) stay strings too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.casting import INT64_MAX, INT64_MIN
from ferry.cdk.schema import json_type_of_arrow


class Inferred(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP_TZ = "timestamp_with_timezone"
    TIMESTAMP = "timestamp_without_timezone"
    TIME = "time"
    OBJECT = "object"
    ARRAY = "array"
    JSON = "json"
    """Values of several kinds, nested ones among them: kept as JSON."""


def _nullable(json_type: str, **extra: str) -> dict[str, Any]:
    return {"type": ["null", json_type], **extra}


# The same shapes json_type_of_arrow produces, so Parquet and text inference describe a type one way.
_PROPERTIES: dict[Inferred, dict[str, Any]] = {
    Inferred.STRING: _nullable("string"),
    Inferred.INTEGER: _nullable("integer"),
    Inferred.NUMBER: _nullable("number"),
    Inferred.BOOLEAN: _nullable("boolean"),
    Inferred.DATE: _nullable("string", format="date"),
    Inferred.TIMESTAMP_TZ: _nullable("string", format="date-time", airbyte_type="timestamp_with_timezone"),
    Inferred.TIMESTAMP: _nullable("string", format="date-time", airbyte_type="timestamp_without_timezone"),
    Inferred.TIME: _nullable("string", format="time", airbyte_type="time_without_timezone"),
    Inferred.OBJECT: _nullable("object"),
    Inferred.ARRAY: _nullable("array"),
    Inferred.JSON: {"type": ["null", "string", "number", "boolean", "object", "array"]},
}
_BY_PROPERTY = {orjson.dumps(p, option=orjson.OPT_SORT_KEYS): k for k, p in _PROPERTIES.items()}
_NESTED = frozenset({Inferred.OBJECT, Inferred.ARRAY, Inferred.JSON})

# One pattern language for pyarrow (RE2) and Python's re: anchored, no look-around.
_BOOL = r"^(?i:true|false)$"
_INT = r"^[+-]?(0|[1-9][0-9]*)$"
_NUMBER = r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
_TIMESTAMP_TZ = _DATETIME + r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_TIMESTAMP = _DATETIME + "$"
_TEXT_SHAPES = [
    (re.compile(_DATE), Inferred.DATE),
    (re.compile(_TIMESTAMP_TZ), Inferred.TIMESTAMP_TZ),
    (re.compile(_TIMESTAMP), Inferred.TIMESTAMP),
]


def property_of(kind: Inferred | None) -> dict[str, Any]:
    """The JSON-schema property for a column; a column with no sampled value is a string."""
    return dict(_PROPERTIES[kind or Inferred.STRING])


def merge(a: Inferred | None, b: Inferred | None) -> Inferred | None:
    """One type for values of types a and b (None: no value seen yet)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if {a, b} == {Inferred.INTEGER, Inferred.NUMBER}:
        return Inferred.NUMBER
    if a in _NESTED or b in _NESTED:
        return Inferred.JSON
    return Inferred.STRING


def merge_columns(into: dict[str, Inferred | None], new: Mapping[str, Inferred | None]) -> None:
    """Merge one file's columns into the stream's: known columns widen, new ones are appended."""
    for name, kind in new.items():
        into[name] = merge(into[name], kind) if name in into else kind


def _all_match(values: pa.Array[Any], pattern: str) -> bool:
    return bool(pc.all(pc.match_substring_regex(values, pattern=pattern)).as_py())


def infer_text(array: pa.Array[Any]) -> Inferred | None:
    """The type of a column of text values (CSV); empty values say nothing and are ignored."""
    values = pc.utf8_trim_whitespace(array)
    values = pc.filter(values, pc.not_equal(values, pa.scalar("")))
    if len(values) == 0:
        return None
    if _all_match(values, _BOOL):
        return Inferred.BOOLEAN
    if _all_match(values, _INT):
        try:
            pc.cast(values, pa.int64())
        except pa.ArrowInvalid:
            return Inferred.STRING  # beyond int64: a string keeps every digit
        return Inferred.INTEGER
    for pattern, kind in ((_NUMBER, Inferred.NUMBER), (_DATE, Inferred.DATE)):
        if _all_match(values, pattern):
            return kind
    for pattern, kind in ((_TIMESTAMP_TZ, Inferred.TIMESTAMP_TZ), (_TIMESTAMP, Inferred.TIMESTAMP)):
        if _all_match(values, pattern):
            return kind
    return Inferred.STRING


def infer_value(value: Any) -> Inferred | None:
    """The type of one JSON value. JSON strings are only ever dates, timestamps or strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Inferred.BOOLEAN
    if isinstance(value, int):
        return Inferred.INTEGER if INT64_MIN <= value <= INT64_MAX else Inferred.STRING
    if isinstance(value, float):
        return Inferred.NUMBER
    if isinstance(value, dict):
        return Inferred.OBJECT
    if isinstance(value, list):
        return Inferred.ARRAY
    text = str(value).strip()
    for pattern, kind in _TEXT_SHAPES:
        if pattern.match(text):
            return kind
    return Inferred.STRING


def infer_arrow(dtype: pa.DataType) -> Inferred:
    """The type of a Parquet (Arrow) column, through the connector kit's Arrow -> JSON-schema mapping."""
    prop = json_type_of_arrow(dtype)
    return _BY_PROPERTY.get(orjson.dumps(prop, option=orjson.OPT_SORT_KEYS), Inferred.STRING)
