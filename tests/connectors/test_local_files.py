"""The local-files destination: formats, compression, paths, commit and crash behaviour, generations, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from ferry.cdk import DestinationInput, RecordBatch, StreamTyper
from ferry.cdk.schema import JSON_METADATA
from ferry.connectors import registry
from ferry.connectors.destinations import local_files
from ferry.connectors.destinations.local_files import LocalFilesDestination
from ferry.connectors.destinations.local_files.paths import PathPattern, safe_segment
from ferry.errors import ConfigError, TransientError
from ferry.protocol import (
    Change,
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    GlobalState,
    Message,
    MetaChange,
    Reason,
    RecordMeta,
    StateMessage,
    StateType,
    Stream,
    StreamDescriptor,
    StreamState,
    SyncMode,
    Type,
    completed_status,
    encode,
    loads,
    record_message,
    stream_state_message,
    to_obj,
)

DEST = LocalFilesDestination()
EMITTED_AT = 1_700_000_000_123
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "score": {"type": "number"},
        "payload": {"type": "object"},
        "tags": {"type": "array"},
        "seen_at": {"type": "string", "format": "date-time"},
    },
}
FORMATS = ("parquet", "jsonl", "csv")
APPEND, OVERWRITE = DestinationSyncMode.append, DestinationSyncMode.overwrite


# --- helpers ---------------------------------------------------------------------------------


def configured(
    name: str = "users",
    *,
    namespace: str | None = "shop",
    mode: DestinationSyncMode = APPEND,
    generation: int | None = 1,
    minimum: int | None = 0,
    sync_id: int | None = 42,
    schema: dict[str, Any] | None = None,
) -> ConfiguredStream:
    stream = Stream(name, schema or SCHEMA, [SyncMode.full_refresh], namespace=namespace)
    return ConfiguredStream(
        stream,
        destination_sync_mode=mode,
        generation_id=generation,
        minimum_generation_id=minimum,
        sync_id=sync_id,
    )


def overwrite(generation: int, sync_id: int = 42, **kw: Any) -> ConfiguredStream:
    return configured(mode=OVERWRITE, generation=generation, minimum=generation, sync_id=sync_id, **kw)


def catalog(*streams: ConfiguredStream) -> ConfiguredCatalog:
    return ConfiguredCatalog(list(streams) or [configured()])


def row(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"user {i}",
        "score": i / 2,
        "payload": {"level": i, "nested": {"deep": [i, "x"]}},
        "tags": ["a", i],
        "seen_at": "2024-05-01T12:00:00Z",
    }


def records(ids: Iterable[int], stream: str = "users", namespace: str | None = "shop") -> list[Message]:
    return [record_message(stream, row(i), namespace, EMITTED_AT) for i in ids]


def state(stream: str = "users", namespace: str | None = "shop", cursor: int = 0) -> Message:
    return stream_state_message(StreamDescriptor(stream, namespace), {"cursor": cursor})


def complete(stream: str = "users", namespace: str | None = "shop") -> Message:
    return completed_status(StreamDescriptor(stream, namespace))


def run(
    config: dict[str, Any], cat: ConfiguredCatalog, messages: Iterable[DestinationInput]
) -> list[Message]:
    return list(DEST.write(config, cat, messages))


def data_files(base: Path) -> list[str]:
    """Committed data files under base (relative), excluding Ferry's bookkeeping and temp files."""
    found = [p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()]
    return sorted(f for f in found if not f.startswith(".ferry/") and not Path(f).name.startswith("."))


def temp_files(base: Path) -> list[Path]:
    return list(base.rglob(".ferry-part-*.tmp"))


def _open_text(path: Path) -> io.StringIO:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif path.name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    return io.StringIO(raw.decode("utf-8"), newline="")


def read_file(path: Path) -> list[dict[str, Any]]:
    if path.name.endswith(".parquet"):
        return pq.read_table(path).to_pylist()
    text = _open_text(path)
    if ".jsonl" in path.name:
        return [json.loads(line) for line in text.getvalue().splitlines()]
    return list(csv.DictReader(text))


def read_all(base: Path) -> list[dict[str, Any]]:
    return [r for f in data_files(base) for r in read_file(base / f)]


def ids_of(base: Path) -> list[int]:
    return sorted(int(r["id"]) for r in read_all(base))


def typed_batch(ids: Iterable[int], stream: str = "users", namespace: str | None = "shop") -> RecordBatch:
    data = StreamTyper(SCHEMA).from_rows([row(i) for i in ids])
    return RecordBatch(StreamDescriptor(stream, namespace), data, EMITTED_AT)


