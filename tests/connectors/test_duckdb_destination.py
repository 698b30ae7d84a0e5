"""The DuckDB destination, driven through `DuckDBDestination().write` on real DuckDB files.

Readers in these tests open a second in-process connection to the same file, which shares the
writer's database instance: what they see is exactly what another session would see.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from ferry.cdk.batching import RecordBatch, StreamTyper
from ferry.cdk.schema import CHANGES_COLUMN, CHANGES_TYPE, JSON_METADATA
from ferry.connectors import registry
from ferry.connectors.destinations import duckdb as duckdb_package
from ferry.connectors.destinations.duckdb import DuckDBDestination
from ferry.connectors.destinations.duckdb import writer as writer_module
from ferry.connectors.destinations.duckdb.loading import GROUP_ROWS, ROW_GROUP
from ferry.connectors.destinations.duckdb.writer import DuckDBWriter
from ferry.errors import ConfigError, TransientError
from ferry.protocol import (
    Change,
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    Message,
    MetaChange,
    Reason,
    RecordMeta,
    Stream,
    SyncMode,
    Type,
    dumps,
    loads,
    message_from_obj,
    to_obj,
)
from ferry.protocol.builders import completed_status, record_message, stream_state_message

APPEND = DestinationSyncMode.append
OVERWRITE = DestinationSyncMode.overwrite
DEDUP = DestinationSyncMode.append_dedup
OVERWRITE_DEDUP = DestinationSyncMode.overwrite_dedup

USERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "updated": {"type": ["null", "integer"]},
    },
}
CDC_USERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        **USERS["properties"],
        "_ab_cdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
    },
}
T0 = 1_700_000_000_000  # an emitted_at, epoch ms


# --- helpers ----------------------------------------------------------------------------------


def configured(
    name: str = "users",
    schema: dict[str, Any] | None = None,
    mode: DestinationSyncMode = APPEND,
    *,
    namespace: str | None = None,
    key: list[list[str]] | None = None,
    cursor: list[str] | None = None,
    generation: int | None = None,
    minimum: int | None = None,
    sync_id: int | None = 1,
) -> ConfiguredStream:
    stream = Stream(name, schema or USERS, [SyncMode.full_refresh, SyncMode.incremental], namespace=namespace)
    if mode in (DEDUP, OVERWRITE_DEDUP) and key is None:
        key = [["id"]]
    if mode in (DEDUP, OVERWRITE_DEDUP) and cursor is None and "updated" in (schema or USERS)["properties"]:
        cursor = ["updated"]
    if minimum is None and mode in (OVERWRITE, OVERWRITE_DEDUP):
        minimum = generation
    return ConfiguredStream(
        stream,
        SyncMode.incremental,
        mode,
        cursor_field=cursor,
        primary_key=key,
        generation_id=generation,
        minimum_generation_id=minimum,
        sync_id=sync_id,
    )


def catalog(*streams: ConfiguredStream) -> ConfiguredCatalog:
    return ConfiguredCatalog(list(streams))


def batch(stream: ConfiguredStream, rows: list[dict[str, Any]], emitted_at: int = T0) -> RecordBatch:
    typed = StreamTyper(stream.stream.json_schema).from_rows(rows)
    return RecordBatch(stream.descriptor, typed, emitted_at)


def state(stream: ConfiguredStream, value: Any = None) -> Message:
    return stream_state_message(stream.descriptor, {"cursor": value})


def run(path: Path, cat: ConfiguredCatalog, messages: Iterable[Any], **config: Any) -> list[Message]:
    return list(DuckDBDestination().write({"path": str(path), **config}, cat, messages))


def counts(out: list[Message]) -> list[float | None]:
    return [m.state.destination_stats.record_count for m in out if m.state and m.state.destination_stats]


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path)) as con:
        return con.execute(sql, params or []).fetchall()


def column_types(path: Path, table: str, schema: str = "main") -> dict[str, str]:
    rows = query(
        path,
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [schema, table],
    )
    return dict(rows)


def tables(path: Path) -> set[tuple[str, str]]:
    return set(query(path, "SELECT schema_name, table_name FROM duckdb_tables()"))


def users(path: Path, table: str = "users") -> list[tuple[Any, ...]]:
    return query(path, f'SELECT id, name, updated FROM "{table}" ORDER BY id NULLS FIRST, name')


# --- spec, check, public surface ------------------------------------------------------------------


def test_package_exports_the_destination_and_the_registry_finds_it() -> None:
    assert duckdb_package.__all__ == ["DuckDBDestination"]
    assert isinstance(registry.destination("duckdb"), DuckDBDestination)
    assert DuckDBDestination.name == "duckdb"


def test_spec_requires_path_and_lists_every_mode() -> None:
    spec = DuckDBDestination().spec()
    assert spec.connection_specification["required"] == ["path"]
    assert spec.connection_specification["properties"]["schema"]["default"] == "main"
    assert set(spec.supported_destination_sync_modes or []) == {APPEND, OVERWRITE, DEDUP, OVERWRITE_DEDUP}


def test_check_creates_file_and_schema_and_leaves_no_probe(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "check.duckdb"
    DuckDBDestination().check({"path": str(path), "schema": "Analytics"})
    assert path.exists()
    assert tables(path) == set()
    assert ("analytics",) in query(path, "SELECT schema_name FROM duckdb_schemas()")


def test_check_in_memory() -> None:
    DuckDBDestination().check({"path": ":memory:"})


@pytest.mark.parametrize("kind", ["directory", "file_as_parent"])
def test_check_failure_names_the_path(tmp_path: Path, kind: str) -> None:
    if kind == "directory":
        path = tmp_path / "a_directory"
        path.mkdir()
    else:
        (tmp_path / "plain_file").write_text("not a directory")
        path = tmp_path / "plain_file" / "db.duckdb"
    with pytest.raises(ConfigError) as raised:
        DuckDBDestination().check({"path": str(path)})
    assert str(path) in str(raised.value)


def test_a_file_locked_by_another_process_is_a_transient_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('ready', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"ready"
        s = configured()
        with pytest.raises(TransientError) as raised:
            run(path, catalog(s), [batch(s, [{"id": 1}]), state(s)])
        assert str(path) in str(raised.value)
        assert "another process" in str(raised.value)
    finally:
        holder.communicate(b"", timeout=60)


# --- append -----------------------------------------------------------------------------------


def test_append_builds_a_v2_final_table_and_echoes_counts(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(generation=4, sync_id=77)
    rows: list[dict[str, Any]] = [
        {"id": 1, "name": "a", "updated": 1},
        {"id": 2, "name": "b", "updated": 2},
        {"id": 3},
    ]
    out = run(path, catalog(s), [batch(s, rows), state(s, 1), batch(s, [{"id": 4}], T0 + 5), state(s, 2)])
    assert counts(out) == [3.0, 1.0]
    assert [m.state.stream.stream_state for m in out if m.state and m.state.stream] == [
        {"cursor": 1},
        {"cursor": 2},
    ]
    assert column_types(path, "users") == {
        "_airbyte_raw_id": "UUID",
        "_airbyte_extracted_at": "TIMESTAMP WITH TIME ZONE",
        "_airbyte_meta": "JSON",
        "_airbyte_generation_id": "BIGINT",
        "id": "BIGINT",
        "name": "VARCHAR",
        "updated": "BIGINT",
    }
    assert users(path) == [(1, "a", 1), (2, "b", 2), (3, None, None), (4, None, None)]
    meta = query(
        path,
        "SELECT _airbyte_raw_id, epoch_ms(_airbyte_extracted_at), _airbyte_meta, _airbyte_generation_id "
        "FROM users ORDER BY id",
    )
    assert len({m[0] for m in meta}) == 4
    for raw_id, _, _, _ in meta:
        assert isinstance(raw_id, uuid.UUID)  # a native UUID column
    assert [m[1] for m in meta] == [T0, T0, T0, T0 + 5]
    assert {json.loads(m[2])["sync_id"] for m in meta} == {77}
    assert {json.dumps(json.loads(m[2])["changes"]) for m in meta} == {"[]"}
    assert {m[3] for m in meta} == {4}
    nullable = query(
        path,
        "SELECT column_name, is_nullable FROM duckdb_columns() WHERE table_name = 'users' "
        "AND column_name IN ('_airbyte_raw_id', '_airbyte_generation_id')",
    )
    assert dict(nullable) == {"_airbyte_raw_id": False, "_airbyte_generation_id": True}


def test_append_adds_to_previous_syncs(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured()
    run(path, catalog(s), [batch(s, [{"id": 1}]), state(s)])
    run(path, catalog(s), [batch(s, [{"id": 1}, {"id": 2}]), state(s)])
    assert users(path) == [(1, None, None), (1, None, None), (2, None, None)]


def test_uncommitted_rows_are_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured()

    def crash() -> Iterator[Any]:
        yield batch(s, [{"id": 1}])
        yield state(s)
        yield batch(s, [{"id": 2}])
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError):
        run(path, catalog(s), crash())
    assert users(path) == [(1, None, None)]


def test_writer_close_without_commit_discards(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured()
    writer = DuckDBWriter({"path": str(path)}, catalog(s))
    writer.open()
    writer.write(batch(s, [{"id": 1}] * (GROUP_ROWS + 10)))  # past one INSERT group, so rows reached DuckDB
    writer.close()
    assert users(path) == []


def test_commit_makes_rows_visible_to_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured()
    seen: list[int] = []

    def messages() -> Iterator[Any]:
        yield batch(s, [{"id": 1}, {"id": 2}])
        seen.append(query(path, "SELECT count(*) FROM users")[0][0])
        yield state(s)
        yield batch(s, [{"id": 3}])
        seen.append(query(path, "SELECT count(*) FROM users")[0][0])

    run(path, catalog(s), messages())
    assert seen == [0, 2]  # the first check runs before the state: nothing committed yet
    assert query(path, "SELECT count(*) FROM users") == [(3,)]


def test_json_record_messages_are_buffered_and_loaded(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured()
    messages = [
        record_message("users", {"id": i, "name": f"n{i}", "updated": i}, emitted_at=T0) for i in range(25)
    ]
    out = run(path, catalog(s), [*messages[:10], state(s, 10), *messages[10:], state(s, 25)])
    assert counts(out) == [10.0, 15.0]
    assert query(path, "SELECT count(*), sum(id), min(epoch_ms(_airbyte_extracted_at)) FROM users") == [
        (25, 300, T0)
    ]


def test_namespaces_map_to_schemas(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    a = configured("orders", namespace="Sales")
    b = configured("orders")
    run(path, catalog(a, b), [batch(a, [{"id": 1}]), batch(b, [{"id": 2}]), state(a)], schema="Staging Area")
    assert {("sales", "orders"), ("staging_area", "orders")} <= tables(path)
    assert query(path, "SELECT id FROM sales.orders") == [(1,)]
    assert query(path, "SELECT id FROM staging_area.orders") == [(2,)]


def test_stream_without_columns_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured("empty", {"type": "object", "properties": {}})
    out = run(path, catalog(s), [record_message("empty", {}), record_message("empty", {"x": 1}), state(s)])
    assert counts(out) == [2.0]
    assert query(path, "SELECT count(*) FROM empty") == [(2,)]


def _ids(start: int, n: int) -> pa.RecordBatch:
    arrays = [
        pa.array(range(start, start + n), pa.int64()),
        pa.nulls(n, pa.string()),
        pa.nulls(n, pa.int64()),
    ]
    return pa.record_batch(arrays, names=["id", "name", "updated"])


def test_regrouped_batches_keep_each_rows_extraction_time(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured()
    first = GROUP_ROWS - 1000  # the second batch straddles the end of the first INSERT
    parts = [(0, first, T0), (first, 2000, T0 + 7), (first + 2000, 10, T0 + 9)]
    out = run(path, catalog(s), [*(RecordBatch(s.descriptor, _ids(a, n), t) for a, n, t in parts), state(s)])
    total = first + 2010
    assert counts(out) == [float(total)]
    got = query(
        path,
        "SELECT epoch_ms(_airbyte_extracted_at), count(*), min(id), max(id) FROM users GROUP BY 1 ORDER BY 1",
    )
    assert got == [(t, n, a, a + n - 1) for a, n, t in parts]
    assert query(path, "SELECT count(DISTINCT _airbyte_raw_id) FROM users") == [(total,)]


def test_memory_cap_flushes_whole_row_groups_and_keeps_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "MAX_BUFFERED_BYTES", 1 << 20)
    path = tmp_path / "w.duckdb"
    s = configured(mode=DEDUP)
    n = ROW_GROUP + 5000
    first = RecordBatch(s.descriptor, _ids(0, n), T0)
    # the same keys again, later: every key must end with the second version
    again = _ids(0, n).set_column(1, "name", pa.array(["again"] * n))
    out = run(path, catalog(s), [first, RecordBatch(s.descriptor, again, T0), state(s)])
    assert counts(out) == [float(2 * n)]
    assert query(path, "SELECT name, count(*), count(DISTINCT id) FROM users GROUP BY name") == [
        ("again", n, n)
    ]


# --- types and values ---------------------------------------------------------------------------

ALL_TYPES = {
    "type": "object",
    "properties": {
        "s": {"type": "string"},
        "i": {"type": "integer"},
        "n": {"type": "number"},
        "b": {"type": "boolean"},
        "d": {"type": "string", "format": "date"},
        "tz": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "ts": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
        "t": {"type": "string", "format": "time", "airbyte_type": "time_without_timezone"},
        "o": {"type": "object"},
        "a": {"type": "array"},
        "u": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    },
}


def test_every_kind_gets_its_duckdb_type_and_value(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured("all", ALL_TYPES)
    row = {
        "s": "text",
        "i": -(2**63),
        "n": 1.5,
        "b": True,
        "d": "2024-02-29",
        "tz": "2024-01-01T10:00:00-08:00",
        "ts": "2024-01-01T10:00:00",
        "t": "23:59:59.123456",
        "o": {"k": [1, {"x": None}]},
        "a": [1, "two", None],
        "u": 5,
    }
    run(path, catalog(s), [record_message("all", row), state(s)])
    types = column_types(path, "all")
    assert {k: types[k] for k in ALL_TYPES["properties"]} == {
        "s": "VARCHAR",
        "i": "BIGINT",
        "n": "DOUBLE",
        "b": "BOOLEAN",
        "d": "DATE",
        "tz": "TIMESTAMP WITH TIME ZONE",
        "ts": "TIMESTAMP",
        "t": "TIME",
        "o": "JSON",
        "a": "JSON",
        "u": "JSON",
    }
    got = query(
        path,
        'SELECT s, i, n, b, d::VARCHAR, epoch_ms(tz), ts::VARCHAR, t::VARCHAR, o, a, u FROM "all"',
    )[0]
    assert got[:5] == ("text", -(2**63), 1.5, True, "2024-02-29")
    assert got[5] == 1704132000000  # 18:00 UTC
    assert got[6:8] == ("2024-01-01 10:00:00", "23:59:59.123456")
    assert [json.loads(v) for v in got[8:]] == [{"k": [1, {"x": None}]}, [1, "two", None], 5]


def test_nested_arrow_columns_become_json(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "st": {"type": "object"},
            "li": {"type": "array"},
            "mp": {"type": "object"},
            "txt": {"type": "object"},
        },
    }
    s = configured("nested", schema)

    def json_field(name: str, dtype: pa.DataType) -> pa.Field[Any]:
        return pa.field(name, dtype, metadata=JSON_METADATA)

    data = pa.record_batch(
        [
            pa.array([1, 2], pa.int64()),
            pa.array([{"a": 1, "b": "x"}, None], pa.struct([("a", pa.int64()), ("b", pa.string())])),
            pa.array([[1, 2], []], pa.list_(pa.int64())),
            pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
            pa.array(['{"already": "json"}', "not json at all"]),
        ],
        schema=pa.schema(
            [
                pa.field("id", pa.int64()),
                json_field("st", pa.struct([("a", pa.int64()), ("b", pa.string())])),
                json_field("li", pa.list_(pa.int64())),
                json_field("mp", pa.map_(pa.string(), pa.int64())),
                json_field("txt", pa.string()),
            ]
        ),
    )
    run(path, catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])
    rows = query(path, "SELECT st, li, mp, txt FROM nested ORDER BY id")
    assert [[None if v is None else json.loads(v) for v in r] for r in rows] == [
        [{"a": 1, "b": "x"}, [1, 2], {"k": 1}, {"already": "json"}],
        [None, [], None, "not json at all"],  # text that is not JSON is kept, as a JSON string
    ]
    assert set(column_types(path, "nested").values()) >= {"JSON"}


def test_special_values_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "n": {"type": "number"},
            "s": {"type": "string"},
            "o": {"type": "object"},
        },
    }
    s = configured("special", schema)
    texts = ["nul\x00inside", "emoji 😀🎉", "中文 日本語 한국어", "Ελληνικά", "quote ' \" \\ backslash", ""]
    rows = [{"id": i, "s": t, "o": {"t": t}} for i, t in enumerate(texts)]
    numbers = [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1.7976931348623157e308]
    rows += [{"id": 100 + i, "n": v} for i, v in enumerate(numbers)]
    run(path, catalog(s), [batch(s, rows), state(s)])
    got = dict(query(path, "SELECT id, s FROM special WHERE id < 100"))
    assert [got[i] for i in range(len(texts))] == texts
    objects = dict(query(path, "SELECT id, o FROM special WHERE id < 100"))
    assert [json.loads(objects[i])["t"] for i in range(len(texts))] == texts
    values = [v for (v,) in query(path, "SELECT n FROM special WHERE id >= 100 ORDER BY id")]
    assert math.isnan(values[0])
    assert values[1:] == numbers[1:]
    assert math.copysign(1, values[4]) == -1


def test_meta_holds_sync_id_and_changes(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(sync_id=9)
    typed = StreamTyper(USERS).from_rows([{"id": 1}, {"id": 2}])
    changes = pa.array(
        [[{"field": "name", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}], None],
        CHANGES_TYPE,
    )
    with_changes = typed.append_column(pa.field(CHANGES_COLUMN, CHANGES_TYPE), changes)
    record = record_message("users", {"id": 3, "updated": "not a number"})
    assert record.record is not None
    record.record.meta = RecordMeta([MetaChange("name", Change.NULLED, Reason.SOURCE_SERIALIZATION_ERROR)])
    run(path, catalog(s), [RecordBatch(s.descriptor, with_changes, T0), record, state(s)])
    metas = {i: json.loads(m) for i, m in query(path, "SELECT id, _airbyte_meta FROM users")}
    assert metas[1] == {
        "sync_id": 9,
        "changes": [{"field": "name", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}],
    }
    assert metas[2] == {"sync_id": 9, "changes": []}
    assert metas[3] == {
        "sync_id": 9,
        "changes": [
            {"field": "name", "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"},
            {"field": "updated", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"},
        ],
    }


# --- overwrite and generations ---------------------------------------------------------------------


def _old_table(path: Path) -> ConfiguredStream:
    s = configured(mode=OVERWRITE, generation=1)
    run(
        path,
        catalog(s),
        [
            batch(s, [{"id": 1, "name": "old"}, {"id": 2, "name": "old"}]),
            state(s),
            completed_status(s.descriptor),
        ],
    )
    return s


def test_overwrite_keeps_old_rows_visible_until_complete(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _old_table(path)
    s = configured(mode=OVERWRITE, generation=2)
    seen: list[list[tuple[Any, ...]]] = []

    def messages() -> Iterator[Any]:
        yield batch(s, [{"id": 10, "name": "new"}])
        yield state(s)
        yield batch(s, [{"id": 11, "name": "new"}])
        yield state(s)
        seen.append(users(path))
        seen.append(query(path, "SELECT count(*) FROM users_ferry_staging"))
        yield completed_status(s.descriptor)
        seen.append(users(path))

    out = run(path, catalog(s), messages())
    assert counts(out) == [1.0, 1.0]
    assert seen[0] == [(1, "old", None), (2, "old", None)]
    assert seen[1] == [(2,)]
    assert seen[2] == [(10, "new", None), (11, "new", None)]
    assert query(path, "SELECT DISTINCT _airbyte_generation_id FROM users") == [(2,)]
    assert ("main", "users_ferry_staging") not in tables(path)


def test_interrupted_overwrite_leaves_the_old_table(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _old_table(path)
    s = configured(mode=OVERWRITE, generation=2)

    def crash() -> Iterator[Any]:
        yield batch(s, [{"id": 10, "name": "new"}])
        yield state(s)
        raise RuntimeError("killed before the stream completed")

    with pytest.raises(RuntimeError):
        run(path, catalog(s), crash())
    assert users(path) == [(1, "old", None), (2, "old", None)]
    assert users(path, "users_ferry_staging") == [(10, "new", None)]


def test_resumed_attempt_of_the_same_generation_keeps_staged_rows(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _old_table(path)
    s = configured(mode=OVERWRITE, generation=2)
    with pytest.raises(RuntimeError):
        run(path, catalog(s), _then_crash([batch(s, [{"id": 10}]), state(s), batch(s, [{"id": 99}])]))
    run(path, catalog(s), [batch(s, [{"id": 11}]), state(s), completed_status(s.descriptor)])
    assert users(path) == [(10, None, None), (11, None, None)]


def test_newer_generation_drops_rows_staged_by_an_older_one(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _old_table(path)
    s2 = configured(mode=OVERWRITE, generation=2)
    with pytest.raises(RuntimeError):
        run(path, catalog(s2), _then_crash([batch(s2, [{"id": 10}]), state(s2)]))
    s3 = configured(mode=OVERWRITE, generation=3)
    run(path, catalog(s3), [batch(s3, [{"id": 20}]), state(s3), completed_status(s3.descriptor)])
    assert users(path) == [(20, None, None)]
    assert query(path, "SELECT DISTINCT _airbyte_generation_id FROM users") == [(3,)]


def test_without_generation_ids_staged_rows_are_kept_rather_than_lost(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(mode=OVERWRITE)
    with pytest.raises(RuntimeError):
        run(path, catalog(s), _then_crash([batch(s, [{"id": 1}]), state(s)]))
    run(path, catalog(s), [batch(s, [{"id": 2}]), state(s), completed_status(s.descriptor)])
    assert users(path) == [(1, None, None), (2, None, None)]
    assert query(path, "SELECT DISTINCT _airbyte_generation_id FROM users") == [(None,)]


def test_overwrite_with_no_rows_empties_the_table(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _old_table(path)
    s = configured(mode=OVERWRITE, generation=2)
    run(path, catalog(s), [state(s), completed_status(s.descriptor)])
    assert users(path) == []


def test_truncate_refresh_of_an_append_stream_swaps_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    first = configured(generation=1, minimum=0)
    run(path, catalog(first), [batch(first, [{"id": 1}]), state(first)])
    refresh = configured(generation=2, minimum=2)
    seen: list[Any] = []

    def messages() -> Iterator[Any]:
        yield batch(refresh, [{"id": 2}])
        yield state(refresh)
        seen.append(users(path))
        yield completed_status(refresh.descriptor)

    run(path, catalog(refresh), messages())
    assert seen == [[(1, None, None)]]
    assert users(path) == [(2, None, None)]


def test_complete_of_an_append_stream_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(generation=3, minimum=0)
    run(path, catalog(s), [batch(s, [{"id": 1}]), state(s), completed_status(s.descriptor)])
    run(path, catalog(s), [batch(s, [{"id": 2}]), state(s), completed_status(s.descriptor)])
    assert users(path) == [(1, None, None), (2, None, None)]


def test_staged_generation_is_dropped_when_the_stream_stops_overwriting(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _old_table(path)
    s = configured(mode=OVERWRITE, generation=2)
    with pytest.raises(RuntimeError):
        run(path, catalog(s), _then_crash([batch(s, [{"id": 10}]), state(s)]))
    assert ("main", "users_ferry_staging") in tables(path)
    a = configured(generation=3, minimum=0)
    run(path, catalog(a), [batch(a, [{"id": 3}]), state(a)])
    assert ("main", "users_ferry_staging") not in tables(path)
    assert [r[0] for r in users(path)] == [1, 2, 3]


def _then_crash(messages: list[Any]) -> Iterator[Any]:
    yield from messages
    raise RuntimeError("killed")


# --- deduplication ----------------------------------------------------------------------------------


def _dedup(
    path: Path, rows_batches: list[list[dict[str, Any]]], schema: dict[str, Any] | None = None, **kw: Any
) -> None:
    s = configured(schema=schema, mode=DEDUP, **kw)
    messages: list[Any] = []
    for i, rows in enumerate(rows_batches):
        messages.append(batch(s, rows, T0 + i))
    run(path, catalog(s), [*messages, state(s)])


def test_dedup_newest_cursor_wins_whatever_the_arrival(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _dedup(
        path,
        [
            [
                {"id": 1, "name": "v3", "updated": 3},
                {"id": 1, "name": "v1", "updated": 1},
                {"id": 2, "name": "only", "updated": 1},
            ]
        ],
    )
    assert users(path) == [(1, "v3", 3), (2, "only", 1)]


def test_dedup_null_cursor_sorts_last(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _dedup(path, [[{"id": 1, "name": "dated", "updated": 1}, {"id": 1, "name": "undated", "updated": None}]])
    assert users(path) == [(1, "dated", 1)]


def test_dedup_equal_cursor_later_extracted_at_wins(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(mode=DEDUP)
    late = batch(s, [{"id": 1, "name": "extracted later", "updated": 5}], T0 + 1000)
    early = batch(s, [{"id": 1, "name": "extracted earlier", "updated": 5}], T0)
    run(path, catalog(s), [late, early, state(s)])  # the later extraction arrives first and still wins
    assert users(path) == [(1, "extracted later", 5)]


def test_dedup_full_tie_later_arrival_wins(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _dedup(path, [[{"id": 1, "name": "first", "updated": 5}, {"id": 1, "name": "second", "updated": 5}]])
    assert users(path) == [(1, "second", 5)]
    s = configured(mode=DEDUP)
    run(path, catalog(s), [batch(s, [{"id": 1, "name": "next sync", "updated": 5}], T0), state(s)])
    assert users(path) == [(1, "next sync", 5)]


def test_dedup_arrival_order_holds_across_inserts_of_one_commit(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(mode=DEDUP)
    n = GROUP_ROWS + 1000  # the second copy of each key lands in a later INSERT
    ids = pa.array(list(range(n)) * 2, pa.int64())
    names = pa.array(["first"] * n + ["second"] * n)
    data = pa.record_batch([ids, names, pa.array([7] * (2 * n), pa.int64())], names=["id", "name", "updated"])
    run(path, catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])
    assert query(path, "SELECT name, count(*) FROM users GROUP BY name") == [("second", n)]


def test_dedup_without_cursor_orders_by_extraction_then_arrival(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    s = configured("users", schema, DEDUP)
    run(
        path,
        catalog(s),
        [
            batch(s, [{"id": 1, "name": "b"}], T0 + 10),
            batch(s, [{"id": 1, "name": "a"}, {"id": 2, "name": "x"}, {"id": 2, "name": "y"}], T0),
            state(s),
        ],
    )
    assert query(path, "SELECT id, name FROM users ORDER BY id") == [(1, "b"), (2, "y")]


def test_dedup_merges_across_commits_and_syncs(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(mode=DEDUP)
    run(
        path,
        catalog(s),
        [
            batch(s, [{"id": 1, "name": "a", "updated": 1}, {"id": 2, "name": "b", "updated": 1}]),
            state(s),
            batch(s, [{"id": 1, "name": "a2", "updated": 2}]),
            state(s),
        ],
    )
    assert users(path) == [(1, "a2", 2), (2, "b", 1)]
    run(
        path,
        catalog(s),
        [
            batch(s, [{"id": 2, "name": "stale", "updated": 0}, {"id": 3, "name": "c", "updated": 1}]),
            state(s),
        ],
    )
    assert users(path) == [(1, "a2", 2), (2, "b", 1), (3, "c", 1)]
    assert query(path, "SELECT count(*) FROM users") == [(3,)]


def test_dedup_cleans_duplicates_left_by_an_earlier_append(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    a = configured()
    run(
        path,
        catalog(a),
        [batch(a, [{"id": 1, "name": "x", "updated": 1}, {"id": 1, "name": "y", "updated": 2}]), state(a)],
    )
    d = configured(mode=DEDUP)
    run(path, catalog(d), [batch(d, [{"id": 1, "name": "z", "updated": 0}]), state(d)])
    assert users(path) == [(1, "y", 2)]


def test_cdc_delete_removes_the_key(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(schema=CDC_USERS, mode=DEDUP)
    run(
        path,
        catalog(s),
        [batch(s, [{"id": 1, "name": "a", "updated": 1}, {"id": 2, "name": "b", "updated": 1}]), state(s)],
    )
    run(
        path,
        catalog(s),
        [batch(s, [{"id": 1, "updated": 2, "_ab_cdc_deleted_at": "2024-01-01T00:00:00Z"}]), state(s)],
    )
    assert users(path) == [(2, "b", 1)]
    # a newer insert of the key brings it back: that is a real re-creation at the source
    run(path, catalog(s), [batch(s, [{"id": 1, "name": "again", "updated": 3}]), state(s)])
    assert users(path) == [(1, "again", 3), (2, "b", 1)]


def test_delete_arriving_before_the_insert_it_covers_keeps_the_key_deleted(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(schema=CDC_USERS, mode=DEDUP)
    delete = {"id": 1, "updated": 5, "_ab_cdc_deleted_at": "2024-01-01T00:00:00Z"}
    run(path, catalog(s), [batch(s, [delete, {"id": 1, "name": "older insert", "updated": 4}]), state(s)])
    assert users(path) == []
    # the same in two commits, and in the next sync: the tombstone still wins over the older insert
    run(path, catalog(s), [batch(s, [{"id": 1, "name": "older update", "updated": 3}]), state(s)])
    assert users(path) == []
    assert query(path, "SELECT id, updated FROM users_ferry_deletes") == [(1, 5)]


def test_null_primary_key_is_one_key_equal_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": ["null", "integer"]},
            "b": {"type": ["null", "string"]},
            "updated": {"type": "integer"},
        },
    }
    s = configured("pairs", schema, DEDUP, key=[["a"], ["b"]], cursor=["updated"])
    rows: list[dict[str, Any]] = [
        {"a": None, "b": None, "updated": 1},
        {"a": None, "b": None, "updated": 2},
        {"a": 1, "b": None, "updated": 1},
        {"a": 1, "b": None, "updated": 3},
        {"a": 1, "b": "x", "updated": 1},
    ]
    run(path, catalog(s), [batch(s, rows), state(s)])
    run(path, catalog(s), [batch(s, [{"a": None, "b": None, "updated": 0}]), state(s)])
    got = query(path, "SELECT a, b, updated FROM pairs ORDER BY a NULLS FIRST, b NULLS FIRST")
    assert got == [(None, None, 2), (1, None, 3), (1, "x", 1)]


def test_overwrite_dedup_deduplicates_the_generation_before_the_swap(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _old_table(path)
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
        seen.append(users(path))
        yield completed_status(s.descriptor)

    out = run(path, catalog(s), messages())
    assert counts(out) == [3.0, 2.0]
    assert seen == [[(1, "old", None), (2, "old", None)]]
    assert users(path) == [(1, "v2", 2), (2, "b", 1)]
    assert query(path, "SELECT id FROM users_ferry_deletes") == [(3,)]


def test_dedup_without_primary_key_is_refused_at_open(tmp_path: Path) -> None:
    s = configured(mode=DEDUP, key=[])
    writer = DuckDBWriter({"path": str(tmp_path / "w.duckdb")}, catalog(s))
    with pytest.raises(ConfigError, match="no primary key"):
        writer.open()
    writer.close()


def test_dedup_with_deletes_survives_columns_leaving_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    gone = "2024-01-01T00:00:00Z"
    wide = {"type": "object", "properties": {**CDC_USERS["properties"], "old": {"type": "string"}}}
    first = configured(schema=wide, mode=DEDUP)
    rows = [
        {"id": 1, "updated": 1, "old": "x"},
        {"id": 9, "updated": 5, "old": "y", "_ab_cdc_deleted_at": gone},
    ]
    run(path, catalog(first), [batch(first, rows), state(first)])
    # the column is gone from the stream; a refresh replaces the table, its deletions the tombstones
    refresh = configured(schema=CDC_USERS, mode=OVERWRITE_DEDUP, generation=2)
    rows = [{"id": 2, "updated": 1}, {"id": 3, "updated": 7, "_ab_cdc_deleted_at": gone}]
    run(path, catalog(refresh), [batch(refresh, rows), state(refresh), completed_status(refresh.descriptor)])
    assert users(path) == [(2, None, 1)]
    assert query(path, "SELECT id FROM users_ferry_deletes") == [(3,)]
    later = configured(schema=CDC_USERS, mode=DEDUP, generation=2, minimum=0)
    rows = [{"id": 3, "name": "older than its delete", "updated": 6}, {"id": 4, "updated": 1}]
    run(path, catalog(later), [batch(later, rows), state(later)])
    assert users(path) == [(2, None, 1), (4, None, 1)]


def test_dedup_needs_top_level_key_columns(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with pytest.raises(ConfigError, match="primary key 'missing'"):
        run(path, catalog(configured(mode=DEDUP, key=[["missing"]])), [])
    with pytest.raises(ConfigError, match="nested"):
        run(path, catalog(configured(mode=DEDUP, key=[["id", "inner"]])), [])
    assert not path.exists()


# --- schema evolution -------------------------------------------------------------------------------


def _props(**kinds: Any) -> dict[str, Any]:
    return {"type": "object", "properties": dict(kinds)}


@pytest.mark.parametrize("mode", [APPEND, DEDUP])
def test_schema_evolution_adds_and_widens_without_losing_values(
    tmp_path: Path, mode: DestinationSyncMode
) -> None:
    path = tmp_path / "w.duckdb"
    integer, number, string, obj = ({"type": t} for t in ("integer", "number", "string", "object"))
    steps: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (_props(id=integer, v=integer), {"id": 1, "v": 7}, "BIGINT"),
        (_props(id=integer, v=number, extra=string), {"id": 2, "v": 2.5, "extra": "e"}, "DOUBLE"),
        (_props(id=integer, v=string), {"id": 3, "v": "text"}, "VARCHAR"),
        (_props(id=integer, v=obj), {"id": 4, "v": {"k": 1}}, "JSON"),
    ]
    for schema, row, expected in steps:
        s = configured("evolving", schema, mode, key=[["id"]] if mode is DEDUP else None)
        run(path, catalog(s), [batch(s, [row]), state(s)])
        assert column_types(path, "evolving")["v"] == expected
    rows = query(path, "SELECT id, v, extra FROM evolving ORDER BY id")
    # each stored value went through every widening: 7 -> 7.0 -> '7.0' -> the JSON string "7.0"
    assert [(i, json.loads(v), e) for i, v, e in rows] == [
        (1, "7.0", None),
        (2, "2.5", "e"),
        (3, "text", None),
        (4, {"k": 1}, None),
    ]


def test_integers_beyond_double_precision_widen_to_text(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    first = configured("big", _props(v={"type": "integer"}))
    run(path, catalog(first), [batch(first, [{"v": 2**62 + 1}]), state(first)])
    second = configured("big", _props(v={"type": "number"}))
    run(path, catalog(second), [batch(second, [{"v": 0.5}]), state(second)])
    assert column_types(path, "big")["v"] == "VARCHAR"
    assert query(path, "SELECT v FROM big ORDER BY v") == [("0.5",), (str(2**62 + 1),)]


def test_uuid_format_columns_are_native_uuids(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(
        "things", _props(id={"type": "integer"}, ref={"type": ["null", "string"], "format": "uuid"})
    )
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    out = run(
        path,
        catalog(s),
        [batch(s, [{"id": 1, "ref": first}, {"id": 2, "ref": None}, {"id": 3, "ref": second}]), state(s)],
    )
    assert counts(out) == [3]
    assert column_types(path, "things")["ref"] == "UUID"
    assert query(path, "SELECT id, ref FROM things ORDER BY id") == [
        (1, uuid.UUID(first)),
        (2, None),
        (3, uuid.UUID(second)),
    ]
    metas = [json.loads(m)["changes"] for (m,) in query(path, "SELECT _airbyte_meta FROM things ORDER BY id")]
    assert metas == [[], [], []]


def test_a_value_that_is_not_a_uuid_becomes_null_with_a_reason_and_the_batch_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    schema = _props(id={"type": "integer"}, ref={"type": ["null", "string"], "format": "uuid"})
    s = configured("things", schema)
    good = str(uuid.uuid4())
    # The batch also carries a change from the source, which must be kept beside the new one.
    typed = StreamTyper(schema).from_rows(
        [{"id": 1, "ref": good}, {"id": 2, "ref": "not-a-uuid"}, {"id": 3, "ref": "x"}]
    )
    prior = pa.array(
        [None, None, [{"field": "id", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}]],
        CHANGES_TYPE,
    )
    data = typed.append_column(pa.field(CHANGES_COLUMN, CHANGES_TYPE), prior)
    out = run(path, catalog(s), [RecordBatch(s.descriptor, data, T0), state(s)])
    assert counts(out) == [3]
    rows = query(path, "SELECT id, ref, _airbyte_meta FROM things ORDER BY id")
    assert [(i, r) for i, r, _ in rows] == [(1, uuid.UUID(good)), (2, None), (3, None)]
    nulled = {"field": "ref", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}
    assert [json.loads(m)["changes"] for _, _, m in rows] == [
        [],
        [nulled],
        [{"field": "id", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}, nulled],
    ]


def test_an_existing_text_column_is_not_narrowed_to_uuid(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    text = configured("things", _props(id={"type": "integer"}, ref={"type": "string"}))
    run(path, catalog(text), [batch(text, [{"id": 1, "ref": "plain text"}]), state(text)])
    declared = configured("things", _props(id={"type": "integer"}, ref={"type": "string", "format": "uuid"}))
    later = str(uuid.uuid4())
    run(path, catalog(declared), [batch(declared, [{"id": 2, "ref": later}]), state(declared)])
    assert column_types(path, "things")["ref"] == "VARCHAR"
    assert query(path, "SELECT id, ref FROM things ORDER BY id") == [(1, "plain text"), (2, later)]


def test_a_uuid_column_widens_to_text_when_the_format_goes_away(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    declared = configured("things", _props(id={"type": "integer"}, ref={"type": "string", "format": "uuid"}))
    first = str(uuid.uuid4())
    run(path, catalog(declared), [batch(declared, [{"id": 1, "ref": first}]), state(declared)])
    text = configured("things", _props(id={"type": "integer"}, ref={"type": "string"}))
    run(path, catalog(text), [batch(text, [{"id": 2, "ref": "free text"}]), state(text)])
    assert column_types(path, "things")["ref"] == "VARCHAR"
    assert query(path, "SELECT id, ref FROM things ORDER BY id") == [(1, first), (2, "free text")]


def test_timestamps_widened_to_text_are_written_in_utc(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    tz = {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
    first = configured("ts", _props(v=tz))
    run(path, catalog(first), [batch(first, [{"v": "2024-01-01T10:00:00+02:00"}]), state(first)])
    second = configured("ts", _props(v={"type": "boolean"}))
    run(path, catalog(second), [batch(second, [{"v": True}]), state(second)])
    assert sorted(query(path, "SELECT v FROM ts")) == [("2024-01-01 08:00:00+00",), ("true",)]


def test_overwrite_staging_follows_schema_changes_between_attempts(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured(mode=OVERWRITE, generation=1)
    with pytest.raises(RuntimeError):
        run(path, catalog(s), _then_crash([batch(s, [{"id": 1}]), state(s)]))
    wider = configured(
        schema=_props(id={"type": "integer"}, name={"type": "string"}, more={"type": "number"}),
        mode=OVERWRITE,
        generation=1,
    )
    run(
        path,
        catalog(wider),
        [batch(wider, [{"id": 2, "more": 1.5}]), state(wider), completed_status(wider.descriptor)],
    )
    assert query(path, "SELECT id, more FROM users ORDER BY id") == [(1, None), (2, 1.5)]


# --- identifiers ---------------------------------------------------------------------------------------

SPECIAL = [
    "$",
    "${",
    "${${",
    "${foo}",
    '"',
    "'",
    "`",
    ".",
    "$$",
    "\\",
    "{",
    "}",
    "select",
    "Mixed Case",
    "😀",
    "表",
]
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
    "MixedCase",
    "c" * 255,
    "emoji😀",
    "名前",
]


@pytest.mark.parametrize("name", SPECIAL)
def test_special_characters_in_namespace_stream_key_and_cursor(tmp_path: Path, name: str) -> None:
    path = tmp_path / "w.duckdb"
    schema = _props(**{name: {"type": "integer"}, f"cursor{name}": {"type": "integer"}})
    s = configured(name, schema, DEDUP, namespace=name, key=[[name]], cursor=[f"cursor{name}"])
    rows = [{name: 1, f"cursor{name}": 1}, {name: 1, f"cursor{name}": 2}]
    out = run(path, catalog(s), [batch(s, rows), state(s)])
    assert counts(out) == [2.0]
    ((schema_name, table),) = tables(path)
    meta = "_airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta, _airbyte_generation_id"
    assert query(path, f'SELECT * EXCLUDE ({meta}) FROM "{schema_name}"."{table}"') == [(1, 2)]


def test_torture_column_names_are_created_and_queryable(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    s = configured("weird", _props(**{c: {"type": "string"} for c in WEIRD_COLUMNS}))
    run(path, catalog(s), [batch(s, [{c: f"value of {c}" for c in WEIRD_COLUMNS}]), state(s)])
    types = column_types(path, "weird")
    assert len(types) == len(WEIRD_COLUMNS) + 4
    assert "select" in types
    assert "includes_doublequote" in types
    assert "c" * 255 in types
    assert query(path, 'SELECT "select", "from", "order", "名前" FROM weird') == [
        ("value of select", "value of from", "value of order", "value of 名前")
    ]


def test_long_stream_names_are_truncated_with_a_hash(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    a, b = configured("s" * 300 + "a"), configured("s" * 300 + "b")
    run(path, catalog(a, b), [batch(a, [{"id": 1}]), batch(b, [{"id": 2}]), state(a)])
    names = sorted(t for _, t in tables(path))
    assert len(names) == 2
    assert all(len(n.encode()) <= 255 and n.startswith("s" * 200) for n in names)


@pytest.mark.parametrize(
    ("columns", "names"),
    [
        (["userName", "username"], ["userName", "username"]),
        (["User Id", "user id"], ["User Id", "user id"]),
        (["id", "_AIRBYTE_META"], ["_AIRBYTE_META"]),
    ],
)
def test_column_collisions_are_reported_before_anything_is_written(
    tmp_path: Path, columns: list[str], names: list[str]
) -> None:
    path = tmp_path / "w.duckdb"
    s = configured("clash", _props(**{c: {"type": "string"} for c in columns}))
    with pytest.raises(ConfigError) as raised:
        run(path, catalog(s), [batch(s, [dict.fromkeys(columns, "x")]), state(s)])
    for name in names:
        assert f"'{name}'" in str(raised.value)
    assert not path.exists()


def test_stream_collisions_are_reported_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    a, b = configured("Center"), configured("center")
    with pytest.raises(ConfigError, match="stream 'Center' and stream 'center'"):
        run(path, catalog(a, b), [batch(a, [{"id": 1}]), state(a)])
    c = configured("users_ferry_staging")
    with pytest.raises(ConfigError, match="staging table of stream 'users'"):
        run(path, catalog(configured(mode=OVERWRITE, generation=1), c), [])
    assert not path.exists()


# --- the Airbyte CLI, as a real subprocess ------------------------------------------------------------


def test_cli_write_reads_stdin_and_echoes_states(tmp_path: Path, venv_bin: Path) -> None:
    path = tmp_path / "cli.duckdb"
    s = configured(mode=DEDUP)
    (tmp_path / "config.json").write_text(json.dumps({"path": str(path)}))
    (tmp_path / "catalog.json").write_bytes(dumps(to_obj(catalog(s))))
    lines = [
        record_message("users", {"id": i % 3, "name": f"n{i}", "updated": i}, emitted_at=T0)
        for i in range(10)
    ]
    lines.insert(5, state(s, 5))
    lines.append(state(s, 10))
    stdin = b"".join(dumps(to_obj(m)) + b"\n" for m in lines)
    done = subprocess.run(
        [
            str(venv_bin / "ferry-connector"),
            "destination-duckdb",
            "write",
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = [message_from_obj(loads(line)) for line in done.stdout.splitlines() if line.strip()]
    states = [m for m in out if m.type is Type.STATE]
    assert counts(states) == [5.0, 5.0]
    assert users(path) == [(0, "n9", 9), (1, "n7", 7), (2, "n8", 8)]


def test_cli_check_reports_a_bad_path(tmp_path: Path, venv_bin: Path) -> None:
    (tmp_path / "dir.duckdb").mkdir()
    (tmp_path / "config.json").write_text(json.dumps({"path": str(tmp_path / "dir.duckdb")}))
    done = subprocess.run(
        [
            str(venv_bin / "ferry-connector"),
            "destination-duckdb",
            "check",
            "--config",
            str(tmp_path / "config.json"),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    status = [
        message_from_obj(loads(line)) for line in done.stdout.splitlines() if b"CONNECTION_STATUS" in line
    ]
    assert status[0].connection_status is not None
    assert status[0].connection_status.status.value == "FAILED"
    assert "dir.duckdb" in (status[0].connection_status.message or "")
