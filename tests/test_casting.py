"""The typed path: JSON values into Arrow columns, with NULL and a reason for values that do not fit."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa
import pytest

from ferry.cdk.batching import StreamTyper

UTC = dt.UTC


def one(prop: dict[str, Any], value: Any) -> tuple[Any, list[dict[str, str]] | None]:
    typer = StreamTyper({"type": "object", "properties": {"v": prop}})
    row = typer.from_rows([{"v": value}]).to_pylist()[0]
    return row["v"], row.get("_ferry_changes")


TS = {"type": "string", "format": "date-time"}
NAIVE = {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"}


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01T04:00:00Z",
        "2024-03-01T05:00:00+01:00",
        "2024-03-01T05:00:00+0100",
        "2024-03-01T05:00:00+01",
        "2024-02-29T20:00:00-08:00",
        "2024-03-01 04:00:00Z",
        "2024-03-01T04:00:00.000Z",
    ],
)
def test_timestamp_spellings_mean_the_same_instant(text: str) -> None:
    assert one(TS, text) == (dt.datetime(2024, 3, 1, 4, tzinfo=UTC), None)


def test_naive_timestamps_stay_naive() -> None:
    assert one(NAIVE, "2024-03-01T04:00:00") == (dt.datetime(2024, 3, 1, 4), None)


@pytest.mark.parametrize(
    ("prop", "value", "reason"),
    [
        ({"type": "integer"}, 10**32, "DESTINATION_FIELD_SIZE_LIMITATION"),
        ({"type": "integer"}, "foo", "DESTINATION_SERIALIZATION_ERROR"),
        ({"type": "integer"}, {}, "DESTINATION_SERIALIZATION_ERROR"),
        ({"type": "number"}, 10**400, "DESTINATION_FIELD_SIZE_LIMITATION"),
        ({"type": "number"}, "foo", "DESTINATION_SERIALIZATION_ERROR"),
        ({"type": "boolean"}, "maybe", "DESTINATION_SERIALIZATION_ERROR"),
        ({"type": "string", "format": "date"}, "2023-02-30", "DESTINATION_SERIALIZATION_ERROR"),
        ({"type": "string", "format": "date"}, "airbyte", "DESTINATION_SERIALIZATION_ERROR"),
        (TS, "+20240-02-08T00:00:00Z", "DESTINATION_FIELD_SIZE_LIMITATION"),
        (TS, "0044-03-15T00:00:00 BC", "DESTINATION_FIELD_SIZE_LIMITATION"),
        ({"type": "string"}, "lone \ud800 surrogate", "DESTINATION_SERIALIZATION_ERROR"),
    ],
)
def test_values_that_do_not_fit_become_null_with_a_reason(
    prop: dict[str, Any], value: Any, reason: str
) -> None:
    got, changes = one(prop, value)
    assert got is None
    assert changes == [{"field": "v", "change": "NULLED", "reason": reason}]


@pytest.mark.parametrize(
    ("prop", "value", "expected"),
    [
        ({"type": "integer"}, "42", 42),
        ({"type": "integer"}, 7.0, 7),
        ({"type": "number"}, 50000.0000000000000001, 50000.0),
        ({"type": "number"}, "NaN", "nan"),
        ({"type": "string"}, 12, "12"),
        ({"type": "string"}, {"a": 1}, '{"a":1}'),
        ({"type": "string"}, "emoji 🚀 中文 ελληνικά", "emoji 🚀 中文 ελληνικά"),
        ({"type": "object"}, {"a": [1, {"b": None}]}, '{"a":[1,{"b":null}]}'),
        ({}, [1, "x"], '[1,"x"]'),
        ({"type": "boolean"}, "true", True),
    ],
)
def test_values_that_fit_are_kept_exactly(prop: dict[str, Any], value: Any, expected: Any) -> None:
    got, changes = one(prop, value)
    if expected == "nan":
        assert isinstance(got, float)
        assert math.isnan(got)  # NaN stays NaN, never a silent null
    else:
        assert got == expected
    assert changes is None


def test_arrow_batches_are_cast_and_unknown_columns_dropped() -> None:
    typer = StreamTyper({"type": "object", "properties": {"id": {"type": "integer"}, "ts": TS}})
    batch = pa.RecordBatch.from_pydict(
        {"id": pa.array([1, None], pa.int32()), "ts": ["2024-01-01T00:00:00Z", "x"], "extra": [1, 2]}
    )
    out = typer.conform(batch)
    assert out.schema.names == ["id", "ts", "_ferry_changes"]
    assert out.column("id").type == pa.int64()
    assert out.to_pylist()[1]["_ferry_changes"] == [
        {"field": "ts", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}
    ]


def test_source_changes_are_kept_beside_the_typing_ones() -> None:
    typer = StreamTyper({"type": "object", "properties": {"n": {"type": "integer"}}})
    prior = [[{"field": "big", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}]]
    row = typer.from_rows([{"n": "x"}], prior).to_pylist()[0]
    assert [c["reason"] for c in row["_ferry_changes"]] == [
        "SOURCE_FIELD_SIZE_LIMITATION",
        "DESTINATION_SERIALIZATION_ERROR",
    ]