# --- surface and spec ------------------------------------------------------------------------


def test_package_exports_the_destination_and_the_registry_finds_it() -> None:
    assert local_files.__all__ == ["LocalFilesDestination"]
    assert isinstance(registry.destination("local-files"), LocalFilesDestination)
    assert DEST.name == "local-files"


def test_spec_declares_append_and_overwrite_only() -> None:
    spec = DEST.spec()
    assert DEST.supported_sync_modes == (APPEND, OVERWRITE)
    assert spec.supported_destination_sync_modes == [APPEND, OVERWRITE]
    props = spec.connection_specification["properties"]
    assert spec.connection_specification["required"] == ["path"]
    assert {"path", "format", "compression", "path_pattern", "max_rows_per_file"} <= set(props)
    assert props["format"]["default"] == "parquet"
    assert props["path_pattern"]["default"] == "{namespace}/{stream}/{sync_id}-{part}.{ext}"


@pytest.mark.parametrize("mode", [DestinationSyncMode.append_dedup, DestinationSyncMode.overwrite_dedup])
def test_dedup_modes_are_refused_with_a_clear_error(tmp_path: Path, mode: DestinationSyncMode) -> None:
    stream = configured(mode=mode)
    stream.primary_key = [["id"]]
    with pytest.raises(ConfigError, match=f"does not support the sync mode '{mode.value}'") as info:
        run({"path": str(tmp_path)}, catalog(stream), records([1]))
    assert "append, overwrite" in str(info.value)
    assert data_files(tmp_path) == []


# --- formats and compression -----------------------------------------------------------------

CASES = [
    ("parquet", None, "parquet"),
    ("parquet", "zstd", "parquet"),
    ("parquet", "gzip", "parquet"),
    ("parquet", "none", "parquet"),
    ("jsonl", None, "jsonl"),
    ("jsonl", "gzip", "jsonl.gz"),
    ("jsonl", "zstd", "jsonl.zst"),
    ("csv", None, "csv"),
    ("csv", "gzip", "csv.gz"),
    ("csv", "zstd", "csv.zst"),
]


