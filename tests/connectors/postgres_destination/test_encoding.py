"""Binary COPY encoders checked against the server's parsing, and the CSV path for foreign column types."""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pytest

from ferry.cdk.batching import RecordBatch
from ferry.connectors.destinations.postgres import binary

from .helpers import T0, Pg, batch, catalog, configured, props, state


def _copy_numeric(pg: Pg, spellings: list[str | None]) -> list[tuple[int, bool, bool]]:
    """Load `spellings` as binary numeric; per row: (row, same value, same text) as parsed by the server."""
    ids = binary.fixed(binary.big_endian(np.arange(len(spellings)), ">i8"), None)
    payload = binary.payload([ids, binary.numeric(pa.array(spellings, pa.string()))], len(spellings))
    pg.query("CREATE SCHEMA IF NOT EXISTS {s}; DROP TABLE IF EXISTS {s}.nums, {s}.texts")
    pg.query("CREATE TABLE {s}.nums (i bigint, v numeric); CREATE TABLE {s}.texts (i bigint, t text)")
    with pg._con.cursor() as cur, cur.copy(f'COPY "{pg.schema}".nums FROM STDIN (FORMAT binary)') as copy:
        copy.write(payload)
    with pg._con.cursor() as cur, cur.copy(f'COPY "{pg.schema}".texts FROM STDIN') as copy:
        for i, text in enumerate(spellings):
            copy.write_row((i, text))
    return pg.query(
        "SELECT n.i, n.v IS NOT DISTINCT FROM t.t::numeric, "
        "n.v::text IS NOT DISTINCT FROM t.t::numeric::text "
        "FROM {s}.nums n JOIN {s}.texts t USING (i) ORDER BY n.i"
    )


def _spellings() -> list[str | None]:
    rng = np.random.default_rng(5)
    floats = np.concatenate(
        [
            rng.standard_normal(300) * 10.0 ** rng.integers(-30, 30, 300),
            rng.random(100),
            rng.integers(-(10**15), 10**15, 100).astype(np.float64),
            [0.1, 0.5, 1e-7, 5e-324, 1.7976931348623157e308, -2e39, 1e39, 123456789.125, 1e20, 1e21, 1e22],
        ]
    )
    spelled: list[str | None] = pa.array(floats).cast(pa.string()).to_pylist()
    ints = [0, -1, 9999, 10000, 10001, 2**63 - 1, -(2**63), 10**17, -(10**18)]
    spelled += pa.array(ints, pa.int64()).cast(pa.string()).to_pylist()
    spelled += ["1.50", "-0.0001", "0.0", "-0", "100000000", "NaN", "Infinity", "-Infinity", None]
    spelled += ["0.00010000", "9999.9999", "1e+0", "12e-2", "-000123.4500", "0.000000000000000001"]
    return spelled


@pytest.mark.parametrize("long_digits", [False, True], ids=["int64-mantissas", "long-decimals"])
def test_numeric_binary_encoding_equals_the_servers_parse(pg: Pg, long_digits: bool) -> None:
    spelled = _spellings()
    if long_digits:  # one value too long for an int64 mantissa sends the whole column the general way
        spelled += ["123456789012345678901234567890.1234567890", "-0.0000000000000000000000000000001"]
    checked = _copy_numeric(pg, spelled)
    assert len(checked) == len(spelled)
    wrong = [
        (spelled[i], same_value, same_text)
        for i, same_value, same_text in checked
        if not (same_value and same_text)
    ]
    assert wrong == []


def test_floats_keep_their_shortest_spelling_in_numeric(pg: Pg) -> None:
    s = configured("floats", props(id={"type": "integer"}, n={"type": "number"}))
    values = [0.1, 2.675, 1 / 3, 1e-300, 6.02214076e23]
    pg.run(catalog(s), [batch(s, [{"id": i, "n": v} for i, v in enumerate(values)]), state(s)])
    got = [n for (n,) in pg.query("SELECT n FROM {s}.floats ORDER BY id")]
    assert got == [decimal.Decimal(repr(v)) for v in values]


def test_a_table_with_foreign_column_types_is_loaded_as_csv(pg: Pg) -> None:
    pg.query(
        "CREATE SCHEMA {s}; CREATE TABLE {s}.legacy (id integer, amount real, label varchar(20), "
        "day date, at timestamp(0) with time zone, flag boolean)"
    )
    schema = props(
        id={"type": "integer"},
        amount={"type": "number"},
        label={"type": "string"},
        day={"type": "string", "format": "date"},
        at={"type": "string", "format": "date-time"},
        flag={"type": "boolean"},
    )
    s = configured("legacy", schema)
    row = {
        "id": 7,
        "amount": 2.5,
        "label": "",
        "day": "2024-02-29",
        "at": "2024-01-01T10:00:00.6Z",
        "flag": False,
    }
    pg.run(catalog(s), [batch(s, [row, {"id": 8}]), state(s)])
    assert pg.column_types("legacy")["id"] == "integer"  # kept: integer already holds what bigint would
    assert pg.query("SELECT id, amount, label, day::text, at::text, flag FROM {s}.legacy ORDER BY id") == [
        (7, 2.5, "", "2024-02-29", "2024-01-01 10:00:01+00", False),
        (8, None, None, None, None, None),
    ]


def test_decimal_arrow_columns_load_exactly(pg: Pg) -> None:
    s = configured("dec", props(id={"type": "integer"}, n={"type": "number"}))
    values = [decimal.Decimal("12345678901234567890.1234567890"), decimal.Decimal("-0.0000000001"), None]
    data = pa.record_batch(
        [pa.array([1, 2, 3], pa.int64()), pa.array(values, pa.decimal128(38, 10))], names=["id", "n"]
    )
    pg.run(catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])
    assert [n for (n,) in pg.query("SELECT n FROM {s}.dec ORDER BY id")] == values
