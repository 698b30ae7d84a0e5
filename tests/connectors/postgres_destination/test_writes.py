"""The Postgres destination's surface and its append and overwrite modes, against the real server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from tests.dbs import pg_connect

from ferry.cdk.batching import RecordBatch
from ferry.connectors import registry
from ferry.connectors.destinations import postgres as postgres_package
from ferry.connectors.destinations.postgres import PostgresDestination
from ferry.connectors.destinations.postgres.writer import PostgresWriter
from ferry.errors import ConfigError, TransientError
from ferry.protocol.builders import completed_status, record_message

from .helpers import (
    APPEND,
    DEDUP,
    OVERWRITE,
    OVERWRITE_DEDUP,
    T0,
    USERS,
    Pg,
    batch,
    catalog,
    configured,
    counts,
    state,
)

# --- spec, check, public surface ------------------------------------------------------------------


def test_package_exports_the_destination_and_the_registry_finds_it() -> None:
    assert postgres_package.__all__ == ["PostgresDestination"]
    assert isinstance(registry.destination("postgres"), PostgresDestination)
    assert PostgresDestination.name == "postgres"


def test_spec_follows_airbyte_keys_and_marks_the_password_secret() -> None:
    spec = PostgresDestination().spec()
    props = spec.connection_specification["properties"]
    assert {"host", "port", "database", "schema", "username", "password", "ssl_mode"} <= set(props)
    assert props["password"]["airbyte_secret"] is True
    assert props["schema"]["default"] == "public"
    assert set(spec.supported_destination_sync_modes or []) == {APPEND, OVERWRITE, DEDUP, OVERWRITE_DEDUP}


def test_check_creates_the_schema_and_leaves_no_probe(pg: Pg) -> None:
    PostgresDestination().check(pg.config)
    assert pg.query("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [pg.schema]) == [(1,)]
    assert pg.tables() == set()


def test_check_names_an_unknown_database_as_a_config_error_without_the_password(pg: Pg) -> None:
    config = {**pg.config, "database": "ferry_no_such_db", "password": "canary-s3cret"}
    with pytest.raises(ConfigError) as raised:
        PostgresDestination().check(config)
    assert "ferry_no_such_db" in str(raised.value)
    assert "canary-s3cret" not in str(raised.value) + repr(raised.value.context)


def test_check_reports_a_refused_connection_as_transient(pg: Pg) -> None:
    with pytest.raises(TransientError) as raised:
        PostgresDestination().check({**pg.config, "port": 1, "password": "canary-s3cret"})
    assert "canary-s3cret" not in str(raised.value)


def test_check_without_rights_on_the_schema_is_a_config_error(pg: Pg) -> None:
    role = f"ferry_ro_{uuid.uuid4().hex[:8]}"
    pg.query(f"CREATE SCHEMA {{s}}; CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA {{s}} TO {role}")
    try:
        with pytest.raises(ConfigError, match="permission denied"):
            PostgresDestination().check({**pg.config, "username": role})
    finally:
        pg.query(f"DROP SCHEMA {{s}} CASCADE; DROP ROLE {role}")


# --- append -----------------------------------------------------------------------------------


def test_append_builds_a_v2_final_table_and_echoes_server_counts(pg: Pg) -> None:
    s = configured(generation=4, sync_id=77)
    rows = [{"id": 1, "name": "a", "updated": 1}, {"id": 2, "name": "b", "updated": 2}, {"id": 3}]
    out = pg.run(catalog(s), [batch(s, rows), state(s, 1), batch(s, [{"id": 4}], T0 + 5), state(s, 2)])
    assert counts(out) == [3.0, 1.0]
    assert pg.column_types("users") == {
        "_airbyte_raw_id": "uuid",
        "_airbyte_extracted_at": "timestamp with time zone",
        "_airbyte_meta": "jsonb",
        "_airbyte_generation_id": "bigint",
        "id": "bigint",
        "name": "text",
        "updated": "bigint",
    }
    assert pg.users() == [(1, "a", 1), (2, "b", 2), (3, None, None), (4, None, None)]
    meta = pg.query(
        "SELECT _airbyte_raw_id, (extract(epoch FROM _airbyte_extracted_at) * 1000)::bigint, _airbyte_meta, "
        "_airbyte_generation_id FROM {s}.users ORDER BY id"
    )
    assert len({m[0] for m in meta}) == 4
    assert all(m[0].version == 4 for m in meta)
    assert [m[1] for m in meta] == [T0, T0, T0, T0 + 5]
    assert {(m[2]["sync_id"], len(m[2]["changes"]), m[3]) for m in meta} == {(77, 0, 4)}
    not_null = pg.query(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnotnull AND attnum > 0 "
        "ORDER BY attnum",
        [f'"{pg.schema}".users'],
    )
    assert [n for (n,) in not_null] == ["_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"]


def test_commit_returns_the_rows_the_server_reported_per_stream(pg: Pg) -> None:
    a, b = configured("a"), configured("b")
    writer = PostgresWriter(pg.config, catalog(a, b))
    writer.open()
    try:
        writer.write(batch(a, [{"id": 1}, {"id": 2}]))
        writer.write(batch(b, [{"id": 3}]))
        writer.write(batch(a, [{"id": 4}]))
        assert writer.commit() == {a.descriptor: 3, b.descriptor: 1}
        assert writer.commit() == {}
    finally:
        writer.close()


def test_append_adds_to_previous_syncs(pg: Pg) -> None:
    s = configured()
    pg.run(catalog(s), [batch(s, [{"id": 1}]), state(s)])
    pg.run(catalog(s), [batch(s, [{"id": 1}, {"id": 2}]), state(s)])
    assert pg.users() == [(1, None, None), (1, None, None), (2, None, None)]


def test_uncommitted_rows_are_rolled_back(pg: Pg) -> None:
    s = configured()

    def crash() -> Iterator[Any]:
        yield batch(s, [{"id": 1}])
        yield state(s)
        yield batch(s, [{"id": 2}])
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError):
        pg.run(catalog(s), crash())
    assert pg.users() == [(1, None, None)]


def test_rows_become_visible_to_another_connection_at_the_commit(pg: Pg) -> None:
    s = configured()
    seen: list[int] = []

    def messages() -> Iterator[Any]:
        yield batch(s, [{"id": 1}, {"id": 2}])
        seen.append(pg.query("SELECT count(*) FROM {s}.users")[0][0])
        yield state(s)
        seen.append(pg.query("SELECT count(*) FROM {s}.users")[0][0])

    pg.run(catalog(s), messages())
    assert seen == [0, 2]


def test_json_record_messages_are_buffered_and_loaded(pg: Pg) -> None:
    s = configured()
    messages = [
        record_message("users", {"id": i, "name": f"n{i}", "updated": i}, emitted_at=T0) for i in range(25)
    ]
    out = pg.run(catalog(s), [*messages[:10], state(s, 10), *messages[10:], state(s, 25)])
    assert counts(out) == [10.0, 15.0]
    assert pg.query("SELECT count(*), sum(id) FROM {s}.users") == [(25, 300)]


def test_namespaces_map_to_schemas_and_streams_without_columns_keep_rows(pg: Pg) -> None:
    ns = f"{pg.schema}_Sales"
    a = configured("orders", namespace=ns)
    b = configured("orders")
    empty = configured("empty", {"type": "object", "properties": {}})
    messages = [batch(a, [{"id": 1}]), batch(b, [{"id": 2}]), record_message("empty", {"x": 1}), state(a)]
    out = pg.run(catalog(a, b, empty), messages)
    assert counts(out) == [1.0]  # a stream state counts its own stream
    assert pg.query(f'SELECT id FROM "{ns.lower()}".orders') == [(1,)]
    assert pg.query("SELECT id FROM {s}.orders") == [(2,)]
    assert pg.query("SELECT count(*) FROM {s}.empty") == [(1,)]
    pg.query(f'DROP SCHEMA "{ns.lower()}" CASCADE')


def test_large_batches_load_exactly(pg: Pg) -> None:
    s = configured()
    n = 120_000
    data = pa.record_batch(
        [pa.array(range(n), pa.int64()), pa.array([f"name {i}" for i in range(n)]), pa.nulls(n, pa.int64())],
        names=["id", "name", "updated"],
    )
    out = pg.run(catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])
    assert counts(out) == [float(n)]
    assert pg.query(
        "SELECT count(*), count(DISTINCT id), count(DISTINCT _airbyte_raw_id), sum(id) FROM {s}.users"
    ) == [(n, n, n, n * (n - 1) // 2)]


# --- overwrite and generations ---------------------------------------------------------------------


def _old_table(pg: Pg, rows: int = 2) -> None:
    s = configured(mode=OVERWRITE, generation=1)
    old = [{"id": i, "name": "old"} for i in range(1, rows + 1)]
    pg.run(catalog(s), [batch(s, old), state(s), completed_status(s.descriptor)])


def test_overwrite_keeps_old_rows_visible_until_complete(pg: Pg) -> None:
    _old_table(pg)
    s = configured(mode=OVERWRITE, generation=2)
    seen: list[Any] = []

    def messages() -> Iterator[Any]:
        yield batch(s, [{"id": 10, "name": "new"}])
        yield state(s)
        yield batch(s, [{"id": 11, "name": "new"}])
        yield state(s)
        seen.append(pg.users())
        seen.append(pg.query("SELECT count(*) FROM {s}.users_ferry_staging"))
        yield completed_status(s.descriptor)
        seen.append(pg.users())

    out = pg.run(catalog(s), messages())
    assert counts(out) == [1.0, 1.0]
    assert seen == [[(1, "old", None), (2, "old", None)], [(2,)], [(10, "new", None), (11, "new", None)]]
    assert pg.query("SELECT DISTINCT _airbyte_generation_id FROM {s}.users") == [(2,)]
    assert pg.tables() == {"users"}


def test_a_concurrent_reader_never_sees_an_empty_or_half_table(pg: Pg) -> None:
    _old_table(pg, rows=500)
    s = configured(mode=OVERWRITE, generation=2)
    seen: set[int] = set()
    errors: list[Exception] = []
    stop = threading.Event()

    def reader() -> None:
        with pg_connect(pg.database) as con:
            while not stop.is_set():
                try:
                    seen.add(con.execute(f'SELECT count(*) FROM "{pg.schema}".users').fetchone()[0])
                except Exception as exc:  # any failure is what the test looks for
                    errors.append(exc)
                    return

    def messages() -> Iterator[Any]:
        for part in range(6):
            yield batch(s, [{"id": 1000 + part * 100 + i, "name": "new"} for i in range(100)])
            yield state(s)
        yield completed_status(s.descriptor)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):  # several swaps while the reader polls
            pg.run(catalog(s), messages())
            s = configured(mode=OVERWRITE, generation=(s.generation_id or 0) + 1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == []
    assert seen == {500, 600}  # the old table, then the new one: never empty, never partly filled
    assert pg.query("SELECT count(*) FROM {s}.users") == [(600,)]


def _then_crash(items: list[Any]) -> Iterator[Any]:
    yield from items
    raise RuntimeError("destination process died")


def test_interrupted_overwrite_keeps_the_old_table_and_resumes_its_generation(pg: Pg) -> None:
    _old_table(pg)
    s = configured(mode=OVERWRITE, generation=2)
    with pytest.raises(RuntimeError):
        pg.run(catalog(s), _then_crash([batch(s, [{"id": 10, "name": "new"}]), state(s)]))
    assert pg.users() == [(1, "old", None), (2, "old", None)]
    pg.run(catalog(s), [batch(s, [{"id": 11, "name": "new"}]), state(s), completed_status(s.descriptor)])
    assert pg.users() == [(10, "new", None), (11, "new", None)]


def test_a_staged_generation_that_never_completed_is_dropped(pg: Pg) -> None:
    _old_table(pg)
    stale = configured(mode=OVERWRITE, generation=2)
    with pytest.raises(RuntimeError):
        pg.run(catalog(stale), _then_crash([batch(stale, [{"id": 99, "name": "stale"}]), state(stale)]))
    s = configured(mode=OVERWRITE, generation=3)
    pg.run(catalog(s), [batch(s, [{"id": 10, "name": "new"}]), state(s), completed_status(s.descriptor)])
    assert pg.users() == [(10, "new", None)]
    assert pg.query("SELECT DISTINCT _airbyte_generation_id FROM {s}.users") == [(3,)]


def test_resume_after_the_swap_writes_into_the_final_table(pg: Pg) -> None:
    """The swap committed but the engine died before recording it: the resumed attempt of the same
    generation must add its tail to the swapped-in table, not replace the table by the tail."""
    _old_table(pg)
    s = configured(mode=OVERWRITE, generation=2)
    pg.run(catalog(s), [batch(s, [{"id": 10, "name": "new"}]), state(s), completed_status(s.descriptor)])
    pg.query("INSERT INTO {s}.users SELECT * FROM {s}.users WHERE id = 10")  # a leftover older row
    pg.query(
        "UPDATE {s}.users SET id = 9, _airbyte_generation_id = 1 "
        "WHERE ctid = (SELECT max(ctid) FROM {s}.users)"
    )
    seen: list[Any] = []

    def resumed() -> Iterator[Any]:
        yield batch(s, [{"id": 11, "name": "tail"}])
        yield state(s)
        seen.append(pg.users())
        yield completed_status(s.descriptor)

    pg.run(catalog(s), resumed())
    assert seen == [[(9, "new", None), (10, "new", None), (11, "tail", None)]]
    assert pg.users() == [(10, "new", None), (11, "tail", None)]  # older generations go at completion
    assert pg.tables() == {"users"}


def test_truncate_refresh_of_an_append_stream_swaps_too(pg: Pg) -> None:
    _old_table(pg)
    s = configured(mode=APPEND, generation=5, minimum=5)
    pg.run(catalog(s), [batch(s, [{"id": 7}]), state(s), completed_status(s.descriptor)])
    assert pg.users() == [(7, None, None)]


def test_overwrite_staging_follows_schema_changes_between_attempts(pg: Pg) -> None:
    s = configured(mode=OVERWRITE, generation=1)
    with pytest.raises(RuntimeError):
        pg.run(catalog(s), _then_crash([batch(s, [{"id": 1}]), state(s)]))
    wider_schema = {"type": "object", "properties": {**USERS["properties"], "more": {"type": "number"}}}
    wider = configured(schema=wider_schema, mode=OVERWRITE, generation=1)
    pg.run(
        catalog(wider),
        [batch(wider, [{"id": 2, "more": 1.5}]), state(wider), completed_status(wider.descriptor)],
    )
    assert pg.query("SELECT id, more::text FROM {s}.users ORDER BY id") == [(1, None), (2, "1.5")]
