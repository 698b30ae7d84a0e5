"""Bad and unusual values (reliability matrix B1-B5, B8, B11-B13) land in PostgreSQL, kept or NULL + reason.

Each case writes one row (or a few) and checks the stored value and the row's `_airbyte_meta.changes`.
"""

from __future__ import annotations

import decimal
import math
from typing import Any

import pyarrow as pa
import pytest

from ferry.cdk.batching import RecordBatch
from ferry.cdk.schema import JSON_METADATA
from ferry.errors import ConfigError

from .helpers import DEDUP, T0, Pg, batch, catalog, configured, props, state

NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
STRING = {"type": "string"}
OBJECT = {"type": "object"}
DATE = {"type": "string", "format": "date"}
TZ = {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
NAIVE = {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"}


def _changes(pg: Pg, table: str) -> dict[int, list[tuple[str, str, str]]]:
    rows = pg.query(f'SELECT id, _airbyte_meta FROM {{s}}."{table}" ORDER BY id')
    return {i: [(c["field"], c["change"], c["reason"]) for c in m["changes"]] for i, m in rows}


def _load_arrow(pg: Pg, name: str, schema: dict[str, Any], columns: dict[str, pa.Array]) -> None:
    s = configured(name, schema)
    data = pa.record_batch(list(columns.values()), names=list(columns))
    pg.run(catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])


# --- B1: NUL characters --------------------------------------------------------------------------


def test_nul_is_stripped_from_text_and_json_and_recorded(pg: Pg) -> None:
    s = configured("nul", props(id=INTEGER, s=STRING, o=OBJECT))
    rows = [
        {"id": 1, "s": "a\x00b", "o": {"k": "x\x00y", "n": 1}},
        {"id": 2, "s": "clean", "o": {"k": "escaped \\u0000 text stays"}},
        {"id": 3, "s": "\x00\x00", "o": ["\x00", "\x00\x00"]},
    ]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    assert pg.query("SELECT id, s, o FROM {s}.nul ORDER BY id") == [
        (1, "ab", {"k": "xy", "n": 1}),
        (2, "clean", {"k": "escaped \\u0000 text stays"}),
        (3, "", ["", ""]),
    ]
    stripped = ("TRUNCATED", "DESTINATION_SERIALIZATION_ERROR")
    assert _changes(pg, "nul") == {
        1: [("s", *stripped), ("o", *stripped)],
        2: [],
        3: [("s", *stripped), ("o", *stripped)],
    }


# --- B2: NaN and infinities --------------------------------------------------------------------------


def test_nan_and_infinities_are_kept_in_numeric_and_spelled_in_jsonb(pg: Pg) -> None:
    s = configured("special", props(id=INTEGER, n=NUMBER, o=OBJECT))
    values = [math.nan, math.inf, -math.inf, 0.0, 5e-324, 1.7976931348623157e308, 0.1]
    data = pa.record_batch(
        [
            pa.array(range(len(values)), pa.int64()),
            pa.array(values, pa.float64()),
            pa.array(values, pa.float64()),
        ],
        schema=pa.schema(
            [
                pa.field("id", pa.int64()),
                pa.field("n", pa.float64()),
                pa.field("o", pa.float64(), metadata=JSON_METADATA),
            ]
        ),
    )
    pg.run(catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])
    got = pg.query("SELECT n, o FROM {s}.special ORDER BY id")
    assert got[0][0].is_nan()
    assert got[0][1] == "NaN"
    assert got[1] == (decimal.Decimal("Infinity"), "Infinity")
    assert got[2] == (decimal.Decimal("-Infinity"), "-Infinity")
    assert [float(n) for n, _ in got[3:]] == values[3:]
    assert got[6][0] == decimal.Decimal("0.1")  # the float's shortest spelling, not its binary expansion
    assert all(c == [] for c in _changes(pg, "special").values())


# --- B3: dates -------------------------------------------------------------------------------------


