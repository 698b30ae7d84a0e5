"""Reads of the mysql source: resumable full refresh, incremental ties at the boundary, keyless tables,
unique-index chunks, filters, discovery and the statement timeout."""

from __future__ import annotations

from typing import Any

import pytest
from tests.dbs import mysql_source_config

from ferry.cdk.conformance import ReadRun, read_source
from ferry.connectors.sources.mysql import MySQLSource
from ferry.connectors.sources.mysql.connection import connect, probe
from ferry.connectors.sources.mysql.queries import Select, in_session
from ferry.connectors.sources.mysql.reader import run
from ferry.connectors.sources.mysql.spec import settings_from
from ferry.connectors.sources.mysql.stream import ReadEnv
from ferry.errors import TransientError
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    StateMessage,
    SyncMode,
)

from .helpers import execute

PER_CHECKPOINT = 100


@pytest.fixture(scope="module")
def config(mysql_db: str) -> dict[str, Any]:
    execute(
        mysql_db,
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), updated_at DATETIME(3))",
        "INSERT INTO items SELECT seq, CONCAT('item ', seq), TIMESTAMPADD(SECOND, seq DIV 30, '2024-01-01') "
        "FROM seq_1_to_1050",
        # A composite text key whose collation ignores case: the keyset must compare as ORDER BY sorts.
        "CREATE TABLE pairs (a VARCHAR(10) COLLATE utf8mb4_general_ci, b INT, v INT, PRIMARY KEY (a, b))",
        "INSERT INTO pairs SELECT ELT(seq % 5 + 1, 'a', 'B', 'c', 'É', 'e''q'), seq, seq FROM seq_1_to_430",
        "CREATE TABLE logs (msg VARCHAR(20), at INT)",
        "INSERT INTO logs SELECT CONCAT('m', seq), seq DIV 50 FROM seq_1_to_420",
        "CREATE TABLE codes (code CHAR(8) NOT NULL, label TEXT, UNIQUE KEY by_code (code))",
        "INSERT INTO codes SELECT LPAD(seq, 8, '0'), 'x' FROM seq_1_to_250",
        "CREATE VIEW recent AS SELECT id, name FROM items WHERE id > 1000",
    )
    return mysql_source_config(mysql_db, records_per_checkpoint=PER_CHECKPOINT)


@pytest.fixture(scope="module")
def catalog(config: dict[str, Any]) -> Catalog:
    return MySQLSource().discover(config)


def configured(catalog: Catalog, name: str, cursor: str | None = None) -> ConfiguredCatalog:
    stream = next(s for s in catalog.streams if s.name == name)
    if cursor is None:
        return ConfiguredCatalog(
            [ConfiguredStream(stream, SyncMode.full_refresh, DestinationSyncMode.overwrite)]
        )
    mode = DestinationSyncMode.append
    return ConfiguredCatalog([ConfiguredStream(stream, SyncMode.incremental, mode, cursor_field=[cursor])])


def read(
    config: dict[str, Any], catalog: ConfiguredCatalog, state: list[StateMessage] | None = None
) -> ReadRun:
    return read_source(MySQLSource(), config, catalog, state or [])


def records_and_states(run: ReadRun) -> tuple[list[dict[str, Any]], list[tuple[int, StateMessage]]]:
    """Records in order, and each state with the number of records before it."""
    records: list[dict[str, Any]] = []
    states = []
    for message in run.messages:
        if message.record is not None:
            records.append(message.record.data)
        elif message.state is not None:
            states.append((len(records), message.state))
    return records, states


def test_discovery_finds_tables_views_keys_and_types(catalog: Catalog) -> None:
    streams = {s.name: s for s in catalog.streams}
    assert set(streams) == {"items", "pairs", "logs", "codes", "recent"}
    assert streams["items"].source_defined_primary_key == [["id"]]
    assert streams["pairs"].source_defined_primary_key == [["a"], ["b"]]
    assert streams["logs"].source_defined_primary_key is None
    assert streams["items"].default_cursor_field == ["updated_at"]
    assert streams["items"].is_resumable
    assert streams["codes"].is_resumable
    assert SyncMode.incremental in streams["logs"].supported_sync_modes
    assert (
        streams["items"].json_schema["properties"]["updated_at"]["airbyte_type"]
        == "timestamp_without_timezone"
    )
    assert {s.namespace for s in catalog.streams} == {streams["items"].namespace}


