"""Resumable reads: a full refresh resumed from any checkpoint returns exactly the rows after it (by key
or by ctid pages), and incremental reads never skip rows that share the boundary cursor value."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from ferry.connectors.sources.postgres import PostgresSource
from ferry.connectors.sources.postgres.stream import PostgresStream
from ferry.connectors.sources.postgres.values import literal
from ferry.errors import ConfigError
from ferry.protocol import SyncMode

from .helpers import Pg, configured, read


def _resumes_exactly(pg: Pg, table: str, key: str, **config: Any) -> int:
    cfg = pg.config(**config)
    stream = configured(cfg, table)
    first = read(cfg, stream)
    ids = first.column(key)
    assert len(ids) == len(set(ids))
    for position, state in first.states:
        resumed = read(cfg, stream, state)
        assert resumed.column(key) == ids[position:], f"resumed from {state}"
    return len(first.states)


def test_full_refresh_by_primary_key_resumes_from_every_checkpoint(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
        "INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 2500) i",
    )
    states = _resumes_exactly(pg, "items", "id", checkpoint_rows=300, chunk_rows=1000)
    assert states == 9  # every 300 rows, and one at the end for the last 100


def test_composite_text_key_with_awkward_values_resumes_exactly(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE regions (region text, n integer, code text, PRIMARY KEY (region, n))",
        "INSERT INTO regions SELECT r, n, r || '#' || n FROM unnest(ARRAY['a''b', 'Zoë', '東京', 'a b', "
        "'', '\\', 'x\"y', '😀']) r, generate_series(1, 15) n",
    )
    _resumes_exactly(pg, "regions", "code", checkpoint_rows=17, chunk_rows=50)


def test_numeric_and_timestamp_keys_round_trip_through_the_state(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE ledger (amount numeric(40, 10), at timestamptz, label text, PRIMARY KEY (amount, at))",
        "INSERT INTO ledger SELECT 12345678901234567890.0000000001 * i, "
        "timestamptz '2024-01-01 00:00:00.000001+00' + i * interval '1 microsecond', 'row ' || i "
        "FROM generate_series(-50, 50) i",
    )
    _resumes_exactly(pg, "ledger", "label", checkpoint_rows=9, chunk_rows=20)


def test_a_table_without_key_is_read_by_ctid_pages_and_resumes_from_every_checkpoint(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE logs (line integer, body text)",
        "INSERT INTO logs SELECT i, repeat('x', 100) FROM generate_series(1, 3000) i",
        "DELETE FROM logs WHERE line % 7 = 0",  # holes in the pages
        "ANALYZE logs",
    )
    cfg = pg.config(checkpoint_rows=250)
    stream = configured(cfg, "logs")
    assert stream.stream.is_resumable
    assert stream.stream.source_defined_primary_key is None
    first = read(cfg, stream)
    lines = first.column("line")
    assert Counter(lines) == Counter(i for i in range(1, 3001) if i % 7)
    assert len(first.states) > 5
    assert all(state["state_type"] == "ctid" for _, state in first.states)
    for position, state in first.states:
        resumed = read(cfg, stream, state)
        assert Counter(resumed.column("line")) == Counter(lines[position:]), state


def test_a_rewritten_table_restarts_its_ctid_read(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE logs (line integer)",
        "INSERT INTO logs SELECT i FROM generate_series(1, 2000) i",
        "ANALYZE logs",
    )
    cfg = pg.config(checkpoint_rows=200)
    stream = configured(cfg, "logs")
    first = read(cfg, stream)
    _, middle = first.states[len(first.states) // 2]
    pg.run("VACUUM FULL logs")  # new relfilenode: the saved page number means nothing now
    again = read(cfg, stream, middle)
    assert sorted(again.column("line")) == list(range(1, 2001))


def test_a_view_is_read_whole_and_is_not_resumable(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE base (id integer PRIMARY KEY, v text)",
        "INSERT INTO base SELECT i, 'v' || i FROM generate_series(1, 500) i",
        "CREATE VIEW odd AS SELECT id, upper(v) AS v FROM base WHERE id % 2 = 1",
    )
    cfg = pg.config(checkpoint_rows=100)
    stream = configured(cfg, "odd")
    assert not stream.stream.is_resumable
    got = read(cfg, stream)
    assert sorted(got.column("id")) == list(range(1, 501, 2))
    assert got.rows[0]["v"].startswith("V")
    assert [state for _, state in got.states] == [{}]  # one state, at the end


def test_a_state_for_another_key_starts_over(pg: Pg) -> None:
    pg.run("CREATE TABLE items (id integer PRIMARY KEY)", "INSERT INTO items SELECT generate_series(1, 50)")
    cfg = pg.config()
    stream = configured(cfg, "items")
    stale = {"state_type": "primary_key", "version": 2, "pk_columns": ["other"], "pk": ["10"]}
    assert read(cfg, stream, stale).column("id") == list(range(1, 51))


# --- incremental ------------------------------------------------------------------------------


TIES = """
CREATE TABLE events (id integer PRIMARY KEY, updated_at timestamptz NOT NULL);
INSERT INTO events SELECT i, timestamptz '2024-01-01 00:00+00' + (CASE WHEN i <= 5 THEN 1
    WHEN i <= 22 THEN 2 ELSE 3 END) * interval '1 hour' FROM generate_series(1, 30) i;
