"""Kinds of relation and awkward names: partitioned tables, materialized views, empty tables, quoted
identifiers, and a statement that runs into the timeout."""

from __future__ import annotations

import threading
import time

import pytest
from tests.dbs import pg_connect

from ferry.connectors.sources.postgres import PostgresSource
from ferry.errors import TransientError
from ferry.protocol import SyncMode

from .helpers import Pg, configured, read


def test_awkward_schema_table_and_column_names(pg: Pg) -> None:
    pg.run(
        'CREATE TABLE "Order Items ""x""" ("Id" integer PRIMARY KEY, "select" text, "naïve col" date, '
        '"UPPER" integer, "dot.ted" text)',
        "INSERT INTO \"Order Items \"\"x\"\"\" SELECT i, 'v' || i, date '2024-01-01' + i, i * 2, 'd' "
        "FROM generate_series(1, 30) i",
    )
    cfg = pg.config(checkpoint_rows=7)
    stream = configured(cfg, 'Order Items "x"')
    assert list(stream.stream.json_schema["properties"]) == ["Id", "select", "naïve col", "UPPER", "dot.ted"]
    assert stream.stream.source_defined_primary_key == [["Id"]]
    full = read(cfg, stream)
    assert full.column("Id") == list(range(1, 31))
    resumed = read(cfg, stream, full.states[1][1])
    assert resumed.column("Id") == list(range(15, 31))
    incremental = read(cfg, configured(cfg, 'Order Items "x"', SyncMode.incremental, "naïve col"))
    assert sorted(incremental.column("Id")) == list(range(1, 31))


def test_partitioned_tables_are_one_stream_and_partitions_are_not_listed(pg: Pg) -> None:
    pg.run(
        "CREATE TABLE measures (id integer, at date NOT NULL, v float8, PRIMARY KEY (id, at)) "
        "PARTITION BY RANGE (at)",
        "CREATE TABLE measures_2023 PARTITION OF measures FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')",
        "CREATE TABLE measures_2024 PARTITION OF measures FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "INSERT INTO measures SELECT i, date '2023-06-01' + i, i FROM generate_series(1, 400) i",
        "CREATE TABLE plain_parts (n integer) PARTITION BY LIST (n)",
        "CREATE TABLE plain_parts_a PARTITION OF plain_parts FOR VALUES IN (1, 2)",
        "CREATE TABLE plain_parts_b PARTITION OF plain_parts FOR VALUES IN (3)",
        "INSERT INTO plain_parts SELECT 1 + i % 3 FROM generate_series(1, 90) i",
    )
    cfg = pg.config(checkpoint_rows=50)
    streams = configured(cfg, "measures"), configured(cfg, "plain_parts")
    names = sorted(s.name for s in PostgresSource().discover(cfg).streams)
    assert names == ["measures", "plain_parts"]
    keyed = read(cfg, streams[0])
    assert sorted(keyed.column("id")) == list(range(1, 401))
    assert keyed.states[0][1]["state_type"] == "primary_key"
    resumed = read(cfg, streams[0], keyed.states[3][1])
    assert resumed.column("id") == keyed.column("id")[200:]
    # Without a key, partitions have no single ctid space: read whole, not resumable.
    assert not streams[1].stream.is_resumable
    assert len(read(cfg, streams[1]).rows) == 90


def test_materialized_view_is_paged_by_ctid(pg: Pg) -> None:
    pg.run("CREATE MATERIALIZED VIEW squares AS SELECT i, i * i AS sq FROM generate_series(1, 1000) i")
    cfg = pg.config(checkpoint_rows=100)
    stream = configured(cfg, "squares")
    assert stream.stream.is_resumable
    got = read(cfg, stream)
    assert sorted(got.column("i")) == list(range(1, 1001))
    assert {state["state_type"] for _, state in got.states} == {"ctid"}


@pytest.mark.parametrize("ddl", ["(id integer PRIMARY KEY, v text)", "(v text)"])
def test_empty_tables_end_on_a_state(pg: Pg, ddl: str) -> None:
    pg.run(f"CREATE TABLE empty {ddl}")
    cfg = pg.config()
    for stream in (configured(cfg, "empty"), configured(cfg, "empty", SyncMode.incremental, "v")):
        got = read(cfg, stream)
        assert got.rows == []
        assert len(got.states) == 1


def test_a_statement_past_the_timeout_is_a_transient_error(pg: Pg) -> None:
    pg.run("CREATE TABLE locked (id integer PRIMARY KEY)", "INSERT INTO locked VALUES (1)")
    cfg = pg.config(statement_timeout_seconds=1)
    stream = configured(cfg, "locked")
    release = threading.Event()

    def hold_lock() -> None:
        with pg_connect(pg.database, autocommit=False) as con:
            con.execute(f'LOCK TABLE "{pg.schema}".locked IN ACCESS EXCLUSIVE MODE')
            release.wait(20)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(TransientError, match=r"statement timeout|57014"):
            read(cfg, stream)
        assert time.monotonic() - started < 10
    finally:
        release.set()
        holder.join()
