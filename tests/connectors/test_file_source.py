"""The built-in file source: formats, globs, compression, HTTP, inference, incremental reads and bad input."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import json
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import zstandard

import ferry.connectors.sources.file as file_package
from ferry.cdk import CHANGES_COLUMN, RecordBatch
from ferry.cdk.schema import columns_of
from ferry.cdk.spec import validate_config
from ferry.connectors import registry
from ferry.connectors.sources.file import FileSource
from ferry.errors import ConfigError, DataError, FerryError, TransientError
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    Message,
    SyncMode,
    Type,
    decode,
    stream_state_message,
    to_obj,
)

SOURCE = FileSource()
URL_COLUMN = "_ab_source_file_url"
MODIFIED_COLUMN = "_ab_source_file_last_modified"
SERIALIZATION = "SOURCE_SERIALIZATION_ERROR"
SIZE = "SOURCE_FIELD_SIZE_LIMITATION"


# --- helpers -------------------------------------------------------------------------------------


def stream_config(path: Path | str, **options: Any) -> dict[str, Any]:
    return {"streams": [{"name": "data", "path": str(path), **options}]}


def schema_of(config: dict[str, Any]) -> dict[str, Any]:
    [stream] = SOURCE.discover(config).streams
    return stream.json_schema


def types_of(config: dict[str, Any]) -> dict[str, str]:
    """Column -> Ferry column kind, from the discovered schema."""
    return {c.name: c.kind.value for c in columns_of(schema_of(config))}


@dataclass
class Run:
    batches: list[pa.RecordBatch]
    states: list[Message]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every row, with its changes (or None) under CHANGES_COLUMN."""
        out = []
        for batch in self.batches:
            for row in batch.to_pylist():
                row.setdefault(CHANGES_COLUMN, None)
                out.append(row)
        return out

    @property
    def last_state(self) -> dict[str, Any]:
        message = self.states[-1].state
        assert message is not None
        assert message.stream is not None
        return message.stream.stream_state or {}

    def files_read(self) -> list[str]:
        return sorted({Path(r[URL_COLUMN]).name for r in self.rows})


def read(
    config: dict[str, Any], mode: SyncMode = SyncMode.full_refresh, state: dict[str, Any] | None = None
) -> Run:
    """Discover, then read every stream through the connector kit, as the engine does in-process."""
    catalog = ConfiguredCatalog(
        [ConfiguredStream(s, sync_mode=mode) for s in SOURCE.discover(config).streams]
    )
    states = []
    if state is not None:
        states = [stream_state_message(catalog.streams[0].descriptor, state).state]
    batches, messages = [], []
    for item in SOURCE.read(config, catalog, [s for s in states if s is not None]):
        if isinstance(item, RecordBatch):
            batches.append(item.data)
        elif item.type is Type.STATE:
            messages.append(item)
    return Run(batches, messages)


def change(field: str, reason: str) -> dict[str, str]:
    return {"field": field, "change": "NULLED", "reason": reason}


def set_mtime(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


# --- the package ---------------------------------------------------------------------------------


def test_public_surface_and_registry() -> None:
    assert file_package.__all__ == ["FileSource"]
    assert FileSource.name == "file"
    assert isinstance(registry.source("file"), FileSource)


def test_spec_is_valid_json_schema_and_accepts_a_full_config() -> None:
    spec = SOURCE.spec()
    assert spec.supports_incremental is True
    config = stream_config(
        "data/*.csv.gz",
        format="csv",
        compression="gzip",
        csv_options={"delimiter": ";", "quote_char": "'", "header": True, "encoding": "latin-1"},
        primary_key=["id"],
    )
    validate_config(spec.connection_specification, config, "file")


# --- formats -------------------------------------------------------------------------------------


def test_csv_rows_are_typed_and_carry_the_file_columns(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "id,name,amount,paid,day,at,local_at\n"
        '1,"Smith, J",12.50,true,2024-01-01,2024-01-01T10:00:00Z,2024-01-01 10:00:00\n'
        "2,東京,7,false,2024-01-02,2024-01-02T11:30:00+02:00,2024-01-02T11:30:00\n"
        "3,,,,,,\n",
        encoding="utf-8",
    )
    set_mtime(path, T0)
    run = read(stream_config(path))
    assert [b.num_rows for b in run.batches] == [3]
    first, second, third = run.rows
    assert first == {
        "id": 1,
        "name": "Smith, J",
        "amount": 12.5,
        "paid": True,
        "day": dt.date(2024, 1, 1),
        "at": dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),
        "local_at": dt.datetime(2024, 1, 1, 10),
        URL_COLUMN: str(path),
        MODIFIED_COLUMN: T0,
        CHANGES_COLUMN: None,
    }
    assert second["name"] == "東京"
    assert second["at"] == dt.datetime(2024, 1, 2, 9, 30, tzinfo=dt.UTC)
    # An empty field is a missing value: NULL without a change (a string keeps its empty text).
    assert third == {**third, "name": "", "amount": None, "paid": None, "day": None, CHANGES_COLUMN: None}
    schema = run.batches[0].schema
    assert schema.field(MODIFIED_COLUMN).type == pa.timestamp("us", tz="UTC")
    assert schema.names[-2:] == [URL_COLUMN, MODIFIED_COLUMN]


