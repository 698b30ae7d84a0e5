"""Identifier torture (reliability matrix B9) and collisions (B10) against the real server's 63-byte names."""

from __future__ import annotations

import pytest

from ferry.cdk.identifiers import normalize
from ferry.errors import ConfigError

from .helpers import DEDUP, OVERWRITE, Pg, batch, catalog, configured, props, state

SPECIAL = ["$", "${", "${foo}", '"', "'", "`", ".", "$$", "\\", "{", "}", "select", "Mixed Case", "😀", "表"]
WEIRD_COLUMNS = [
    "$starts_with_dollar_sign",
    'includes"doublequote',
    "includes'singlequote",
    "includes`backtick",
    "includes.period",
    "includes$$doubledollar",
    "endswithbackslash\\",
    "{curly}",
    "with space",
    "select",
    "from",
    "order",
    "user",
    "MixedCase",
    "c" * 255,
    "emoji😀",
    "名前",
]


@pytest.mark.parametrize("name", SPECIAL)
def test_special_characters_in_namespace_stream_key_and_cursor(pg: Pg, name: str) -> None:
    namespace = f"{pg.schema}{name}"
    schema = props(**{name: {"type": "integer"}, f"cursor{name}": {"type": "integer"}})
    s = configured(name, schema, DEDUP, namespace=namespace, key=[[name]], cursor=[f"cursor{name}"])
    rows = [{name: 1, f"cursor{name}": 1}, {name: 1, f"cursor{name}": 2}]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    schema_name, table = normalize(namespace, 63), normalize(name, 63)
    column, cursor = normalize(name, 63), normalize(f"cursor{name}", 63)
    got = pg.query(f'SELECT "{column}", "{cursor}" FROM "{schema_name}"."{table}"')
    pg.query(f'DROP SCHEMA "{schema_name}" CASCADE')
    assert got == [(1, 2)]


def test_torture_column_names_are_created_and_queryable(pg: Pg) -> None:
    s = configured("weird", props(**{c: {"type": "string"} for c in WEIRD_COLUMNS}))
    pg.run(catalog(s), [batch(s, [{c: f"value of {c}" for c in WEIRD_COLUMNS}]), state(s)])
    types = pg.column_types("weird")
    assert len(types) == len(WEIRD_COLUMNS) + 4
    assert {"select", "from", "order", "user", "includes_doublequote", "名前"} <= set(types)
    assert all(len(name.encode()) <= 63 for name in types)
    long_name = normalize("c" * 255, 63)
    assert long_name in types
    assert long_name.startswith("c" * 50)
    assert pg.query(f'SELECT "select", "from", "order", "user", "名前", "{long_name}" FROM {{s}}.weird') == [
        (
            "value of select",
            "value of from",
            "value of order",
            "value of user",
            "value of 名前",
            "value of " + "c" * 255,
        )
    ]


def test_long_multibyte_names_are_cut_on_a_character_boundary_with_a_hash(pg: Pg) -> None:
    a, b = configured("表" * 40 + "a"), configured("表" * 40 + "b")
    pg.run(catalog(a, b), [batch(a, [{"id": 1}]), batch(b, [{"id": 2}]), state(a)])
    names = sorted(pg.tables())
    assert len(names) == 2
    assert all(len(n.encode()) <= 63 and n.startswith("表" * 10) for n in names)
    assert names == sorted([normalize(a.stream.name, 63), normalize(b.stream.name, 63)])


@pytest.mark.parametrize(
    ("columns", "named"),
    [
        (["userName", "username"], ["userName", "username"]),
        (["User Id", "user_id", "user id"], ["User Id", "user_id"]),
        (["id", "_AIRBYTE_META"], ["_AIRBYTE_META"]),
    ],
)
def test_column_collisions_are_reported_before_anything_is_written(
    pg: Pg, columns: list[str], named: list[str]
) -> None:
    s = configured("clash", props(**{c: {"type": "string"} for c in columns}))
    with pytest.raises(ConfigError) as raised:
        pg.run(catalog(s), [batch(s, [dict.fromkeys(columns, "x")]), state(s)])
    for name in named:
        assert f"'{name}'" in str(raised.value)
    assert pg.query("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [pg.schema]) == [(0,)]


def test_names_equal_after_truncation_stay_distinct(pg: Pg) -> None:
    first, second = "x" * 70 + "_one", "x" * 70 + "_two"
    s = configured("trunc", props(**{first: {"type": "integer"}, second: {"type": "integer"}}))
    pg.run(catalog(s), [batch(s, [{first: 1, second: 2}]), state(s)])
    assert pg.query(f'SELECT "{normalize(first, 63)}", "{normalize(second, 63)}" FROM {{s}}.trunc') == [
        (1, 2)
    ]


def test_stream_collisions_are_reported_before_anything_is_written(pg: Pg) -> None:
    with pytest.raises(ConfigError, match="stream 'Center' and stream 'center'"):
        pg.run(catalog(configured("Center"), configured("center")), [])
    with pytest.raises(ConfigError, match="staging table of stream 'users'"):
        pg.run(catalog(configured(mode=OVERWRITE, generation=1), configured("users_ferry_staging")), [])
    with pytest.raises(ConfigError, match="key index of stream 'users'"):
        pg.run(catalog(configured(mode=DEDUP), configured("users_ferry_key")), [])
    assert pg.query("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [pg.schema]) == [(0,)]