@pytest.mark.parametrize(("table", "key"), [("items", ["id"]), ("pairs", ["a", "b"]), ("codes", ["code"])])
def test_full_refresh_resumes_from_each_checkpoint_with_exactly_the_rest(
    config: dict[str, Any], catalog: Catalog, table: str, key: list[str]
) -> None:
    chosen = configured(catalog, table)
    records, states = records_and_states(read(config, chosen))
    identities = [tuple(r[k] for k in key) for r in records]
    assert len(set(identities)) == len(identities)
    assert len(states) >= 3  # one per chunk of PER_CHECKPOINT rows
    for before, state in states:
        rest, _ = records_and_states(read(config, chosen, [state]))
        assert [tuple(r[k] for k in key) for r in rest] == identities[before:], (table, state.stream)


def test_keyless_table_is_read_in_one_pass_and_its_final_state_reads_nothing(
    config: dict[str, Any], catalog: Catalog
) -> None:
    chosen = configured(catalog, "logs")
    records, states = records_and_states(read(config, chosen))
    assert len(records) == 420
    assert [count for count, _ in states] == [420]  # one checkpoint, at the end
    again, _ = records_and_states(read(config, chosen, [states[-1][1]]))
    assert again == []


@pytest.mark.parametrize(("table", "cursor"), [("items", "updated_at"), ("logs", "at")])
def test_incremental_boundary_is_inclusive(
    config: dict[str, Any], catalog: Catalog, table: str, cursor: str
) -> None:
    """Resuming from any state re-reads every row that shares its cursor value; nothing newer is lost."""
    chosen = configured(catalog, table, cursor)
    records, states = records_and_states(read(config, chosen))
    total = 1050 if table == "items" else 420
    assert len(records) == total
    values = [r[cursor] for r in records]
    assert values == sorted(values)
    for before, state in states:
        blob = state.stream.stream_state if state.stream else {}
        assert blob["cursor_field"] == cursor
        rest, _ = records_and_states(read(config, chosen, [state]))
        boundary = records[before - 1][cursor] if before else None
        expected = [r for r in records if boundary is None or r[cursor] >= boundary]
        assert sorted(map(repr, rest)) == sorted(map(repr, expected))


def test_rows_arriving_at_the_boundary_value_are_picked_up(config: dict[str, Any], catalog: Catalog) -> None:
    chosen = configured(catalog, "items", "updated_at")
    _, states = records_and_states(read(config, chosen))
    final = states[-1][1]
    last_value = final.stream.stream_state["cursor"] if final.stream else None
    execute(config["database"], "INSERT INTO items VALUES (5000, 'late tie', %s)", args=[last_value])
    try:
        rest, _ = records_and_states(read(config, chosen, [final]))
        assert 5000 in {r["id"] for r in rest}
    finally:
        execute(config["database"], "DELETE FROM items WHERE id = 5000")


def test_table_filters_and_exclusions(config: dict[str, Any]) -> None:
    source = MySQLSource()
    only = source.discover({**config, "tables": ["it*", f"{config['database']}.codes"]})
    assert sorted(s.name for s in only.streams) == ["codes", "items"]
    without = source.discover({**config, "exclude_tables": ["recent", "p*"]})
    assert sorted(s.name for s in without.streams) == ["codes", "items", "logs"]
    assert source.discover({**config, "exclude_databases": ["ferry_t_*"]}).streams == []


def test_statement_timeout_stops_a_chunk_query_with_a_transient_error(config: dict[str, Any]) -> None:
    """The session wrapper every chunk query runs in enforces the timeout (a sleeping SELECT stands in
    for a slow chunk)."""
    settings = settings_from({**config, "statement_timeout_seconds": 1})
    connection = connect(settings)
    try:
        env = ReadEnv(settings, probe(connection, settings))
    finally:
        connection.close()
    select = Select(settings.database, "dual", ())
    sql = in_session("SELECT SLEEP(3) AS c0", env.server, settings.statement_timeout_seconds)
    with pytest.raises(TransientError, match="statement timeout") as caught:
        list(run(env.url(settings.database), sql, select, settings, batch_rows=1, doing="reading"))
    assert "statement_timeout_seconds" in str(caught.value)
