"""Every PostgreSQL type the source covers, with its edge values, read to Arrow and synced into DuckDB.

One table holds a column per type; its rows are: ordinary values, all NULLs, and the edges (NaN,
±Infinity, ±infinity dates and timestamps, numerics past a double, BC dates, 24:00, emoji, empty
and nested arrays, nested jsonb). Values that cannot be carried land as NULL with a reason.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from ferry.cdk.schema import arrow_schema
from ferry.connectors.destinations.duckdb import DuckDBDestination
from ferry.connectors.sources.postgres import PostgresSource
from ferry.engine import InProcessDestination, InProcessSource, MemoryStateStore, Sync, configure_catalog
from ferry.engine.catalog import StreamSelection
from ferry.protocol import ConfiguredCatalog, DestinationSyncMode, SyncMode

from .helpers import Pg, configured, read

UTC = dt.UTC

TABLE = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE DOMAIN price AS numeric(10, 2);
CREATE TABLE types (
    id integer PRIMARY KEY,
    i2 smallint, i4 integer, i8 bigint,
    num numeric, num12 numeric(12, 2), f4 real, f8 double precision,
    txt text, vc varchar(20), ch char(4),
    b boolean, d date, tm time, tmtz timetz, ts timestamp, tstz timestamptz,
    iv interval, u uuid, j json, jb jsonb,
    ai integer[], at text[], a2 integer[][], ae mood[],
    e mood, by bytea, ip inet, net cidr, m money, dom positive, pr price
);
INSERT INTO types VALUES
 (1, 1, 2, 3, 123.456, 1.50, 0.1, 2.5, 'héllo wörld', 'vc', 'ab', true, '2024-01-02', '12:34:56.789',
  '12:00+02', '2024-01-01 10:00:00.123456', '2024-01-01 10:00+02', '1 year 2 months 3 days 04:05:06.5',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null, "d": [1, {"e": "f"}]}}',
  '{1,2,NULL}', '{"x","y z"}', '{{1,2},{3,4}}', '{sad,happy}', 'happy', '\\x00ff', '192.168.0.1/24',
  '10.0.0.0/8', '1234.56', 5, 9.99),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, -32768, -2147483648, -9223372036854775808, 'NaN', -0.01, 'NaN', 'Infinity', '😀 emoji 東京', '',
  '', false, 'infinity', '24:00', '00:00-12', '-infinity', 'infinity', '-1 days -00:00:01',
  '00000000-0000-0000-0000-000000000000', 'null', '[]', '{}', '{}', '{}', '{}', 'sad', '', '::1',
  '::/0', '-5.25', 1, 0),
 (4, 32767, 2147483647, 9223372036854775807, 123456789012345678901234567890.123456789, 9999999999.99,
  '-Infinity', '-Infinity', 'tab\tnewline\nquote''"', 'x', 'abcd', true, '-infinity', '00:00',
  '23:59:59.999999+14', 'infinity', '-infinity', 'P0D', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '"just a string"', '123', '{-1}', '{""}', '{{NULL}}', '{happy}', 'happy', '\\xdeadbeef',
  '2001:db8::1', '2001:db8::/32', '0', 2147483647, -99999999.99),
 (5, 0, 0, 0, 1e400, 0, 0, 1e308, 'x', 'x', 'x', false, '0044-03-15 BC', '00:00:00.000001', NULL,
  '294276-12-31 23:59:59', '10000-01-01 00:00+00', NULL, NULL, '{}', '{"k": {"k": {"k": [[], {}]}}}',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""

NULLED_SERIAL = "SOURCE_SERIALIZATION_ERROR"
NULLED_SIZE = "SOURCE_FIELD_SIZE_LIMITATION"

# Per column: the DuckDB type, then per row id the value DuckDB holds (rows not listed hold NULL).
EXPECTED: dict[str, tuple[str, dict[int, Any]]] = {
    "i2": ("BIGINT", {1: 1, 3: -32768, 4: 32767, 5: 0}),
    "i4": ("BIGINT", {1: 2, 3: -(2**31), 4: 2**31 - 1, 5: 0}),
    "i8": ("BIGINT", {1: 3, 3: -(2**63), 4: 2**63 - 1, 5: 0}),
    "num": ("DOUBLE", {1: 123.456, 3: math.nan, 4: 1.2345678901234568e29}),
    "num12": ("DOUBLE", {1: 1.5, 3: -0.01, 4: 9999999999.99, 5: 0.0}),
    "f4": ("DOUBLE", {1: 0.1, 3: math.nan, 4: -math.inf, 5: 0.0}),
    "f8": ("DOUBLE", {1: 2.5, 3: math.inf, 4: -math.inf, 5: 1e308}),
    "txt": ("VARCHAR", {1: "héllo wörld", 3: "😀 emoji 東京", 4: "tab\tnewline\nquote'\"", 5: "x"}),
    "vc": ("VARCHAR", {1: "vc", 3: "", 4: "x", 5: "x"}),
    "ch": ("VARCHAR", {1: "ab  ", 3: "    ", 4: "abcd", 5: "x   "}),
    "b": ("BOOLEAN", {1: True, 3: False, 4: True, 5: False}),
    "d": ("DATE", {1: dt.date(2024, 1, 2)}),
    "tm": ("TIME", {1: dt.time(12, 34, 56, 789000), 4: dt.time(0, 0), 5: dt.time(0, 0, 0, 1)}),
    "tmtz": ("VARCHAR", {1: "12:00:00+02", 3: "00:00:00-12", 4: "23:59:59.999999+14"}),
    "ts": ("TIMESTAMP", {1: dt.datetime(2024, 1, 1, 10, 0, 0, 123456)}),
    "tstz": ("TIMESTAMP WITH TIME ZONE", {1: dt.datetime(2024, 1, 1, 8, 0, tzinfo=UTC)}),
    "iv": ("VARCHAR", {1: "P1Y2M3DT4H5M6.5S", 3: "P-1DT-1S", 4: "PT0S"}),
    "u": (
        "UUID",
        {
            1: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            3: "00000000-0000-0000-0000-000000000000",
            4: "ffffffff-ffff-ffff-ffff-ffffffffffff",
        },
    ),
    # Row 3 holds JSON null, which reads back as None whether kept as JSON null or SQL NULL.
    "j": ("JSON", {1: {"a": [1, 2]}, 4: "just a string", 5: {}}),
    "jb": (
        "JSON",
        {1: {"b": {"c": None, "d": [1, {"e": "f"}]}}, 3: [], 4: 123, 5: {"k": {"k": {"k": [[], {}]}}}},
    ),
    "ai": ("JSON", {1: [1, 2, None], 3: [], 4: [-1]}),
    "at": ("JSON", {1: ["x", "y z"], 3: [], 4: [""]}),
    "a2": ("JSON", {1: [[1, 2], [3, 4]], 3: [], 4: [[None]]}),
    "ae": ("JSON", {1: ["sad", "happy"], 3: [], 4: ["happy"]}),
    "e": ("VARCHAR", {1: "happy", 3: "sad", 4: "happy"}),
    "by": ("VARCHAR", {1: "AP8=", 3: "", 4: "3q2+7w=="}),
    "ip": ("VARCHAR", {1: "192.168.0.1/24", 3: "::1", 4: "2001:db8::1"}),
    "net": ("VARCHAR", {1: "10.0.0.0/8", 3: "::/0", 4: "2001:db8::/32"}),
    "m": ("DOUBLE", {1: 1234.56, 3: -5.25, 4: 0.0}),
    "dom": ("BIGINT", {1: 5, 3: 1, 4: 2147483647}),
    "pr": ("DOUBLE", {1: 9.99, 3: 0.0, 4: -99999999.99}),
}

# Row id -> the columns nulled with a reason (everything else in those rows is carried).
NULLED = {
    3: {"d": NULLED_SERIAL, "tm": NULLED_SERIAL, "ts": NULLED_SERIAL, "tstz": NULLED_SERIAL},
    4: {"d": NULLED_SERIAL, "ts": NULLED_SERIAL, "tstz": NULLED_SERIAL},
    5: {"num": NULLED_SIZE, "d": NULLED_SIZE, "ts": NULLED_SIZE, "tstz": NULLED_SIZE},
}


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return bool(actual == expected)


@pytest.fixture
def types_table(pg: Pg) -> Pg:
    pg.run(TABLE)
    return pg


def test_discovered_schema_names_each_type(types_table: Pg) -> None:
    stream = configured(types_table.config(), "types").stream
    props = stream.json_schema["properties"]
    assert stream.source_defined_primary_key == [["id"]]
    assert props["i8"] == {"type": ["null", "integer"]}
    assert props["num12"] == {"type": ["null", "number"]}
    assert props["tstz"]["airbyte_type"] == "timestamp_with_timezone"
    assert props["ts"]["airbyte_type"] == "timestamp_without_timezone"
    assert props["tmtz"]["airbyte_type"] == "time_with_timezone"
    assert props["jb"] == {}  # any JSON value
    assert props["ai"] == {"type": ["null", "array"]}
    assert props["dom"] == {"type": ["null", "integer"]}  # a domain is its base type
    assert props["by"]["contentEncoding"] == "base64"


def test_batches_already_have_the_stream_schema(types_table: Pg) -> None:
    """The engine's conform step finds nothing to do: the source emits the stream's exact Arrow types."""
    config = types_table.config()
    stream = configured(config, "types")
    target = arrow_schema(stream.stream.json_schema)
    for item in PostgresSource().read(config, ConfiguredCatalog([stream])):
        data = getattr(item, "data", None)
        if isinstance(data, pa.RecordBatch):
            narrowed = pa.schema([data.schema.field(name) for name in target.names])
            assert narrowed.equals(target, check_metadata=False)


def test_values_and_reasons_read_to_arrow(types_table: Pg) -> None:
    config = types_table.config()
    got = read(config, configured(config, "types"))
    by_id = {row["id"]: (row, changes) for row, changes in zip(got.rows, got.changes, strict=True)}
    assert sorted(by_id) == [1, 2, 3, 4, 5]
    problems = []
    for column, (_, values) in EXPECTED.items():
        for row_id in by_id:
            actual = by_id[row_id][0][column]
            expected = values.get(row_id)
            if column in ("j", "jb", "ai", "at", "a2", "ae") and actual is not None:
                actual = json.loads(actual)
            if not _same(actual, expected):
                problems.append(f"{column} row {row_id}: {actual!r} != {expected!r}")
    assert problems == []
    for row_id, (_, changes) in by_id.items():
        reasons = {c["field"]: c["reason"] for c in changes or []}
        assert reasons == NULLED.get(row_id, {}), row_id


def _sync_to_duckdb(config: dict[str, Any], path: Path) -> Any:
    source = InProcessSource(PostgresSource(), config)
    destination = InProcessDestination(DuckDBDestination(), {"path": str(path)})
    selection = StreamSelection(
        "types", config["schemas"][0], SyncMode.full_refresh, DestinationSyncMode.overwrite
    )
    catalog = configure_catalog(source.discover(), [selection], destination.supported_sync_modes)
    return Sync(source, destination, catalog, MemoryStateStore()).run()


def test_every_type_lands_in_duckdb_with_its_type_and_value(types_table: Pg, tmp_path: Path) -> None:
    config = types_table.config()
    result = _sync_to_duckdb(config, tmp_path / "w.duckdb")
    assert result.succeeded, result.error
    assert result.records_committed == 5
    schema = types_table.schema
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = 'types'",
                [schema],
            ).fetchall()
        )
        table = con.sql(f'SELECT * FROM "{schema}".types ORDER BY id').to_arrow_table().to_pylist()
    problems = []
    for column, (duck_type, values) in EXPECTED.items():
        if types[column] != duck_type:
            problems.append(f"{column}: DuckDB type {types[column]}, expected {duck_type}")
        for row in table:
            actual, expected = row[column], values.get(row["id"])
            if duck_type == "JSON" and actual is not None:
                actual = json.loads(actual)
            if not _same(actual, expected):
                problems.append(f"{column} row {row['id']}: {actual!r} != {expected!r}")
    assert problems == []
    for row in table:
        changes = json.loads(row["_airbyte_meta"])["changes"]
        assert {c["field"]: c["reason"] for c in changes} == NULLED.get(row["id"], {}), row["id"]


def test_numeric_as_string_keeps_every_digit(types_table: Pg) -> None:
    config = types_table.config(numeric_as_string=True)
    stream = configured(config, "types")
    assert stream.stream.json_schema["properties"]["num"] == {"type": ["null", "string"]}
    got = read(config, stream)
    by_id = {row["id"]: row for row in got.rows}
    assert [by_id[i]["num"] for i in (1, 2, 3, 4)] == [
        "123.456",
        None,
        "NaN",
        "123456789012345678901234567890.123456789",
    ]
    assert by_id[5]["num"] == "1" + "0" * 400
    assert (by_id[1]["num12"], by_id[1]["m"], by_id[4]["pr"]) == ("1.50", "1234.56", "-99999999.99")
    assert got.changes[4] == [
        {"field": field, "change": "NULLED", "reason": NULLED_SIZE} for field in ("d", "ts", "tstz")
    ]
