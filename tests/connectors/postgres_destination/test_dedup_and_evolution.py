"""append_dedup and overwrite_dedup merges, CDC deletes, and schema evolution, against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ferry.errors import ConfigError
from ferry.protocol.builders import completed_status

from .helpers import (
    APPEND,
    CDC_USERS,
    DEDUP,
    OVERWRITE_DEDUP,
    T0,
    Pg,
    batch,
    catalog,
    configured,
    counts,
    props,
    state,
)


def test_dedup_keeps_the_newest_row_per_key_by_cursor_nulls_last(pg: Pg) -> None:
    s = configured(mode=DEDUP)
    rows = [
        {"id": 1, "name": "old", "updated": 1},
        {"id": 1, "name": "new", "updated": 5},
        {"id": 1, "name": "older", "updated": 0},
        {"id": 2, "name": "null cursor", "updated": None},
        {"id": 2, "name": "has cursor", "updated": 1},
    ]
    out = pg.run(catalog(s), [batch(s, rows), state(s)])
    assert counts(out) == [5.0]  # rows received, as COPY reported them, not rows kept
    assert pg.users() == [(1, "new", 5), (2, "has cursor", 1)]


def test_cursor_ties_go_to_the_later_extraction_then_the_later_arrival(pg: Pg) -> None:
    s = configured(mode=DEDUP)
    pg.run(
        catalog(s),
        [
            batch(s, [{"id": 1, "name": "later extraction", "updated": 1}], T0 + 10),
            batch(s, [{"id": 1, "name": "earlier extraction", "updated": 1}], T0),
            batch(
                s, [{"id": 2, "name": "first", "updated": 1}, {"id": 2, "name": "second", "updated": 1}], T0
            ),
            state(s),
        ],
    )
    assert pg.users() == [(1, "later extraction", 1), (2, "second", 1)]
    # a new row that ties with the stored one on cursor and extraction time wins: it arrived later
    pg.run(catalog(s), [batch(s, [{"id": 2, "name": "next sync", "updated": 1}], T0), state(s)])
    assert pg.users() == [(1, "later extraction", 1), (2, "next sync", 1)]


def test_dedup_without_cursor_orders_by_extraction_then_arrival(pg: Pg) -> None:
    s = configured("users", props(id={"type": "integer"}, name={"type": "string"}), DEDUP)
    pg.run(
        catalog(s),
        [
            batch(s, [{"id": 1, "name": "b"}], T0 + 10),
            batch(s, [{"id": 1, "name": "a"}, {"id": 2, "name": "x"}, {"id": 2, "name": "y"}], T0),
            state(s),
        ],
    )
    assert pg.query("SELECT id, name FROM {s}.users ORDER BY id") == [(1, "b"), (2, "y")]


def test_dedup_merges_across_commits_and_syncs_and_cleans_earlier_duplicates(pg: Pg) -> None:
    a = configured()
    pg.run(
        catalog(a),
        [batch(a, [{"id": 3, "name": "x", "updated": 1}, {"id": 3, "name": "y", "updated": 2}]), state(a)],
    )
    s = configured(mode=DEDUP)
    pg.run(
        catalog(s),
        [
            batch(s, [{"id": 1, "name": "a", "updated": 1}, {"id": 2, "name": "b", "updated": 1}]),
            state(s),
            batch(s, [{"id": 1, "name": "a2", "updated": 2}, {"id": 3, "name": "z", "updated": 0}]),
            state(s),
        ],
    )
    assert pg.users() == [(1, "a2", 2), (2, "b", 1), (3, "y", 2)]
    pg.run(
        catalog(s),
        [
            batch(s, [{"id": 2, "name": "stale", "updated": 0}, {"id": 4, "name": "c", "updated": 1}]),
            state(s),
        ],
    )
    assert pg.users() == [(1, "a2", 2), (2, "b", 1), (3, "y", 2), (4, "c", 1)]
    index = pg.query(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'users'", [pg.schema]
    )
    assert len(index) == 1
    assert "ARRAY[id]" in index[0][0]


def test_cdc_delete_removes_the_key_and_a_newer_insert_brings_it_back(pg: Pg) -> None:
    s = configured(schema=CDC_USERS, mode=DEDUP)
    pg.run(
        catalog(s),
        [batch(s, [{"id": 1, "name": "a", "updated": 1}, {"id": 2, "name": "b", "updated": 1}]), state(s)],
    )
    deleted = {"id": 1, "updated": 2, "_ab_cdc_deleted_at": "2024-01-01T00:00:00Z"}
    pg.run(catalog(s), [batch(s, [deleted]), state(s)])
    assert pg.users() == [(2, "b", 1)]
    pg.run(catalog(s), [batch(s, [{"id": 1, "name": "again", "updated": 3}]), state(s)])
    assert pg.users() == [(1, "again", 3), (2, "b", 1)]


def test_a_delete_arriving_before_an_older_insert_keeps_the_key_deleted(pg: Pg) -> None:
    s = configured(schema=CDC_USERS, mode=DEDUP)
    delete = {"id": 1, "updated": 5, "_ab_cdc_deleted_at": "2024-01-01T00:00:00Z"}
    pg.run(catalog(s), [batch(s, [delete, {"id": 1, "name": "older insert", "updated": 4}]), state(s)])
    assert pg.users() == []
    pg.run(catalog(s), [batch(s, [{"id": 1, "name": "older update", "updated": 3}]), state(s)])
    assert pg.users() == []
    assert pg.query("SELECT id, updated FROM {s}.users_ferry_deletes") == [(1, 5)]


def test_null_primary_key_is_one_key_equal_to_itself(pg: Pg) -> None:
    schema = props(
        a={"type": ["null", "integer"]}, b={"type": ["null", "string"]}, updated={"type": "integer"}
    )
    s = configured("pairs", schema, DEDUP, key=[["a"], ["b"]], cursor=["updated"])
    rows = [
        {"a": None, "b": None, "updated": 1},
        {"a": None, "b": None, "updated": 2},
        {"a": 1, "b": None, "updated": 1},
        {"a": 1, "b": None, "updated": 3},
        {"a": 1, "b": "x", "updated": 1},
    ]
    pg.run(catalog(s), [batch(s, rows), state(s)])
    pg.run(catalog(s), [batch(s, [{"a": None, "b": None, "updated": 0}]), state(s)])
    got = pg.query("SELECT a, b, updated FROM {s}.pairs ORDER BY a NULLS FIRST, b NULLS FIRST")
    assert got == [(None, None, 2), (1, None, 3), (1, "x", 1)]


def test_overwrite_dedup_deduplicates_the_generation_before_the_swap(pg: Pg) -> None:
    old = configured(mode=APPEND)
    pg.run(catalog(old), [batch(old, [{"id": 1, "name": "old"}, {"id": 2, "name": "old"}]), state(old)])
    s = configured(schema=CDC_USERS, mode=OVERWRITE_DEDUP, generation=2)
    seen: list[Any] = []
    deleted = {"id": 3, "updated": 9, "_ab_cdc_deleted_at": "2024-01-01T00:00:00Z"}

    def messages() -> Iterator[Any]:
        yield batch(
            s, [{"id": 1, "name": "v1", "updated": 1}, {"id": 1, "name": "v2", "updated": 2}, deleted]
        )
        yield state(s)
        yield batch(s, [{"id": 2, "name": "b", "updated": 1}, {"id": 3, "name": "older", "updated": 1}])
        yield state(s)
        seen.append(pg.users())
        yield completed_status(s.descriptor)

    out = pg.run(catalog(s), messages())
    assert counts(out) == [3.0, 2.0]
    assert seen == [[(1, "old", None), (2, "old", None)]]
    assert pg.users() == [(1, "v2", 2), (2, "b", 1)]
    assert pg.query("SELECT id FROM {s}.users_ferry_deletes") == [(3,)]
    assert pg.tables() == {"users", "users_ferry_deletes"}
    # the staged key index became the final table's, under the final table's name
    assert pg.query(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = 'users'", [pg.schema]
    ) == [("users_ferry_key",)]
    # and the next dedup sync merges into the swapped-in table
    again = configured(schema=CDC_USERS, mode=DEDUP)
    pg.run(catalog(again), [batch(again, [{"id": 2, "name": "b2", "updated": 2}]), state(again)])
    assert pg.users() == [(1, "v2", 2), (2, "b2", 2)]


def test_dedup_needs_top_level_key_columns(pg: Pg) -> None:
    with pytest.raises(ConfigError, match="primary key 'missing'"):
        pg.run(catalog(configured(mode=DEDUP, key=[["missing"]])), [])
    with pytest.raises(ConfigError, match="nested"):
        pg.run(catalog(configured(mode=DEDUP, key=[["id", "inner"]])), [])
    assert pg.query("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [pg.schema]) == [(0,)]


# --- schema evolution -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [APPEND, DEDUP])
def test_schema_evolution_adds_and_widens_without_losing_values(pg: Pg, mode: Any) -> None:
    integer, number, string, obj = ({"type": t} for t in ("integer", "number", "string", "object"))
    steps: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (props(id=integer, v=integer), {"id": 1, "v": 2**62 + 1}, "bigint"),
        (props(id=integer, v=number, extra=string), {"id": 2, "v": 2.5, "extra": "e"}, "numeric"),
        (props(id=integer, v=string), {"id": 3, "v": "text"}, "text"),
        (props(id=integer, v=obj), {"id": 4, "v": {"k": 1}}, "jsonb"),
        (props(id=integer, v=integer), {"id": 5, "v": 7}, "jsonb"),  # never narrows back
    ]
    for schema, row, expected in steps:
        s = configured("evolving", schema, mode, key=[["id"]] if mode is DEDUP else None)
        pg.run(catalog(s), [batch(s, [row]), state(s)])
        assert pg.column_types("evolving")["v"] == expected
    rows = pg.query("SELECT id, v, extra FROM {s}.evolving ORDER BY id")
    # bigint -> numeric is exact; numeric -> text -> jsonb keeps each value's spelling
    assert rows == [
        (1, str(2**62 + 1), None),
        (2, "2.5", "e"),
        (3, "text", None),
        (4, {"k": 1}, None),
        (5, 7, None),
    ]


def test_incompatible_types_widen_to_text_with_utc_timestamps(pg: Pg) -> None:
    tz = {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
    first = configured("ts", props(v=tz))
    pg.run(catalog(first), [batch(first, [{"v": "2024-01-01T10:00:00+02:00"}]), state(first)])
    second = configured("ts", props(v={"type": "boolean"}))
    pg.run(catalog(second), [batch(second, [{"v": True}]), state(second)])
    assert pg.column_types("ts")["v"] == "text"
    assert sorted(pg.query("SELECT v FROM {s}.ts")) == [("2024-01-01 08:00:00+00",), ("true",)]


def test_text_written_into_a_jsonb_column_becomes_a_json_string(pg: Pg) -> None:
    first = configured("j", props(v={"type": "object"}))
    pg.run(catalog(first), [batch(first, [{"v": {"a": 1}}]), state(first)])
    second = configured("j", props(v={"type": "string"}, d={"type": "string", "format": "date"}))
    pg.run(catalog(second), [batch(second, [{"v": 'say "hi"\n', "d": "2024-02-29"}]), state(second)])
    assert pg.query("SELECT v FROM {s}.j ORDER BY v::text") == [('say "hi"\n',), ({"a": 1},)]