@pytest.mark.parametrize(("fmt", "compression", "ext"), CASES)
def test_each_format_and_compression_round_trips(
    tmp_path: Path, fmt: str, compression: str | None, ext: str
) -> None:
    config: dict[str, Any] = {"path": str(tmp_path), "format": fmt}
    if compression:
        config["compression"] = compression
    run(config, catalog(), [*records(range(5)), state()])

    assert data_files(tmp_path) == [f"shop/users/42-00000.{ext}"]
    path = tmp_path / f"shop/users/42-00000.{ext}"
    head = path.read_bytes()[:4]
    if ext.endswith(".gz"):
        assert head[:2] == b"\x1f\x8b"
    elif ext.endswith(".zst"):
        assert head == b"\x28\xb5\x2f\xfd"
    elif fmt == "parquet":
        codec = pq.ParquetFile(path).metadata.row_group(0).column(0).compression
        assert codec == {None: "SNAPPY", "none": "UNCOMPRESSED"}.get(compression, (compression or "").upper())
    rows = sorted(read_file(path), key=lambda r: int(r["id"]))
    assert [int(r["id"]) for r in rows] == [0, 1, 2, 3, 4]
    assert [r["name"] for r in rows] == [f"user {i}" for i in range(5)]
    assert [float(r["score"]) for r in rows] == [i / 2 for i in range(5)]
    seen_at = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    assert rows[0]["seen_at"] == (seen_at if fmt == "parquet" else "2024-05-01T12:00:00.000000Z")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_snappy_for_text_formats_is_a_config_error(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(ConfigError, match=f"does not apply to {fmt}") as info:
        DEST.check({"path": str(tmp_path), "format": fmt, "compression": "snappy"})
    assert info.value.field == "compression"


# --- metadata columns and nested data --------------------------------------------------------


def test_meta_columns_are_present_and_correct_in_parquet(tmp_path: Path) -> None:
    bad = record_message("users", {**row(2), "id": "not a number"}, "shop", EMITTED_AT)
    flagged = record_message("users", row(3), "shop", EMITTED_AT)
    assert flagged.record is not None
    flagged.record.meta = RecordMeta(
        [MetaChange("name", Change.TRUNCATED, Reason.SOURCE_FIELD_SIZE_LIMITATION)]
    )
    stream = configured(generation=7, sync_id=99)
    run({"path": str(tmp_path)}, catalog(stream), [*records([1]), bad, flagged, state()])

    table = pq.read_table(tmp_path / "shop/users/99-00000.parquet")
    assert table.column_names[:4] == [
        "_airbyte_raw_id",
        "_airbyte_extracted_at",
        "_airbyte_meta",
        "_airbyte_generation_id",
    ]
    assert table.schema.field("_airbyte_extracted_at").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_struct(table.schema.field("_airbyte_meta").type)
    rows = table.to_pylist()
    raw_ids = [r["_airbyte_raw_id"] for r in rows]
    assert len(set(raw_ids)) == 3
    assert all(uuid.UUID(r).version == 4 for r in raw_ids)
    expected_at = dt.datetime.fromtimestamp(EMITTED_AT / 1000, dt.UTC)
    assert {r["_airbyte_extracted_at"] for r in rows} == {expected_at}
    assert {r["_airbyte_generation_id"] for r in rows} == {7}
    metas = [r["_airbyte_meta"] for r in rows]
    assert {m["sync_id"] for m in metas} == {99}
    assert metas[0]["changes"] == []
    assert metas[1]["changes"] == [
        {"field": "id", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}
    ]
    assert rows[1]["id"] is None  # only the bad value is NULL: the row is kept
    assert rows[1]["name"] == "user 2"
    assert metas[2]["changes"] == [
        {"field": "name", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_meta_columns_are_json_in_text_formats(tmp_path: Path, fmt: str) -> None:
    bad = record_message("users", {**row(2), "score": "lots"}, "shop", EMITTED_AT)
    run({"path": str(tmp_path), "format": fmt}, catalog(configured(sync_id=5)), [*records([1]), bad, state()])
    rows = read_all(tmp_path)
    metas = [r["_airbyte_meta"] if fmt == "jsonl" else json.loads(r["_airbyte_meta"]) for r in rows]
    assert metas == [
        {"sync_id": 5, "changes": []},
        {
            "sync_id": 5,
            "changes": [{"field": "score", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}],
        },
    ]
    assert [int(r["_airbyte_generation_id"]) for r in rows] == [1, 1]
    assert all(uuid.UUID(r["_airbyte_raw_id"]).version == 4 for r in rows)
    extracted = {dt.datetime.fromisoformat(r["_airbyte_extracted_at"].replace("Z", "+00:00")) for r in rows}
    assert extracted == {dt.datetime.fromtimestamp(EMITTED_AT / 1000, dt.UTC)}


def test_nested_json_text_is_nested_in_jsonl_and_text_in_csv_and_parquet(tmp_path: Path) -> None:
    for fmt in FORMATS:
        run({"path": str(tmp_path / fmt), "format": fmt}, catalog(), [*records([1]), state()])
    expected = {"level": 1, "nested": {"deep": [1, "x"]}}
    jsonl = read_all(tmp_path / "jsonl")[0]
    assert jsonl["payload"] == expected
    assert jsonl["tags"] == ["a", 1]
    assert json.loads(read_all(tmp_path / "csv")[0]["payload"]) == expected
    table = pq.read_table(tmp_path / "parquet/shop/users/42-00000.parquet")
    assert table.schema.field("payload").type == pa.string()
    assert table.schema.field("payload").metadata == JSON_METADATA
    assert json.loads(table.column("payload")[0].as_py()) == expected


def test_nested_arrow_structs_stay_nested_in_parquet_and_jsonl(tmp_path: Path) -> None:
    payload = pa.array([{"level": 1, "inner": {"x": [1, 2]}}, None])
    data = pa.RecordBatch.from_arrays(
        [pa.array([1, 2]), payload],
        schema=pa.schema(
            [pa.field("id", pa.int64()), pa.field("payload", payload.type, metadata=JSON_METADATA)]
        ),
    )
    batch = RecordBatch(StreamDescriptor("users", "shop"), data, EMITTED_AT)
    for fmt in FORMATS:
        run({"path": str(tmp_path / fmt), "format": fmt}, catalog(), [batch, state()])

    table = pq.read_table(tmp_path / "parquet/shop/users/42-00000.parquet")
    assert pa.types.is_struct(table.schema.field("payload").type)
    assert table.column("payload").to_pylist() == [{"level": 1, "inner": {"x": [1, 2]}}, None]
    assert [r["payload"] for r in read_all(tmp_path / "jsonl")] == [
        {"level": 1, "inner": {"x": [1, 2]}},
        None,
    ]
    assert [r["payload"] for r in read_all(tmp_path / "csv")] == ['{"level":1,"inner":{"x":[1,2]}}', ""]


def test_jsonl_writes_iso_dates_and_json_text_exactly(tmp_path: Path) -> None:
    fields: list[pa.Field[Any]] = [
        pa.field("day", pa.date32()),
        pa.field("at", pa.time64("us")),
        pa.field("local", pa.timestamp("us")),
        pa.field("payload", pa.string(), metadata=JSON_METADATA),
    ]
    big = '{"big": 100000000000000000000000000000001, "f": 50000.0000000000000001}'
    arrays: list[pa.Array[Any]] = [
        pa.array([dt.date(2024, 2, 29), None]),
        pa.array([dt.time(23, 59, 1, 5), None]),
        pa.array([dt.datetime(2024, 2, 29, 8, 30), None]),
        pa.array([big, "not json {"]),
    ]
    data = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
    batch = RecordBatch(StreamDescriptor("users", "shop"), data, EMITTED_AT)
    run({"path": str(tmp_path), "format": "jsonl"}, catalog(), [batch, state()])
    [path] = data_files(tmp_path)
    lines = (tmp_path / path).read_text().splitlines()
    assert '"payload":' + big in lines[0]  # embedded as JSON, digits kept exactly
    first, second = (json.loads(line) for line in lines)
    assert first["day"] == "2024-02-29"
    assert first["at"] == "23:59:01.000005"
    assert first["local"] == "2024-02-29T08:30:00.000000"
    assert first["_airbyte_extracted_at"] == "2023-11-14T22:13:20.123000Z"
    assert second["payload"] == "not json {"  # text that is not JSON is kept as a string, not lost
    assert second["day"] is None


def test_non_finite_numbers_are_kept_as_text_in_jsonl(tmp_path: Path) -> None:
    messages = [
        record_message("users", {"id": i, "score": s}, "shop", EMITTED_AT)
        for i, s in enumerate(["NaN", "Infinity", "-Infinity", 1.5])
    ]
    run({"path": str(tmp_path), "format": "jsonl"}, catalog(), [*messages, state()])
    assert [r["score"] for r in read_all(tmp_path)] == ["NaN", "Infinity", "-Infinity", 1.5]


def test_a_data_column_named_like_a_meta_column_is_kept_under_a_suffix(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "_airbyte_raw_id": {"type": "string"}},
    }
    message = record_message("users", {"id": 1, "_airbyte_raw_id": "from the source"}, "shop", EMITTED_AT)
    run({"path": str(tmp_path), "format": "jsonl"}, catalog(configured(schema=schema)), [message, state()])
    [written] = read_all(tmp_path)
    assert written["_airbyte_raw_id_1"] == "from the source"
    assert uuid.UUID(written["_airbyte_raw_id"]).version == 4


def test_a_stream_without_columns_writes_the_meta_columns(tmp_path: Path) -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    messages = [record_message("users", {}, "shop", EMITTED_AT) for _ in range(3)]
    run({"path": str(tmp_path)}, catalog(configured(schema=schema)), [*messages, state()])
    table = pq.read_table(tmp_path / "shop/users/42-00000.parquet")
    assert table.column_names == [
        "_airbyte_raw_id",
        "_airbyte_extracted_at",
        "_airbyte_meta",
        "_airbyte_generation_id",
    ]
    assert table.num_rows == 3


# --- paths -----------------------------------------------------------------------------------


def test_path_pattern_renders_every_placeholder(tmp_path: Path) -> None:
    pattern = "{namespace}/{stream}/g{generation}/{date}/{sync_id}-{part}.{ext}"
    before = dt.datetime.now(dt.UTC).date()
    config = {"path": str(tmp_path), "format": "jsonl", "compression": "gzip", "path_pattern": pattern}
    run(config, catalog(configured(generation=3, sync_id=11)), [*records([1]), state()])
    after = dt.datetime.now(dt.UTC).date()
    [written] = data_files(tmp_path)
    assert written in {f"shop/users/g3/{d.isoformat()}/11-00000.jsonl.gz" for d in (before, after)}


def test_a_stream_without_namespace_goes_to_default(tmp_path: Path) -> None:
    run(
        {"path": str(tmp_path)},
        catalog(configured(namespace=None)),
        [*records([1], namespace=None), state(namespace=None)],
    )
    assert data_files(tmp_path) == ["default/users/42-00000.parquet"]


def test_unknown_placeholders_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown placeholders") as info:
        DEST.check({"path": str(tmp_path), "path_pattern": "{stream}/{table}-{part}{part:03d}.{ext}"})
    assert "{table}" in str(info.value)
    assert "{part:03d}" in str(info.value)
    assert info.value.field == "path_pattern"


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("{stream}/{sync_id}.{ext}", "no {part}"),
        ("../{stream}-{part}.{ext}", "not a plain relative"),
        ("/etc/{stream}-{part}.{ext}", "not a plain relative"),
        ("{stream}//{part}.{ext}", "not a plain relative"),
        (".ferry/{stream}-{part}.{ext}", "not a plain relative"),
        ("{stream}/{part", "not a valid pattern"),
    ],
)
def test_bad_patterns_are_refused(tmp_path: Path, pattern: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        DEST.check({"path": str(tmp_path), "path_pattern": pattern})


UNSAFE_NAMES = [
    "..",
    ".",
    "../../etc/passwd",
    "a/b",
    "a\\b",
    "nul\0byte",
    ".hidden",
    "",
    "100%",
    "x" * 300,
    "🦆" * 100,
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_unsafe_stream_names_stay_inside_the_base(tmp_path: Path, name: str) -> None:
    base = tmp_path / "out"
    config = {"path": str(base), "format": "jsonl"}
    run(
        config, catalog(configured(name=name, namespace=name)), [*records([1], name, name), state(name, name)]
    )
    [written] = data_files(base)
    resolved = (base / written).resolve()
    assert base.resolve() in resolved.parents
    assert all(len(part.encode()) <= 255 for part in Path(written).parts)
    assert written.count("/") == 2  # namespace / stream / file: no name added a level
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@given(st.text(max_size=40), st.text(max_size=40))
def test_safe_segment_is_deterministic_injective_and_safe(a: str, b: str) -> None:
    sa, sb = safe_segment(a), safe_segment(b)
    assert sa == safe_segment(a)
    assert (sa == sb) == (a == b)
    assert not {"/", "\0", "\\"} & set(sa)
    assert not sa.startswith(".")
    assert sa not in ("", ".", "..")


def test_two_streams_rendering_the_same_file_are_refused(tmp_path: Path) -> None:
    config = {"path": str(tmp_path), "path_pattern": "{stream}/{part}.{ext}"}
    cat = catalog(configured(namespace="a"), configured(namespace="b"))
    with pytest.raises(ConfigError, match=r"'a\.users' and 'b\.users' would write the same file"):
        run(config, cat, records([1], namespace="a"))


def test_a_pattern_without_sync_id_never_overwrites_earlier_files(tmp_path: Path) -> None:
    config = {"path": str(tmp_path), "format": "jsonl", "path_pattern": "{stream}/{part}.{ext}"}
    run(config, catalog(), [*records([1, 2]), state()])
    run(config, catalog(), [*records([3]), state()])
    assert data_files(tmp_path) == ["users/00000.jsonl", "users/00001.jsonl"]
    assert ids_of(tmp_path) == [1, 2, 3]


def test_a_file_already_holding_the_next_name_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "shop/users/42-00000.jsonl"
    existing.parent.mkdir(parents=True)
    existing.write_text('{"id": 99}\n')
    run({"path": str(tmp_path), "format": "jsonl"}, catalog(), [*records([1]), state()])
    assert data_files(tmp_path) == ["shop/users/42-00000.jsonl", "shop/users/42-00001.jsonl"]
    assert existing.read_text() == '{"id": 99}\n'


def test_pattern_values_cannot_inject_placeholders() -> None:
    pattern = PathPattern.parse("{stream}/{part}.{ext}")
    values = {"stream": "{part}", "part": "00001", "ext": "csv"}
    assert pattern.render(dict.fromkeys(("namespace", "sync_id", "generation", "date"), "x") | values) == (
        "{part}/00001.csv"
    )


# --- commit, close and crash -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_commit_makes_files_visible_and_uncommitted_writes_leave_nothing(tmp_path: Path, fmt: str) -> None:
    writer = DEST.writer({"path": str(tmp_path), "format": fmt}, catalog())
    writer.open()
    try:
        writer.write(typed_batch([1, 2]))
        assert data_files(tmp_path) == []
        assert len(temp_files(tmp_path)) == 1
        writer.commit()
        assert len(data_files(tmp_path)) == 1
        assert temp_files(tmp_path) == []
        writer.write(typed_batch([3]))
        assert len(temp_files(tmp_path)) == 1
    finally:
        writer.close()
    assert temp_files(tmp_path) == []
    assert ids_of(tmp_path) == [1, 2]


def test_a_failed_sync_keeps_only_committed_records(tmp_path: Path) -> None:
    def messages() -> Iterator[Message]:
        yield from records([1, 2])
        yield state()
        yield from records([3, 4])
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError, match="source died"):
        run({"path": str(tmp_path)}, catalog(), messages())
    assert ids_of(tmp_path) == [1, 2]
    assert temp_files(tmp_path) == []


CRASHING_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    import pyarrow as pa
    from ferry.cdk import RecordBatch
    from ferry.connectors.destinations.local_files import LocalFilesDestination
    from ferry.protocol import ConfiguredCatalog, ConfiguredStream, DestinationSyncMode
    from ferry.protocol import Stream, StreamDescriptor, SyncMode

    base, fmt, crash_point = sys.argv[1:]
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    stream = Stream("users", schema, [SyncMode.full_refresh], namespace="shop")
    configured = ConfiguredStream(stream, destination_sync_mode=DestinationSyncMode.overwrite,
                                  generation_id=2, minimum_generation_id=2, sync_id=42)
    writer = LocalFilesDestination().writer({"path": base, "format": fmt}, ConfiguredCatalog([configured]))
    def batch(ids):
        return RecordBatch(StreamDescriptor("users", "shop"), pa.record_batch({"id": pa.array(ids)}), 1)
    def die(*args):
        os.kill(os.getpid(), signal.SIGKILL)
    writer.open()
    writer.write(batch([10, 11]))
    writer.commit()
    writer.write(batch([12, 13]))
    if crash_point == "before-rename":
        # The part gets listed in the manifest, then the process dies at the rename into its final name.
        import types
        import ferry.connectors.destinations.local_files.stream_files as stream_files
        stream_files.os = types.SimpleNamespace(replace=die)
        writer.commit()
    die()
    """
)


def crash_writer(base: Path, fmt: str, crash_point: str) -> None:
    args = [sys.executable, "-c", CRASHING_WRITER, str(base), fmt, crash_point]
    done = subprocess.run(args, check=False, timeout=60)
    assert done.returncode == -signal.SIGKILL


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_killed_overwrite_keeps_old_files_and_committed_parts_and_the_next_open_cleans_up(
    tmp_path: Path, fmt: str
) -> None:
    config = {"path": str(tmp_path), "format": fmt}
    run(config, catalog(overwrite(1, sync_id=41)), [*records([1, 2]), state(), complete()])

    crash_writer(tmp_path, fmt, "mid-write")
    assert len(temp_files(tmp_path)) == 1  # the uncommitted part of the killed attempt
    assert ids_of(tmp_path) == [1, 2, 10, 11]  # generation 1 untouched, generation 2's commit kept

    # The retry of generation 2 removes the stray temp file, keeps its committed part, replaces generation 1.
    run(config, catalog(overwrite(2)), [*records([12, 13]), state(), complete()])
    assert temp_files(tmp_path) == []
    assert ids_of(tmp_path) == [10, 11, 12, 13]
    assert {int(r["_airbyte_generation_id"]) for r in read_all(tmp_path)} == {2}


def test_a_crash_between_listing_and_renaming_leaves_no_trace_after_the_next_open(tmp_path: Path) -> None:
    crash_writer(tmp_path, "jsonl", "before-rename")
    [manifest] = (tmp_path / ".ferry").rglob("manifest.json")
    listed = [f["path"] for f in json.loads(manifest.read_text())["files"]]
    assert len(listed) == 2  # the committed part and the one that never got its final name
    assert len(temp_files(tmp_path)) == 1
    assert ids_of(tmp_path) == [10, 11]

    writer = DEST.writer({"path": str(tmp_path), "format": "jsonl"}, catalog(overwrite(2)))
    writer.open()
    writer.close()
    assert temp_files(tmp_path) == []
    assert [f["path"] for f in json.loads(manifest.read_text())["files"]] == data_files(tmp_path)
    assert ids_of(tmp_path) == [10, 11]


def test_a_second_writer_on_the_same_stream_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    first = DEST.writer({"path": str(tmp_path)}, catalog())
    first.open()
    try:
        second = DEST.writer({"path": str(tmp_path)}, catalog())
        with pytest.raises(TransientError, match=r"another sync is writing stream 'shop\.users'"):
            second.open()
        second.close()
    finally:
        first.close()
    third = DEST.writer({"path": str(tmp_path)}, catalog())
    third.open()
    third.close()


# --- generations and overwrite ---------------------------------------------------------------


def test_overwrite_keeps_old_files_until_the_stream_completes(tmp_path: Path) -> None:
    config = {"path": str(tmp_path), "format": "jsonl"}
    run(config, catalog(overwrite(1, sync_id=1)), [*records([1, 2]), state(), complete()])
    old_files = data_files(tmp_path)

    writer = DEST.writer(config, catalog(overwrite(2, sync_id=2)))
    writer.open()
    try:
        writer.write(typed_batch([3]))
        writer.commit()
        assert ids_of(tmp_path) == [1, 2, 3]  # readers still see the old generation
        writer.complete(StreamDescriptor("users", "shop"))
        assert ids_of(tmp_path) == [3]
        assert not set(old_files) & set(data_files(tmp_path))
    finally:
        writer.close()


def test_interrupted_overwrite_keeps_old_files_and_its_retry_keeps_committed_parts(tmp_path: Path) -> None:
    config = {"path": str(tmp_path)}
    run(config, catalog(overwrite(1, sync_id=1)), [*records([1, 2]), state(), complete()])

    def attempt_one() -> Iterator[Message]:
        yield from records([3])
        yield state()
        yield from records([4])
        raise ConnectionError("source lost")

    with pytest.raises(ConnectionError):
        run(config, catalog(overwrite(2, sync_id=2)), attempt_one())
    assert ids_of(tmp_path) == [1, 2, 3]

    run(config, catalog(overwrite(2, sync_id=2)), [*records([4, 5]), state()])  # ends without COMPLETE
    assert ids_of(tmp_path) == [1, 2, 3, 4, 5]

    run(config, catalog(overwrite(2, sync_id=3)), [*records([6]), state(), complete()])
    assert ids_of(tmp_path) == [3, 4, 5, 6]


def test_overwrite_without_generation_ids_replaces_earlier_syncs(tmp_path: Path) -> None:
    config = {"path": str(tmp_path), "format": "csv"}
    plain = configured(mode=OVERWRITE, generation=None, minimum=None, sync_id=None)
    run(config, catalog(plain), [*records([1]), state(), complete()])
    run(config, catalog(plain), [*records([2]), state(), complete()])
    assert ids_of(tmp_path) == [2]


def test_truncate_refresh_in_append_mode_drops_older_generations(tmp_path: Path) -> None:
    config = {"path": str(tmp_path), "format": "jsonl"}
    run(config, catalog(configured(generation=1, minimum=0)), [*records([1]), state(), complete()])
    run(config, catalog(configured(generation=2, minimum=0)), [*records([2]), state(), complete()])
    assert ids_of(tmp_path) == [1, 2]  # refresh-and-retain (minimum 0) keeps everything
    run(config, catalog(configured(generation=3, minimum=3)), [*records([3]), state(), complete()])
    assert ids_of(tmp_path) == [3]


def test_files_ferry_did_not_write_are_never_deleted(tmp_path: Path) -> None:
    config = {"path": str(tmp_path), "format": "jsonl"}
    run(config, catalog(overwrite(1)), [*records([1]), state(), complete()])
    foreign = tmp_path / "shop/users/notes.jsonl"
    foreign.write_text('{"id": 99}\n')
    committed = tmp_path / data_files(tmp_path)[0]
    committed.unlink()  # a user removed a file Ferry wrote: the manifest forgets it without failing
    run(config, catalog(overwrite(2)), [*records([2]), state(), complete()])
    assert data_files(tmp_path) == ["shop/users/42-00000.jsonl", "shop/users/notes.jsonl"]
    assert ids_of(tmp_path) == [2, 99]


def test_an_unreadable_manifest_is_a_config_error_naming_it(tmp_path: Path) -> None:
    run({"path": str(tmp_path)}, catalog(), [*records([1]), state()])
    [manifest] = (tmp_path / ".ferry").rglob("manifest.json")
    manifest.write_text("{not json")
    with pytest.raises(ConfigError, match=r"manifest .*manifest\.json cannot be read"):
        run({"path": str(tmp_path)}, catalog(), [*records([2]), state()])


# --- rolling parts ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_parts_roll_at_max_rows_per_file(tmp_path: Path, fmt: str) -> None:
    config = {"path": str(tmp_path), "format": fmt, "max_rows_per_file": 3}
    run(config, catalog(), [*records(range(4)), *records(range(4, 10)), state()])
    files = data_files(tmp_path)
    assert files == [f"shop/users/42-0000{i}.{fmt}" for i in range(4)]
    assert [len(read_file(tmp_path / f)) for f in files] == [3, 3, 3, 1]
    assert ids_of(tmp_path) == list(range(10))


def test_parts_roll_at_max_file_size(tmp_path: Path) -> None:
    config = {"path": str(tmp_path), "format": "jsonl", "max_file_size_mb": 1}
    big = [record_message("users", {"id": i, "name": "x" * 300_000}, "shop", EMITTED_AT) for i in range(8)]
    # One record per batch, so that the size check runs between records.
    writer = DEST.writer(config, catalog())
    writer.open()
    try:
        for message in big:
            assert message.record is not None
            data = StreamTyper(SCHEMA).from_rows([message.record.data])
            writer.write(RecordBatch(StreamDescriptor("users", "shop"), data, EMITTED_AT))
        writer.commit()
    finally:
        writer.close()
    sizes = [len(read_file(tmp_path / f)) for f in data_files(tmp_path)]
    assert sizes == [4, 4]


def test_a_schema_change_within_a_part_starts_a_new_part(tmp_path: Path) -> None:
    as_struct = pa.array([{"a": 1}])
    as_text = pa.array(['{"a": 2}'])
    writer = DEST.writer({"path": str(tmp_path)}, catalog())
    writer.open()
    try:
        for payload in (as_struct, as_text):
            schema = pa.schema(
                [pa.field("id", pa.int64()), pa.field("payload", payload.type, metadata=JSON_METADATA)]
            )
            data = pa.RecordBatch.from_arrays([pa.array([1]), payload], schema=schema)
            writer.write(RecordBatch(StreamDescriptor("users", "shop"), data, EMITTED_AT))
        writer.commit()
    finally:
        writer.close()
    files = data_files(tmp_path)
    assert len(files) == 2
    types = [pq.read_schema(tmp_path / f).field("payload").type for f in files]
    assert pa.types.is_struct(types[0])
    assert types[1] == pa.string()


# --- states and stats ------------------------------------------------------------------------


def test_echoed_states_carry_the_destination_record_count(tmp_path: Path) -> None:
    other = configured(name="orders")
    global_state = Message(
        Type.STATE,
        state=StateMessage(
            type=StateType.GLOBAL,
            global_=GlobalState([StreamState(StreamDescriptor("users", "shop"), {"c": 9})], {"lsn": 1}),
        ),
    )
    messages = [
        *records(range(3)),
        state(cursor=3),
        *records(range(3, 5)),
        *records(range(2), stream="orders"),
        state(cursor=5),
        state("orders", cursor=2),
        *records(range(5, 6)),
        global_state,
    ]
    out = run({"path": str(tmp_path), "format": "jsonl"}, catalog(configured(), other), messages)
    assert [m.type for m in out] == [Type.STATE] * 4
    counts = [m.state.destination_stats.record_count for m in out if m.state and m.state.destination_stats]
    assert counts == [3.0, 2.0, 2.0, 1.0]
    first = out[0].state
    assert first is not None
    assert first.stream is not None
    assert first.stream.stream_state == {"cursor": 3}


# --- check -----------------------------------------------------------------------------------


def test_check_creates_the_directory_and_leaves_no_probe(tmp_path: Path) -> None:
    base = tmp_path / "a" / "b"
    DEST.check({"path": str(base)})
    assert base.is_dir()
    assert list(base.iterdir()) == []


def test_check_names_the_path_it_cannot_create(tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match=f"cannot create the directory {blocker / 'sub'}") as info:
        DEST.check({"path": str(blocker / "sub")})
    assert info.value.field == "path"


def test_check_names_the_path_it_cannot_write(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        base = Path("/proc/self")  # root may write anywhere on disk, but not new files into /proc
        if not base.is_dir():
            pytest.skip("needs /proc to find a directory root cannot write")
    else:
        base = tmp_path / "locked"
        base.mkdir()
        base.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match=f"cannot write files in {base}") as info:
            DEST.check({"path": str(base)})
        assert info.value.field == "path"
    finally:
        if base != Path("/proc/self"):
            base.chmod(0o700)


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_write_runs_as_a_subprocess_with_json_lines_on_stdin(tmp_path: Path, venv_bin: Path) -> None:
    out = tmp_path / "out"
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"path": str(out), "format": "jsonl", "compression": "zstd"}))
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(to_obj(catalog(overwrite(1)))))
    lines = [encode(m) for m in [*records(range(3)), state(cursor=3), *records(range(3, 5)), state(cursor=5)]]
    lines.insert(2, b"this line is not a protocol message\n")
    lines.append(encode(complete()))

    done = subprocess.run(
        [
            str(venv_bin / "ferry-connector"),
            "destination-local-files",
            "write",
            "--config",
            str(config_path),
            "--catalog",
            str(catalog_path),
        ],
        input=b"".join(lines),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    emitted = [loads(line) for line in done.stdout.splitlines()]
    emitted_states = [m["state"] for m in emitted if m["type"] == "STATE"]
    assert [s["destinationStats"]["recordCount"] for s in emitted_states] == [3.0, 2.0]
    assert [s["stream"]["stream_state"] for s in emitted_states] == [{"cursor": 3}, {"cursor": 5}]
    assert data_files(out) == ["shop/users/42-00000.jsonl.zst", "shop/users/42-00001.jsonl.zst"]
    assert ids_of(out) == [0, 1, 2, 3, 4]