def test_tsv_by_extension_and_a_custom_delimiter_and_quote(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text("id\tnote\n1\thas, comma\n", encoding="utf-8")
    assert [r["note"] for r in read(stream_config(tmp_path / "a.tsv")).rows] == ["has, comma"]
    (tmp_path / "b.txt").write_text("id;note\n1;'x;y'\n", encoding="utf-8")
    config = stream_config(
        tmp_path / "b.txt", format="csv", csv_options={"delimiter": ";", "quote_char": "'"}
    )
    assert [r["note"] for r in read(config).rows] == ["x;y"]
    (tmp_path / "c.csv").write_text('id,note\n1,"as is"\n', encoding="utf-8")
    config = stream_config(tmp_path / "c.csv", csv_options={"quote_char": ""})  # quoting off
    assert [r["note"] for r in read(config).rows] == ['"as is"']


def test_csv_without_header_gets_generated_names(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1,x\n2,y\n", encoding="utf-8")
    run = read(stream_config(tmp_path / "a.csv", csv_options={"header": False}))
    assert [(r["column_1"], r["column_2"]) for r in run.rows] == [(1, "x"), (2, "y")]


def test_csv_with_bom_and_a_latin1_encoding(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_bytes("\ufeffid,name\n1,Zoë\n".encode())
    assert read(stream_config(tmp_path / "bom.csv")).rows[0]["id"] == 1
    (tmp_path / "latin.csv").write_bytes("id,name\n1,Zoë\n".encode("latin-1"))
    run = read(stream_config(tmp_path / "latin.csv", csv_options={"encoding": "latin-1"}))
    assert run.rows[0]["name"] == "Zoë"


def test_csv_quoted_newlines_in_header_and_values(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('id,"two\nlines"\n1,"a\nb"\n2,c\n', encoding="utf-8")
    run = read(stream_config(tmp_path / "a.csv"))
    assert [(r["id"], r["two\nlines"]) for r in run.rows] == [(1, "a\nb"), (2, "c")]


def test_jsonl_nested_values_become_json_columns(tmp_path: Path) -> None:
    lines = [
        {
            "id": 1,
            "tags": ["a", "b"],
            "address": {"city": "Oslo"},
            "score": 1,
            "seen": "2024-01-01T00:00:00Z",
        },
        {"id": 2, "tags": [], "address": None, "score": 2.5, "extra": True},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    config = stream_config(path)
    properties = schema_of(config)["properties"]
    assert properties["tags"] == {"type": ["null", "array"]}
    assert properties["address"] == {"type": ["null", "object"]}
    assert properties["score"] == {"type": ["null", "number"]}
    assert types_of(config)["seen"] == "timestamp_with_timezone"
    rows = read(config).rows
    assert [json.loads(r["tags"]) for r in rows] == [["a", "b"], []]
    assert json.loads(rows[0]["address"]) == {"city": "Oslo"}
    assert rows[1]["address"] is None
    assert [r["score"] for r in rows] == [1.0, 2.5]
    assert [r["extra"] for r in rows] == [None, True]


def test_parquet_schema_comes_from_arrow_and_values_pass_through(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int32()),
            "price": pa.array([1.5, None], pa.float32()),
            "at": pa.array([dt.datetime(2024, 1, 1, 12), None], pa.timestamp("ms", tz="Europe/Oslo")),
            "day": pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 2)], pa.date32()),
            "tags": pa.array([["a"], []], pa.list_(pa.string())),
            "name": ["x", "y"],
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    config = stream_config(path)
    assert types_of(config) == {
        "id": "integer",
        "price": "number",
        "at": "timestamp_with_timezone",
        "day": "date",
        "tags": "json",
        "name": "string",
        URL_COLUMN: "string",
        MODIFIED_COLUMN: "timestamp_with_timezone",
    }
    run = read(config)
    rows = run.rows
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[0]["at"] == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    assert rows[0]["tags"] == ["a"]  # nested data stays nested in Arrow
    assert run.batches[0].schema.field("id").type == pa.int64()


def test_reserved_column_names_in_a_file_are_moved_aside(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(f"{URL_COLUMN},x\nmine,1\n", encoding="utf-8")
    [row] = read(stream_config(tmp_path / "a.csv")).rows
    assert row[f"{URL_COLUMN}_2"] == "mine"
    assert row[URL_COLUMN] == str(tmp_path / "a.csv")


# --- globs and compression -----------------------------------------------------------------------


def test_glob_with_several_files_is_one_stream_with_merged_schemas(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.csv").write_text("id,name\n1,a\n", encoding="utf-8")
    (tmp_path / "sub" / "b.csv").write_text("name,id,score\nb,2,1.5\n", encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "c.csv").write_text("id,score\n3,2\n", encoding="utf-8")
    (tmp_path / "sub" / "ignored.txt").write_text("not,a,csv\n", encoding="utf-8")
    for i, name in enumerate(["a.csv", "sub/b.csv", "sub/deeper/c.csv"]):
        set_mtime(tmp_path / name, T0 + dt.timedelta(hours=i))
    config = stream_config(tmp_path / "**" / "*.csv")
    assert types_of(config) == {
        "id": "integer",
        "name": "string",
        "score": "number",
        URL_COLUMN: "string",
        MODIFIED_COLUMN: "timestamp_with_timezone",
    }
    run = read(config)
    rows = {r["id"]: r for r in run.rows}
    assert rows[1]["score"] is None
    assert rows[1][CHANGES_COLUMN] is None
    assert rows[2] == {**rows[2], "name": "b", "score": 1.5}
    assert rows[3] == {**rows[3], "name": None, "score": 2.0}
    assert run.files_read() == ["a.csv", "b.csv", "c.csv"]
    assert len(run.states) == 3  # one checkpoint per file, each counting that file's rows
    assert [s.state.source_stats.record_count for s in run.states if s.state and s.state.source_stats] == [
        1,
        1,
        1,
    ]


@pytest.mark.parametrize(
    ("name", "compress", "options"),
    [
        ("a.csv.gz", gzip.compress, {}),
        ("a.csv.zst", zstandard.ZstdCompressor().compress, {}),
        ("a.jsonl.zstd", zstandard.ZstdCompressor().compress, {}),
        ("a.data", gzip.compress, {"format": "csv", "compression": "gzip"}),
        ("a.csv.gz", lambda b: b, {"compression": "none"}),
    ],
)
def test_compression_by_extension_or_config(
    tmp_path: Path, name: str, compress: Any, options: dict[str, Any]
) -> None:
    body = (
        b"id,name\n1,x\n2,y\n"
        if ".jsonl" not in name
        else b'{"id": 1, "name": "x"}\n{"id": 2, "name": "y"}\n'
    )
    (tmp_path / name).write_bytes(compress(body))
    run = read(stream_config(tmp_path / name, **options))
    assert [(r["id"], r["name"]) for r in run.rows] == [(1, "x"), (2, "y")]


def test_compressed_file_is_streamed_in_several_batches(tmp_path: Path) -> None:
    rows = 200_000
    body = "id,text\n" + "".join(f"{i},row number {i}\n" for i in range(rows))
    path = tmp_path / "big.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(body.encode()))
    run = read(stream_config(path))
    assert len(run.batches) > 1
    assert sum(b.num_rows for b in run.batches) == rows
    assert run.batches[-1].column("id")[-1].as_py() == rows - 1


def test_truncated_gzip_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    body = "id,text\n" + "".join(f"{i},{os.urandom(8).hex()}\n" for i in range(20_000))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(body.encode())[:-2000])
    with pytest.raises(DataError, match=r"cut\.csv\.gz is not valid gzip data, or it is cut short"):
        read(stream_config(path))


def test_not_gzip_at_all(tmp_path: Path) -> None:
    (tmp_path / "a.csv.gz").write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"a\.csv\.gz is not valid gzip data") as info:
        read(stream_config(tmp_path / "a.csv.gz"))
    assert "streams.0.compression" in str(info.value)


# --- HTTP ----------------------------------------------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    """Serves a folder; /private/* needs Basic auth user:s3cret-pass; /boom answers 503."""

    def do_GET(self) -> None:
        if self.path.startswith("/boom"):
            self.send_error(503, "Busy")
            return
        if self.path.startswith("/private/"):
            expected = "Basic " + base64.b64encode(b"user:s3cret-pass").decode()
            if self.headers.get("Authorization") != expected:
                self.send_error(401, "Unauthorized")
                return
            self.path = self.path.removeprefix("/private")
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a temporary folder: (base URL, folder)."""
    folder = tmp_path / "www"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_file_is_streamed_with_its_last_modified_time(http_folder: tuple[str, Path]) -> None:
    base, folder = http_folder
    (folder / "orders.csv.gz").write_bytes(gzip.compress(b"id,amount\n1,2.5\n2,3\n"))
    set_mtime(folder / "orders.csv.gz", T0)
    config = stream_config(f"{base}/orders.csv.gz")
    assert types_of(config)["amount"] == "number"
    run = read(config, SyncMode.incremental)
    assert [(r["id"], r["amount"]) for r in run.rows] == [(1, 2.5), (2, 3.0)]
    assert run.rows[0][URL_COLUMN] == f"{base}/orders.csv.gz"
    assert run.rows[0][MODIFIED_COLUMN] == T0
    # Unchanged on the server: the next incremental read opens it, sees the same time, and reads nothing.
    again = read(config, SyncMode.incremental, run.last_state)
    assert again.rows == []
    assert again.last_state == run.last_state


def test_http_basic_auth_from_the_url_and_secrets_never_shown(http_folder: tuple[str, Path]) -> None:
    base, folder = http_folder
    (folder / "a.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    host = base.removeprefix("http://")
    run = read(stream_config(f"http://user:s3cret-pass@{host}/private/a.jsonl?token=tok-123456"))
    [row] = run.rows
    assert row["id"] == 1
    assert row[URL_COLUMN] == f"http://***@{host}/private/a.jsonl?token=***"
    assert "s3cret" not in json.dumps(run.last_state)
    with pytest.raises(ConfigError) as info:
        read(stream_config(f"http://user:wrong-pass@{host}/private/a.jsonl?token=tok-123456"))
    message = str(info.value)
    assert f"HTTP 401 Unauthorized from http://***@{host}/private/a.jsonl?token=***" in message
    assert "wrong-pass" not in message
    assert "tok-123456" not in message


def test_http_404_is_a_config_error_naming_the_url(http_folder: tuple[str, Path]) -> None:
    base, _ = http_folder
    with pytest.raises(ConfigError, match=rf"HTTP 404 .* from {base}/missing\.csv\?key=\*\*\*") as info:
        SOURCE.check(stream_config(f"{base}/missing.csv?key=abcdef"))
    assert info.value.field == "streams.0.path"
    assert "abcdef" not in str(info.value)


def test_http_5xx_is_transient_and_a_closed_port_too(http_folder: tuple[str, Path]) -> None:
    base, _ = http_folder
    with pytest.raises(TransientError, match="HTTP 503"):
        read(stream_config(f"{base}/boom.csv"))
    with pytest.raises(TransientError, match="cannot connect"):
        read({**stream_config("http://127.0.0.1:9/a.csv"), "http_timeout_seconds": 2})


# --- inference -----------------------------------------------------------------------------------


def test_inference_from_text(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        "i,n,b,d,tz,naive,zip,mixed,empty,big,mixed_tz\n"
        "1,1,true,2024-01-01,2024-01-01T00:00:00Z,2024-01-01T00:00:00,01234,1,,"
        "99999999999999999999,2024-01-01T00:00:00Z\n"
        "-2,2.5,FALSE,2024-12-31,2024-01-01 00:00:00.123+0530,2024-01-01 00:00,00001,x,,"
        "1,2024-01-01T00:00:00\n",
        encoding="utf-8",
    )
    assert types_of(stream_config(tmp_path / "a.csv")) == {
        "i": "integer",
        "n": "number",
        "b": "boolean",
        "d": "date",
        "tz": "timestamp_with_timezone",
        "naive": "timestamp_without_timezone",
        "zip": "string",  # leading zeros are kept
        "mixed": "string",
        "empty": "string",
        "big": "string",  # beyond int64: the digits are kept as text
        "mixed_tz": "string",  # some values with an offset, some without: no instant is guessed
        URL_COLUMN: "string",
        MODIFIED_COLUMN: "timestamp_with_timezone",
    }


def test_inference_from_json_values(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        '{"i": 1, "n": 1, "s": "12", "d": "2024-01-01", "o": {"a": 1}, "mix": 1, '
        '"big": 99999999999999999999}\n'
        '{"i": 2, "n": 1.5, "s": "x", "d": null, "o": {}, "mix": [1], "big": 1}\n',
        encoding="utf-8",
    )
    types = types_of(stream_config(tmp_path / "a.jsonl"))
    assert {k: types[k] for k in ("i", "n", "s", "d", "o", "mix", "big")} == {
        "i": "integer",
        "n": "number",
        "s": "string",  # a JSON string stays a string even when it looks like a number
        "d": "date",
        "o": "json",
        "mix": "json",
        "big": "string",
    }
    rows = read(stream_config(tmp_path / "a.jsonl")).rows
    assert [r["big"] for r in rows] == ["99999999999999999999", "1"]  # exact, never rounded through a float


def test_discover_declares_cursor_and_primary_key(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,x\n1,2\n", encoding="utf-8")
    [stream] = SOURCE.discover(stream_config(tmp_path / "a.csv", primary_key=["id"])).streams
    assert stream.source_defined_cursor is True
    assert stream.default_cursor_field == [MODIFIED_COLUMN]
    assert stream.source_defined_primary_key == [["id"]]
    assert SyncMode.incremental in stream.supported_sync_modes


# --- incremental ---------------------------------------------------------------------------------


def test_incremental_reads_only_new_and_modified_files(tmp_path: Path) -> None:
    def write(name: str, rows: str, when: dt.datetime) -> None:
        (tmp_path / name).write_text("id,v\n" + rows, encoding="utf-8")
        set_mtime(tmp_path / name, when)

    write("a.csv", "1,a\n", T0)
    write("b.csv", "2,b\n", T0 + dt.timedelta(hours=1))
    config = stream_config(tmp_path / "*.csv")
    first = read(config, SyncMode.incremental)
    assert first.files_read() == ["a.csv", "b.csv"]
    assert first.last_state == {
        "files": {
            str(tmp_path / "a.csv"): "2024-01-01T00:00:00.000000Z",
            str(tmp_path / "b.csv"): "2024-01-01T01:00:00.000000Z",
        }
    }

    write("c.csv", "3,c\n", T0 + dt.timedelta(hours=2))
    second = read(config, SyncMode.incremental, first.last_state)
    assert second.files_read() == ["c.csv"]

    set_mtime(tmp_path / "a.csv", T0 + dt.timedelta(hours=3))  # touched: read again
    write("old.csv", "4,d\n", T0 - dt.timedelta(days=9))  # new, but with an old time (copied with its times)
    third = read(config, SyncMode.incremental, second.last_state)
    assert third.files_read() == ["a.csv", "old.csv"]
    assert set(third.last_state["files"]) == {
        str(tmp_path / n) for n in ("a.csv", "b.csv", "c.csv", "old.csv")
    }

    nothing = read(config, SyncMode.incremental, third.last_state)
    assert nothing.rows == []
    assert nothing.last_state == third.last_state

    assert read(config, SyncMode.full_refresh, third.last_state).files_read() == [
        "a.csv",
        "b.csv",
        "c.csv",
        "old.csv",
    ]


def test_a_bad_state_entry_means_the_file_is_read_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n", encoding="utf-8")
    state = {"files": {str(tmp_path / "a.csv"): "not a time"}}
    with caplog.at_level(logging.WARNING):
        assert read(stream_config(tmp_path / "a.csv"), SyncMode.incremental, state).files_read() == ["a.csv"]
    assert "no valid time" in caplog.text


# --- bad input -----------------------------------------------------------------------------------


def test_short_rows_keep_their_values_and_null_the_rest_with_a_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.csv").write_text("id,name,score\n1,a,1\n2,b\n3\n4,d,4,\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        run = read(stream_config(tmp_path / "a.csv"))
    rows = {r["id"]: r for r in run.rows}
    assert sorted(rows) == [1, 2, 3, 4]  # no row dropped
    assert rows[2]["name"] == "b"
    assert rows[2]["score"] is None
    assert rows[2][CHANGES_COLUMN] == [change("score", SERIALIZATION)]
    assert rows[3][CHANGES_COLUMN] == [change("name", SERIALIZATION), change("score", SERIALIZATION)]
    assert rows[4]["score"] == 4
    assert rows[4][CHANGES_COLUMN] is None
    assert "a.csv line 3 has 2 fields but the header has 3" in caplog.text


def test_a_row_with_extra_values_stops_the_read_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\n1,a\n2,b,surprise\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"a\.csv line 3 has 3 fields but the header has 2") as info:
        read(stream_config(tmp_path / "a.csv"))
    assert "streams.0.csv_options" in str(info.value)


def test_invalid_utf8_nulls_only_that_value(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a.csv").write_bytes(b"id,name,note\n1,ok,fine\n2,bad \xff\xfe here,fine\n")
    with caplog.at_level(logging.WARNING):
        rows = read(stream_config(tmp_path / "a.csv")).rows
    assert [r["name"] for r in rows] == ["ok", None]
    assert [r["note"] for r in rows] == ["fine", "fine"]
    assert rows[1][CHANGES_COLUMN] == [change("name", SERIALIZATION)]
    assert "column 'name' of data row 2 is not valid UTF-8" in caplog.text
    assert "streams.0.csv_options.encoding" in caplog.text


def test_invalid_utf8_in_json_lines(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b'{"id": 1, "name": "ok"}\n{"id": 2, "name": "bad \xff"}\n')
    rows = read(stream_config(tmp_path / "a.jsonl")).rows
    assert [r["name"] for r in rows] == ["ok", None]
    assert rows[1]["id"] == 2
    assert rows[1][CHANGES_COLUMN] == [change("name", SERIALIZATION)]


def test_nul_bytes_are_kept_in_text_and_null_a_typed_value(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"id,n,name\n1,1,a\x00b\n2,2\x00,c\n")
    rows = read(stream_config(tmp_path / "a.csv")).rows
    assert [r["name"] for r in rows] == ["a\x00b", "c"]  # NUL is a valid character: kept byte for byte
    assert [r["n"] for r in rows] == ["1", "2\x00"]  # seen in the sample: not an integer column
    assert all(r[CHANGES_COLUMN] is None for r in rows)
    late = "".join(f"{i},{i}\n" for i in range(10_000)) + "10000,1\x002\n"
    (tmp_path / "late.csv").write_text("id,n\n" + late, encoding="utf-8")
    rows = read(stream_config(tmp_path / "late.csv")).rows
    assert rows[-1]["n"] is None
    assert rows[-1][CHANGES_COLUMN] == [change("n", SERIALIZATION)]
    (tmp_path / "b.jsonl").write_bytes(b'{"name": "raw \x00 nul", "esc": "\\u0000"}\n')
    [row] = read(stream_config(tmp_path / "b.jsonl")).rows
    assert (row["name"], row["esc"]) == ("raw \x00 nul", "\x00")


def test_a_utf16_file_read_as_utf8_asks_for_the_encoding(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes("id,name\n1,x\n".encode("utf-16"))
    for header in (True, False):
        with pytest.raises(ConfigError, match="is not utf-8 text: its first row holds NUL bytes") as info:
            SOURCE.discover(stream_config(tmp_path / "a.csv", csv_options={"header": header}))
        assert info.value.field == "streams.0.csv_options.encoding"
    run = read(stream_config(tmp_path / "a.csv", csv_options={"encoding": "utf-16"}))
    assert [(r["id"], r["name"]) for r in run.rows] == [(1, "x")]


def test_duplicate_and_empty_header_names(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a.csv").write_text("a,a,,a_2, ,a\n1,2,3,4,5,6\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        [row] = read(stream_config(tmp_path / "a.csv")).rows
    data = {k: v for k, v in row.items() if not k.startswith(("_ab_", "_ferry"))}
    assert data == {"a": 1, "a_3": 2, "column_3": 3, "a_2": 4, "column_5": 5, "a_4": 6}
    assert "header column 2 ('a') repeats an earlier name" in caplog.text
    assert "header column 3 ('') is empty; it is read as 'column_3'" in caplog.text


def test_integers_beyond_int64_are_kept_as_text_or_null_with_a_size_reason(tmp_path: Path) -> None:
    big = "99999999999999999999"
    # Seen in the sample: the column is a string, so every digit is kept.
    (tmp_path / "a.csv").write_text(f"id\n1\n{big}\n", encoding="utf-8")
    assert types_of(stream_config(tmp_path / "a.csv"))["id"] == "string"
    assert [r["id"] for r in read(stream_config(tmp_path / "a.csv")).rows] == ["1", big]
    # Only after the 10,000 sampled rows: the column is an integer column and the value cannot fit it.
    late = tmp_path / "late.csv"
    late.write_text("id\n" + "".join(f"{i}\n" for i in range(10_000)) + f"-{big}\n", encoding="utf-8")
    assert types_of(stream_config(late))["id"] == "integer"
    rows = read(stream_config(late)).rows
    assert len(rows) == 10_001
    assert rows[-1]["id"] is None
    assert rows[-1][CHANGES_COLUMN] == [change("id", SIZE)]
    assert sum(1 for r in rows if r[CHANGES_COLUMN]) == 1
    (tmp_path / "late.jsonl").write_text(
        "".join(f'{{"id": {i}}}\n' for i in range(10_000)) + f'{{"id": {big}}}\n', encoding="utf-8"
    )
    rows = read(stream_config(tmp_path / "late.jsonl")).rows
    assert rows[-1]["id"] is None
    assert rows[-1][CHANGES_COLUMN] == [change("id", SIZE)]


def test_impossible_dates_and_overflowing_numbers_are_null_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("day,x\n2023-02-28,1.5\n2023-02-30,1e999\n", encoding="utf-8")
    rows = read(stream_config(tmp_path / "a.csv")).rows
    assert [r["day"] for r in rows] == [dt.date(2023, 2, 28), None]
    assert [r["x"] for r in rows] == [1.5, None]
    assert rows[1][CHANGES_COLUMN] == [change("day", SERIALIZATION), change("x", SIZE)]
    (tmp_path / "b.jsonl").write_text('{"day": "2023-01-01"}\n{"day": "2023-02-30"}\n', encoding="utf-8")
    rows = read(stream_config(tmp_path / "b.jsonl")).rows
    assert rows[1]["day"] is None
    assert rows[1][CHANGES_COLUMN] == [change("day", SERIALIZATION)]


def test_reasons_are_never_destination_reasons(tmp_path: Path) -> None:
    # The connector kit's casting names DESTINATION_* reasons; a bad value in a file is the source's.
    (tmp_path / "a.csv").write_text("x,d,i\n1.5,2024-01-01,1\n1e999,2024-13-01,1\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"d": "2024-01-01"}\n{"d": "2024-02-30"}\n', encoding="utf-8")
    config = {
        "streams": [
            {"name": "a", "path": str(tmp_path / "a.csv")},
            {"name": "b", "path": str(tmp_path / "b.jsonl")},
        ]
    }
    run = read(config)
    reasons = sorted(c["reason"] for r in run.rows for c in r[CHANGES_COLUMN] or [])
    assert reasons == [SIZE, SERIALIZATION, SERIALIZATION]


def test_empty_files(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    run = read(stream_config(tmp_path / "empty.csv"))
    assert run.rows == []
    assert list(schema_of(stream_config(tmp_path / "empty.csv"))["properties"]) == [
        URL_COLUMN,
        MODIFIED_COLUMN,
    ]
    assert run.last_state["files"] == {
        str(tmp_path / "empty.csv"): run.last_state["files"][str(tmp_path / "empty.csv")]
    }
    (tmp_path / "header.csv").write_text("id,name\n", encoding="utf-8")
    assert read(stream_config(tmp_path / "header.csv")).rows == []
    assert types_of(stream_config(tmp_path / "header.csv"))["id"] == "string"
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "empty.csv.gz").write_bytes(gzip.compress(b""))
    assert read(stream_config(tmp_path / "empty.jsonl")).rows == []
    assert read(stream_config(tmp_path / "empty.csv.gz")).rows == []


def test_invalid_json_line_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": 1}\n{"id": 2,, }\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"a\.jsonl line 2, column 10: not valid JSON"):
        read(stream_config(tmp_path / "a.jsonl"))
    (tmp_path / "b.jsonl").write_text('{"id": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"b\.jsonl line 2 holds a JSON list, not an object"):
        read(stream_config(tmp_path / "b.jsonl"))


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"a\.parquet is not a Parquet file"):
        SOURCE.discover(stream_config(tmp_path / "a.parquet"))


# --- config errors -------------------------------------------------------------------------------


def test_no_file_matches_the_glob(tmp_path: Path) -> None:
    pattern = str(tmp_path / "nothing" / "*.csv")
    with pytest.raises(ConfigError, match=r"no file matches the pattern '.*nothing/\*\.csv'") as info:
        SOURCE.check(stream_config(pattern))
    assert info.value.field == "streams.0.path"


def test_missing_local_file_and_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"file not found: '.*missing\.csv'") as info:
        SOURCE.discover(stream_config(tmp_path / "missing.csv"))
    assert info.value.field == "streams.0.path"
    with pytest.raises(ConfigError, match="is a directory"):
        SOURCE.discover(stream_config(tmp_path))


@pytest.mark.parametrize(
    ("stream", "field"),
    [
        ({"name": "x"}, "streams.0.path"),
        ({"name": "x", "path": "a.csv", "format": "xml"}, "streams.0.format"),
        ({"name": "x", "path": "a.csv", "compression": "brotli"}, "streams.0.compression"),
        (
            {"name": "x", "path": "a.csv", "csv_options": {"delimiter": ";;"}},
            "streams.0.csv_options.delimiter",
        ),
        (
            {"name": "x", "path": "a.csv", "csv_options": {"encoding": "klingon"}},
            "streams.0.csv_options.encoding",
        ),
        ({"name": "x", "path": "a.csv", "colour": "red"}, "streams.0"),
        ({"name": "x", "path": "s3://bucket/a.csv"}, "streams.0.path"),
    ],
)
def test_config_errors_name_the_field(stream: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        SOURCE.discover({"streams": [stream]})
    assert info.value.field == field
    assert field in str(info.value)


def test_duplicate_stream_names_unknown_extension_and_unknown_primary_key(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n", encoding="utf-8")
    (tmp_path / "a.data").write_text("id\n1\n", encoding="utf-8")
    twice = {"streams": [{"name": "x", "path": str(tmp_path / "a.csv")}] * 2}
    with pytest.raises(ConfigError, match="repeats the stream name 'x'") as info:
        SOURCE.streams(twice)
    assert info.value.field == "streams.1.name"
    with pytest.raises(ConfigError, match=r"cannot tell the format of .*a\.data") as info:
        SOURCE.discover(stream_config(tmp_path / "a.data"))
    assert info.value.field == "streams.0.format"
    with pytest.raises(ConfigError, match=r"primary key column.*'nope'") as info:
        SOURCE.discover(stream_config(tmp_path / "a.csv", primary_key=["nope"]))
    assert info.value.field == "streams.0.primary_key"


def test_errors_are_ferry_errors_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(FerryError) as info:
        SOURCE.check(stream_config(tmp_path / "*.csv"))
    assert info.value.hint


# --- the CLI, and memory -------------------------------------------------------------------------


def test_cli_read_as_a_subprocess(tmp_path: Path, venv_bin: Path) -> None:
    (tmp_path / "a.csv").write_text("id,day\n1,2024-01-01\n2,2024-02-30\n", encoding="utf-8")
    config = stream_config(tmp_path / "*.csv")
    catalog = ConfiguredCatalog(
        [ConfiguredStream(s, sync_mode=SyncMode.incremental) for s in SOURCE.discover(config).streams]
    )
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "catalog.json").write_text(json.dumps(to_obj(catalog)), encoding="utf-8")
    done = subprocess.run(
        [
            str(venv_bin / "ferry-connector"),
            "source-file",
            "read",
            "--config",
            "config.json",
            "--catalog",
            "catalog.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    messages = [decode(line) for line in done.stdout.splitlines() if line.strip()]
    records = [m.record for m in messages if m.type is Type.RECORD and m.record is not None]
    assert [r.data["id"] for r in records] == [1, 2]
    assert records[0].data[URL_COLUMN] == str(tmp_path / "a.csv")
    assert records[1].data["day"] is None
    assert records[1].meta is not None
    assert [(c.field, c.reason.value) for c in records[1].meta.changes] == [("day", SERIALIZATION)]
    states = [m.state for m in messages if m.type is Type.STATE and m.state is not None]
    assert states[-1].stream is not None
    assert states[-1].stream.stream_state is not None
    assert list(states[-1].stream.stream_state["files"]) == [str(tmp_path / "a.csv")]
    assert sum(s.source_stats.record_count for s in states if s.source_stats) == 2


def test_a_million_row_parquet_file_reads_in_bounded_batches(tmp_path: Path) -> None:
    rows = 1_000_000
    ids = pa.array(range(rows), pa.int64())
    label = pc.binary_join_element_wise("customer number ", pc.cast(ids, pa.string()), " of many", "")
    table = pa.table({"id": ids, "amount": pc.multiply(ids, 0.5), "label": label})
    path = tmp_path / "big.parquet"
    pq.write_table(table, path, row_group_size=100_000)
    whole = table.nbytes  # about 50 MB of Arrow data
    del table, ids, label
    catalog = ConfiguredCatalog([ConfiguredStream(s) for s in SOURCE.discover(stream_config(path)).streams])
    baseline = pa.total_allocated_bytes()
    peak, batches, total = 0, 0, 0
    for item in SOURCE.read(stream_config(path), catalog):
        if isinstance(item, RecordBatch):
            batches += 1
            total += item.num_rows
            assert item.num_rows <= 65_536
            peak = max(peak, pa.total_allocated_bytes() - baseline)
        del item
    assert total == rows
    assert batches >= rows // 65_536
    # Batches, never one table: Arrow memory in use stays a fraction of the file's data (about 17 of 50 MB,
    # most of it the batch in hand, whose file-name column repeats the path on each of its 65,536 rows).
    assert peak < whole / 2, (peak, whole)
