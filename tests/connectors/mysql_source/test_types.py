"""Every MySQL type the source maps, round-tripped through the engine into DuckDB: column type and value."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pytest
from tests.dbs import mysql_source_config

from .helpers import execute, sync_to_duckdb

COLUMNS = """
 id INT PRIMARY KEY,
 ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
 i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
 d DECIMAL(10,3), dbig DECIMAL(40,5), f FLOAT, db DOUBLE,
 b1 BIT(1), b8 BIT(8), bo BOOL,
 c CHAR(5), vc VARCHAR(20), tx TEXT, en ENUM('a','b','c'), st SET('x','y','z'),
 bn BINARY(4), vb VARBINARY(10), bl BLOB,
 dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), yr YEAR,
 js JSON, g GEOMETRY
"""

ROWS = [
    "(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808,"
    " 9223372036854775807, 1234567.891, 123456789012345678901234567890.12345, 1.1, 2.25,"
    " b'1', b'10101010', TRUE, 'ab', 'héllo', 'text ✓ 東京', 'b', 'x,z', 0x00FF1020, 0xDEAD, 0xBEEF00,"
    " '2024-02-29', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123456', '23:59:59.5', 2024,"
    """ '{"a": [1, 2, {"b": null}]}', ST_GeomFromText('POINT(1 2)'))""",
    "(2" + ", NULL" * 32 + ")",
    "(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 18446744073709551615, 0, 0, 0, 0, b'0', b'0', FALSE, '', '', '', 'a', '',"
    " 0x0, '', '', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '-01:00:00', 1901,"
    " '[]', NULL)",
    "(4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -0.5, -1.5, -3.5, -1e300, b'1', b'11111111', 7, 'zz', 'x', 'y', 'c',"
    " 'x,y,z', 0x61, 0x00, 0x00, '2023-00-10', '2023-01-00 10:00:00', '1970-01-01 00:00:01', '00:00:00',"
    """ 2155, '"text"', NULL)""",
]

UTC = dt.UTC
EXPECTED_TYPES = {
    **dict.fromkeys(
        ["id", "ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu", "b8", "yr"], "BIGINT"
    ),
    **dict.fromkeys(["d", "dbig", "f", "db"], "DOUBLE"),
    **dict.fromkeys(["b1", "bo"], "BOOLEAN"),
    **dict.fromkeys(["c", "vc", "tx", "en", "bn", "vb", "bl", "g"], "VARCHAR"),
    **dict.fromkeys(["st", "js"], "JSON"),
    "dt": "DATE",
    "dtm": "TIMESTAMP",
    "ts": "TIMESTAMP WITH TIME ZONE",
    "tm": "TIME",
}

EXPECTED_VALUES: dict[int, dict[str, Any]] = {
    1: {
        "ti": -128,
        "tiu": 255,
        "si": -32768,
        "siu": 65535,
        "mi": -8388608,
        "miu": 16777215,
        "i": -2147483648,
        "iu": 4294967295,
        "bi": -(2**63),
        "biu": 2**63 - 1,
        "d": 1234567.891,
        "dbig": 1.2345678901234568e29,
        "f": 1.1,
        "db": 2.25,
        "b1": True,
        "b8": 170,
        "bo": True,
        "c": "ab",
        "vc": "héllo",
        "tx": "text ✓ 東京",
        "en": "b",
        "st": ["x", "z"],
        "bn": "AP8QIA==",
        "vb": "3q0=",
        "bl": "vu8A",
        "dt": dt.date(2024, 2, 29),
        "dtm": dt.datetime(2024, 2, 29, 13, 14, 15, 123456),
        "ts": dt.datetime(2024, 2, 29, 13, 14, 15, 123456, tzinfo=UTC),
        "tm": dt.time(23, 59, 59, 500000),
        "yr": 2024,
        "js": {"a": [1, 2, {"b": None}]},
        "g": "POINT(1 2)",
    },
    2: dict.fromkeys(EXPECTED_TYPES.keys() - {"id"}),
    3: {
        "ti": 0,
        "biu": None,
        "d": 0.0,
        "b1": False,
        "b8": 0,
        "bo": False,
        "c": "",
        "en": "a",
        "st": [],
        "bn": "AAAAAA==",
        "vb": "",
        "dt": None,
        "dtm": None,
        "ts": None,
        "tm": None,
        "yr": 1901,
        "js": [],
    },
    4: {
        "biu": 1,
        "d": -0.5,
        "dbig": -1.5,
        "f": -3.5,
        "db": -1e300,
        "b1": True,
        "b8": 255,
        "bo": True,
        "st": ["x", "y", "z"],
        "bn": "YQAAAA==",
        "vb": "AA==",
        "dt": None,
        "dtm": None,
        "ts": dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
        "tm": dt.time(0, 0),
        "yr": 2155,
        "js": "text",
    },
}

EXPECTED_CHANGES = {
    1: [],
    2: [],
    3: [
        ("biu", "SOURCE_FIELD_SIZE_LIMITATION"),
        ("dt", "SOURCE_SERIALIZATION_ERROR"),
        ("dtm", "SOURCE_SERIALIZATION_ERROR"),
        ("tm", "SOURCE_FIELD_SIZE_LIMITATION"),
        ("ts", "SOURCE_SERIALIZATION_ERROR"),
    ],
    4: [("dt", "SOURCE_SERIALIZATION_ERROR"), ("dtm", "SOURCE_SERIALIZATION_ERROR")],
}


@pytest.fixture(scope="module")
def warehouse(mysql_db: str, tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    execute(
        mysql_db,
        # Zero dates only enter under a permissive sql_mode, as in the legacy databases that have them.
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE types ({COLUMNS})",
        f"INSERT INTO types VALUES {', '.join(ROWS)}",
    )
    path = tmp_path_factory.mktemp("types") / "warehouse.duckdb"
    sync_to_duckdb(mysql_source_config(mysql_db), path)
    con = duckdb.connect(str(path), read_only=True)
    con.execute(f'SET search_path = "{mysql_db}"')
    return con


def test_each_column_lands_with_its_duckdb_type(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = warehouse.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'types' AND column_name NOT LIKE '\\_airbyte%' ESCAPE '\\'"
    ).fetchall()
    assert dict(rows) == EXPECTED_TYPES


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@pytest.mark.parametrize("row_id", sorted(EXPECTED_VALUES))
def test_each_value_lands_as_stored(warehouse: duckdb.DuckDBPyConnection, row_id: int) -> None:
    # Through Arrow: DuckDB's own Python conversion of TIMESTAMPTZ needs pytz.
    (row,) = warehouse.sql(f"SELECT * FROM types WHERE id = {row_id}").to_arrow_table().to_pylist()
    got = {k: (_json(row[k]) if k in ("st", "js") else row[k]) for k in EXPECTED_VALUES[row_id]}
    assert got == EXPECTED_VALUES[row_id]


@pytest.mark.parametrize("row_id", sorted(EXPECTED_CHANGES))
def test_values_that_cannot_be_kept_are_null_with_a_reason(
    warehouse: duckdb.DuckDBPyConnection, row_id: int
) -> None:
    (meta,) = warehouse.execute("SELECT _airbyte_meta FROM types WHERE id = ?", [row_id]).fetchone() or (
        None,
    )
    changes = json.loads(meta)["changes"]
    assert all(c["change"] == "NULLED" for c in changes)
    assert sorted((c["field"], c["reason"]) for c in changes) == EXPECTED_CHANGES[row_id]