def test_dates_before_christ_year_zero_and_beyond_9999_load_and_beyond_range_is_nulled(pg: Pg) -> None:
    days = [
        -80_000,  # 1750
        -719_162,  # 0001-01-01
        -719_163,  # year 0 in Arrow's astronomical count: 31 Dec 1 BC
        -800_000,  # 222 BC
        2_932_897,  # 10000-01-01
        -2_440_588,  # 4714-11-24 BC, PostgreSQL's first day
        -2_440_589,  # one day too early
        2_147_483_000,  # beyond 5874897 AD
    ]
    _load_arrow(
        pg,
        "dates",
        props(id=INTEGER, d=DATE),
        {"id": pa.array(range(len(days)), pa.int64()), "d": pa.array(days, pa.date32())},
    )
    got = [d for (d,) in pg.query("SELECT d::text FROM {s}.dates ORDER BY id")]
    assert got == [
        "1750-12-20",
        "0001-01-01",
        "0001-12-31 BC",
        "0222-09-04 BC",
        "10000-01-01",
        "4714-11-24 BC",
        None,
        None,
    ]
    size = [("d", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION")]
    assert _changes(pg, "dates") == {0: [], 1: [], 2: [], 3: [], 4: [], 5: [], 6: size, 7: size}


def test_timestamps_before_christ_and_before_postgres_range(pg: Pg) -> None:
    micros = [0, -80_000_000_000_000_000, 253_402_300_800_000_000, -210_866_803_200_000_001]
    _load_arrow(
        pg,
        "stamps",
        props(id=INTEGER, tz=TZ, ts=NAIVE),
        {
            "id": pa.array(range(4), pa.int64()),
            "tz": pa.array(micros, pa.timestamp("us", tz="UTC")),
            "ts": pa.array(micros, pa.timestamp("us")),
        },
    )
    got = pg.query("SELECT tz::text, ts::text FROM {s}.stamps ORDER BY id")
    assert got == [
        ("1970-01-01 00:00:00+00", "1970-01-01 00:00:00"),
        ("0567-11-26 01:46:40+00 BC", "0567-11-26 01:46:40 BC"),
        ("10000-01-01 00:00:00+00", "10000-01-01 00:00:00"),
        (None, None),
    ]
    assert _changes(pg, "stamps")[3] == [
        ("tz", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION"),
        ("ts", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION"),
    ]


def test_json_dates_outside_python_range_become_null_with_a_reason(pg: Pg) -> None:
    s = configured("jd", props(id=INTEGER, d=DATE, tz=TZ))
    rows = [
        {"id": 1, "d": "0000-00-00", "tz": "+20240-02-08T00:00:00Z"},
        {"id": 2, "d": "10000-01-01", "tz": "2024-01-01T00:00:00 BC"},
        {"id": 3, "d": "2024-02-29", "tz": "2024-02-29T12:00:00Z"},
    ]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    assert pg.query("SELECT id, d::text, tz::text FROM {s}.jd ORDER BY id") == [
        (1, None, None),
        (2, None, None),
        (3, "2024-02-29", "2024-02-29 12:00:00+00"),
    ]
    changes = _changes(pg, "jd")
    assert {f for f, *_ in changes[1]} == {"d", "tz"}
    assert {f for f, *_ in changes[2]} == {"d", "tz"}
    assert changes[3] == []


# --- B4: big numbers -------------------------------------------------------------------------------


def test_big_integers_and_numbers(pg: Pg) -> None:
    s = configured("big", props(id=INTEGER, i=INTEGER, n=NUMBER))
    rows = [
        {"id": 1, "i": 10**32, "n": 1e39},
        {"id": 2, "i": -(10**32), "n": -2e39},
        {"id": 3, "i": 2**63 - 1, "n": 50000.0000000000000001},
        {"id": 4, "i": -(2**63), "n": 10**32},
    ]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    got = pg.query("SELECT id, i, n FROM {s}.big ORDER BY id")
    assert got == [
        (1, None, decimal.Decimal(10**39)),
        (2, None, decimal.Decimal(-2 * 10**39)),
        (
            3,
            2**63 - 1,
            decimal.Decimal("50000"),
        ),  # a float cannot hold the tail; numeric keeps the float exactly
        (4, -(2**63), decimal.Decimal(10**32)),
    ]
    size = [("i", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION")]
    assert _changes(pg, "big") == {1: size, 2: size, 3: [], 4: []}


# --- B5: wrong-typed values --------------------------------------------------------------------------


def test_wrong_typed_values_become_null_with_a_reason_and_objects_in_text_keep_their_json(pg: Pg) -> None:
    s = configured("wrong", props(id=INTEGER, s=STRING, n=NUMBER, d=DATE, b={"type": "boolean"}, o=OBJECT))
    rows = [
        {"id": 1, "s": {}, "n": "foo", "d": "foo", "b": "foo", "o": []},
        {"id": 2, "s": [1, "x"], "n": "1.5", "d": "2024-01-01", "b": "true", "o": "plain text"},
    ]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    assert pg.query("SELECT id, s, n, d::text, b, o FROM {s}.wrong ORDER BY id") == [
        (1, "{}", None, None, None, []),
        (2, '[1,"x"]', decimal.Decimal("1.5"), "2024-01-01", True, "plain text"),
    ]
    serial = "DESTINATION_SERIALIZATION_ERROR"
    assert _changes(pg, "wrong") == {
        1: [("n", "NULLED", serial), ("d", "NULLED", serial), ("b", "NULLED", serial)],
        2: [],
    }


# --- values the server refuses: found, fixed, batch kept --------------------------------------------


def test_json_text_the_server_refuses_is_kept_as_a_json_string_and_the_batch_loads(pg: Pg) -> None:
    s = configured("refused", props(id=INTEGER, o=OBJECT, s=STRING))
    texts = [
        '{"ok": 1}',
        "not json at all",
        '"\\ud800 lone surrogate escape"',
        "[1, 2",
        '{"nul": "a\\u0000b"}',
    ]
    data = pa.record_batch(
        [pa.array(range(len(texts)), pa.int64()), pa.array(texts), pa.array(["x\x00"] * len(texts))],
        schema=pa.schema(
            [
                pa.field("id", pa.int64()),
                pa.field("o", pa.string(), metadata=JSON_METADATA),
                pa.field("s", pa.string()),
            ]
        ),
    )
    pg.run(catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])
    got = pg.query("SELECT o, s FROM {s}.refused ORDER BY id")
    assert [o for o, _ in got] == [
        {"ok": 1},
        "not json at all",
        '"\\ud800 lone surrogate escape"',
        "[1, 2",
        {"nul": "ab"},
    ]
    assert {s for _, s in got} == {"x"}
    changes = _changes(pg, "refused")
    assert changes[0] == [("s", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR")]
    stripped = ("TRUNCATED", "DESTINATION_SERIALIZATION_ERROR")
    assert sorted(changes[4]) == [("o", *stripped), ("s", *stripped)]
    assert changes[1] == changes[2] == changes[3] == [("s", *stripped)]  # kept as JSON strings: no change


def test_values_refused_by_an_existing_narrower_column_become_null_with_a_reason(pg: Pg) -> None:
    pg.query("CREATE SCHEMA {s}; CREATE TABLE {s}.narrow (id bigint, code varchar(3), small smallint)")
    s = configured("narrow", props(id=INTEGER, code=STRING, small=INTEGER))
    rows = [{"id": 1, "code": "abc", "small": 1}, {"id": 2, "code": "toolong", "small": 100_000}]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    assert pg.query("SELECT id, code, small FROM {s}.narrow ORDER BY id") == [(1, "abc", 1), (2, None, None)]
    size = "DESTINATION_FIELD_SIZE_LIMITATION"
    assert _changes(pg, "narrow")[2] == [("code", "NULLED", size), ("small", "NULLED", size)]


def test_values_refused_in_a_binary_copy_are_found_and_nulled(pg: Pg) -> None:
    # varchar(n) and numeric(p,s) have binary encodings: this batch goes as binary COPY, whose
    # refusals name the column just like CSV's.
    pg.query("CREATE SCHEMA {s}; CREATE TABLE {s}.typmod (id bigint, code varchar(3), amount numeric(5,2))")
    s = configured("typmod", props(id=INTEGER, code=STRING, amount=NUMBER))
    rows = [{"id": 1, "code": "abc", "amount": 123.456}, {"id": 2, "code": "toolong", "amount": 123456.7}]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    assert pg.query("SELECT id, code, amount FROM {s}.typmod ORDER BY id") == [
        (1, "abc", decimal.Decimal("123.46")),
        (2, None, None),
    ]
    size = "DESTINATION_FIELD_SIZE_LIMITATION"
    assert sorted(_changes(pg, "typmod")[2]) == [("amount", "NULLED", size), ("code", "NULLED", size)]


def test_a_failure_that_is_not_a_bad_value_is_raised_never_swallowed(pg: Pg) -> None:
    pg.query("CREATE SCHEMA {s}; CREATE TABLE {s}.strict (id bigint CHECK (id > 0))")
    s = configured("strict", props(id=INTEGER))
    with pytest.raises(ConfigError, match="strict"):
        pg.run(catalog(s), [batch(s, [{"id": 1}, {"id": -1}]), state(s)])
    assert pg.query("SELECT count(*) FROM {s}.strict") == [(0,)]


# --- B8: text encodings ----------------------------------------------------------------------------


def test_unicode_round_trips_byte_exact_and_invalid_utf8_is_replaced(pg: Pg) -> None:
    texts = [
        "emoji 😀🎉",
        "中文 日本語 한국어",
        "Ελληνικά",
        "quote ' \" \\ , ;",
        "",
        "line\nbreak\r\n",
        "tab\tend",
    ]
    raw = [t.encode() for t in texts] + [b"bad \xff\xfe byte", b"cesu \xed\xa0\x80 surrogate"]
    strings = pa.array(raw, pa.binary()).cast(pa.string(), safe=False)  # Arrow does not check UTF-8 here
    _load_arrow(
        pg, "texts", props(id=INTEGER, s=STRING), {"id": pa.array(range(len(raw)), pa.int64()), "s": strings}
    )
    got = [s for (s,) in pg.query("SELECT s FROM {s}.texts ORDER BY id")]
    assert got[: len(texts)] == texts
    assert got[len(texts)] == "bad \ufffd\ufffd byte"
    assert got[len(texts) + 1].startswith("cesu ")
    assert "\ufffd" in got[len(texts) + 1]
    changes = _changes(pg, "texts")
    assert all(changes[i] == [] for i in range(len(texts)))
    assert changes[len(texts)] == [("s", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR")]


# --- B11, B12: null keys and cursors (see also the dedup tests) --------------------------------------


def test_null_cursor_rows_lose_to_any_cursor_and_tie_by_arrival(pg: Pg) -> None:
    s = configured(mode=DEDUP)
    rows = [{"id": 1, "name": "a", "updated": None}, {"id": 1, "name": "b", "updated": None}]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    assert pg.users() == [(1, "b", None)]
    pg.run(catalog(s), [batch(s, [{"id": 1, "name": "c", "updated": 0}]), state(s)])
    pg.run(catalog(s), [batch(s, [{"id": 1, "name": "d", "updated": None}]), state(s)])
    assert pg.users() == [(1, "c", 0)]


# --- B13: timestamp spellings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "instant", "naive"),
    [
        ("2024-03-01T12:00:00Z", "2024-03-01 12:00:00+00", "2024-03-01 12:00:00"),
        ("2024-03-01T14:00:00+02:00", "2024-03-01 12:00:00+00", "2024-03-01 12:00:00"),
        ("2024-03-01T14:00:00+0200", "2024-03-01 12:00:00+00", "2024-03-01 12:00:00"),
        ("2024-03-01T14:00:00+02", "2024-03-01 12:00:00+00", "2024-03-01 12:00:00"),
        ("2024-03-01T07:00:00-05:00", "2024-03-01 12:00:00+00", "2024-03-01 12:00:00"),
        ("2024-03-01T12:00:00.123Z", "2024-03-01 12:00:00.123+00", "2024-03-01 12:00:00.123"),
        ("2024-03-01T12:00:00", "2024-03-01 12:00:00+00", "2024-03-01 12:00:00"),
        ("2024-03-01 12:00", "2024-03-01 12:00:00+00", "2024-03-01 12:00:00"),
    ],
)
def test_timestamp_spellings_mean_the_same_instant_and_naive_stays_naive(
    pg: Pg, text: str, instant: str, naive: str
) -> None:
    s = configured("spell", props(id=INTEGER, tz=TZ, ts=NAIVE))
    pg.run(catalog(s), [batch(s, [{"id": 1, "tz": text, "ts": text}]), state(s)])
    assert pg.query("SELECT tz::text, ts::text FROM {s}.spell") == [(instant, naive)]