"""


def test_incremental_never_skips_rows_sharing_the_boundary_value(pg: Pg) -> None:
    pg.run(TIES)
    cfg = pg.config(checkpoint_rows=10)
    stream = configured(cfg, "events", SyncMode.incremental, "updated_at")
    first = read(cfg, stream)
    assert sorted(first.column("id")) == list(range(1, 31))
    assert [position for position, _ in first.states] == [10, 20, 30]
    cursors = [dt.datetime.fromisoformat(state["cursor"]) for _, state in first.states]
    assert cursors == sorted(cursors)
    # The checkpoint after row 10 falls inside the 17 rows at 02:00; rows 11-22 share its value.
    assert first.rows[9]["updated_at"] == first.rows[10]["updated_at"] == cursors[0]
    for (position, state), cursor in zip(first.states, cursors, strict=True):
        resumed = read(cfg, stream, state)
        later = set(first.column("id")[position:])
        assert later <= set(resumed.column("id")), f"rows after {state} were skipped"
        assert all(value >= cursor for value in resumed.column("updated_at"))
    # A row that arrives later with the same cursor value as the last state is still picked up.
    _, final = first.states[-1]
    pg.run("INSERT INTO events VALUES (31, timestamptz '2024-01-01 03:00+00')")
    after = read(cfg, stream, final)
    assert 31 in after.column("id")
    assert set(after.column("id")) == set(range(23, 32))  # the boundary rows again, and the new one


@pytest.mark.parametrize(
    ("sql_type", "values"),
    [
        ("integer", "i / 3"),
        ("numeric(45, 20)", "(i / 3) * 1.00000000000000000001 + 99999999999999999999"),
        ("date", "date '2024-02-28' + i / 3"),
        ("text", "'k' || lpad((i / 3)::text, 3, '0')"),
        ("timestamp", "timestamp '2024-01-01' + (i / 3) * interval '1 microsecond'"),
    ],
)
def test_incremental_cursor_types_round_trip_through_the_state(pg: Pg, sql_type: str, values: str) -> None:
    pg.run(
        f"CREATE TABLE c (id integer PRIMARY KEY, cur {sql_type} NOT NULL)",
        f"INSERT INTO c SELECT i, {values} FROM generate_series(1, 40) i",
    )
    cfg = pg.config(checkpoint_rows=8)
    stream = configured(cfg, "c", SyncMode.incremental, "cur")
    first = read(cfg, stream)
    assert sorted(first.column("id")) == list(range(1, 41))
    for position, state in first.states:
        resumed = read(cfg, stream, state)
        later = set(first.column("id")[position:])
        assert later <= set(resumed.column("id")), state
        # Inclusive: at most the rows sharing the state's value come again, never anything earlier.
        assert len(resumed.rows) <= len(first.rows) - position + 3, state


def test_incremental_stops_on_null_cursor_values(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE n (id integer PRIMARY KEY, updated_at timestamptz)",
        "INSERT INTO n VALUES (1, now()), (2, NULL)",
    )
    cfg = pg.config()
    with pytest.raises(ConfigError, match="NULL"):
        read(cfg, configured(cfg, "n", SyncMode.incremental, "updated_at"))


def test_incremental_needs_a_cursor_column_of_the_table(pg: Pg) -> None:
    pg.run("CREATE TABLE n (id integer PRIMARY KEY, doc jsonb)")
    cfg = pg.config()
    with pytest.raises(ConfigError, match="cursor 'doc'"):
        read(cfg, configured(cfg, "n", SyncMode.incremental, "doc"))
    with pytest.raises(ConfigError, match="cursor 'nope'"):
        read(cfg, configured(cfg, "n", SyncMode.incremental, "nope"))
    with pytest.raises(ConfigError, match="no cursor"):
        read(cfg, configured(cfg, "n", SyncMode.incremental, None))


KEY_VALUES = {
    "date": "'-infinity', '4714-11-24 BC', '0044-03-15 BC', '0001-01-01', '2024-02-29', '9999-12-31', "
    "'10000-01-01', '5874897-12-31', 'infinity'",
    "timestamptz": "'-infinity', '4714-11-24 00:00+00 BC', '0001-01-01 00:00:00.000001+00', "
    "'2024-01-01 12:00:00.5+02', '294276-12-31 23:59:59.999999+00', 'infinity'",
    "timestamp": "'-infinity', '0100-03-01 BC', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999', "
    "'294276-12-31 23:59:59.999999', 'infinity'",
    "double precision": "'-Infinity', '-1e308', '-0.1', '0', '5e-324', '0.30000000000000004', 'Infinity', "
    "'NaN'",
    "real": "'-Infinity', '-3.4e38', '0.1', '1.17549435e-38', 'Infinity', 'NaN'",
    "numeric": "'-1e100', '-0.000000000000000000000000000001', '0', '1e-30', '12345678901234567890.5', 'NaN'",
    "uuid": "'00000000-0000-0000-0000-000000000000', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
    "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
    "bytea": "'\\x', '\\x00', '\\x0000', '\\x7f', '\\xff', '\\xffff00'",
    "interval": "'-1 year', '0', '1 day 00:00:00.000001', '1 mon', '100 years'",
    "time": "'00:00', '00:00:00.000001', '12:00', '23:59:59.999999', '24:00'",
    "boolean": "false, true",
}


@pytest.mark.parametrize("sql_type", list(KEY_VALUES))
def test_extreme_key_values_round_trip_through_the_state(pg: Pg, sql_type: str) -> None:
    """Each key value goes into a state as text and comes back as a literal equal to the stored value."""
    pg.run(
        f"CREATE TABLE k (k {sql_type} PRIMARY KEY, label text NOT NULL)",
        f"INSERT INTO k SELECT v, 'row ' || n FROM unnest(ARRAY[{KEY_VALUES[sql_type]}]::{sql_type}[]) "
        "WITH ORDINALITY AS t(v, n)",
    )
    cfg = pg.config(checkpoint_rows=1)
    first = read(cfg, configured(cfg, "k"))
    stream = next(s for s in PostgresSource().streams(cfg) if s.name == "k")
    assert isinstance(stream, PostgresStream)
    key = stream.table.column("k")
    assert key is not None
    labels = first.column("label")
    assert len(first.states) == len(labels)
    for position, state in first.states:
        (text,) = state["pk"]
        found = pg.con.execute(f"SELECT label FROM k WHERE k = {literal(text, key)}").fetchall()
        assert found == [(labels[position - 1],)], (text, found)
    # And a resume from the middle goes on right after that key.
    position, state = first.states[len(first.states) // 2]
    assert read(cfg, configured(cfg, "k"), state).column("label") == labels[position:]
