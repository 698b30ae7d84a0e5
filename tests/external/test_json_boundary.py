"""The JSON boundary: RECORD lines typed into Arrow by the fast paths give what the connector kit's own
typing (StreamTyper.from_rows) gives, and values that do not fit become NULL with a reason."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pyarrow as pa

from ferry.cdk import CHANGES_COLUMN, RecordBatch, StreamTyper
from ferry.engine.launcher.batches import JsonBatcher, RowTyper, batch_lines
from ferry.engine.launcher.blocks import BlockParser, record_prefix
from ferry.protocol import StreamDescriptor

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "price": {"type": ["null", "number"]},
        "name": {"type": ["null", "string"]},
        "active": {"type": "boolean"},
        "born": {"type": "string", "format": "date"},
        "seen_at": {"type": "string", "format": "date-time"},
        "local_at": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
        "opens": {"type": "string", "format": "time"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        "tags": {"type": "array"},
        "either": {"type": ["string", "integer"]},
    },
}
STREAM = StreamDescriptor("people")


def row(i: int, mixed: bool = False) -> dict[str, Any]:
    """A record; `mixed` puts values of several JSON types in the array and the union column."""
    return {
        "id": i,
        "price": i * 1.5,
        "name": None if i % 3 == 0 else f"n{i}",
        "active": i % 2 == 0,
        "born": f"2000-01-{i % 28 + 1:02d}",
        "seen_at": f"2024-03-01T10:00:{i % 60:02d}+02:00" if i % 2 else f"2024-03-01T10:00:{i % 60:02d}Z",
        "local_at": f"2024-03-01T10:00:{i % 60:02d}",
        "opens": "09:30:00",
        "address": {"city": f"c{i}"},
        "tags": ["a", i] if mixed else ["a", str(i)],
        "either": (i if i % 2 else str(i)) if mixed else str(i),
    }


def line(data: dict[str, Any], emitted_at: int = 1_700_000_000_000) -> bytes:
    record = {"stream": STREAM.name, "data": data, "emitted_at": emitted_at}
    return orjson.dumps({"type": "RECORD", "record": record}) + b"\n"


def plain(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """Rows with JSON columns as JSON values, whether Ferry holds them as text or nested."""
    rows = batch.to_pylist()
    for r in rows:
        for key in ("address", "tags", "either"):
            if isinstance(r.get(key), str):
                r[key] = json.loads(r[key])
    return rows


def test_arrow_blocks_type_clean_records_as_the_kit_does() -> None:
    typer = StreamTyper(SCHEMA)
    rows = [row(i) for i in range(1, 41)]
    parsed = BlockParser(typer).parse(b"".join(line(r) for r in rows), len(rows))
    assert parsed is not None
    batch, newest = parsed
    assert newest == 1_700_000_000_000
    expected = typer.from_rows([dict(r) for r in rows])
    assert plain(batch) == plain(expected)
    assert batch.schema.field("seen_at").type == pa.timestamp("us", tz="UTC")


def test_mixed_json_values_make_arrow_refuse_and_the_batcher_still_agrees() -> None:
    typer = StreamTyper(SCHEMA)
    rows = [row(i, mixed=True) for i in range(1, 41)]
    assert BlockParser(typer).parse(b"".join(line(r) for r in rows), len(rows)) is None
    batcher = JsonBatcher(STREAM, typer, max_rows=100)
    batcher.add_lines(b"".join(line(r) for r in rows), len(rows))
    (batch,) = batcher.flush()
    assert batch.data.equals(typer.from_rows([dict(r) for r in rows]))


def test_row_typer_gives_what_stream_typer_gives() -> None:
    typer = StreamTyper(SCHEMA)
    rows = [row(i, mixed=True) for i in range(1, 41)]
    fast = RowTyper(typer).from_rows([dict(r) for r in rows])
    assert fast.equals(typer.from_rows([dict(r) for r in rows]))


def test_a_block_arrow_refuses_still_loads_with_nulls_and_reasons() -> None:
    batcher = JsonBatcher(STREAM, StreamTyper(SCHEMA), max_rows=100)
    bad = {**row(2), "id": "not a number", "seen_at": "yesterday"}
    for data in (row(1), bad, row(3)):
        batcher.add_line(line(data).rstrip(b"\n"))
    (batch,) = batcher.flush()
    assert isinstance(batch, RecordBatch)
    rows = batch.data.to_pylist()
    assert [r["id"] for r in rows] == [1, None, 3]
    assert rows[1]["seen_at"] is None
    reasons = {(c["field"], c["reason"]) for c in rows[1][CHANGES_COLUMN]}
    assert reasons == {
        ("id", "DESTINATION_SERIALIZATION_ERROR"),
        ("seen_at", "DESTINATION_SERIALIZATION_ERROR"),
    }
    assert rows[0][CHANGES_COLUMN] is None


def test_switching_between_lines_and_parsed_records_keeps_their_order() -> None:
    batcher = JsonBatcher(STREAM, StreamTyper(SCHEMA), max_rows=100)
    batcher.add_line(line(row(1)).rstrip(b"\n"))
    batcher.add(row(2), 5, 100)
    batcher.add_lines(line(row(3)), 1)
    ids = [r["id"] for b in batcher.flush() for r in b.data.to_pylist()]
    assert ids == [1, 2, 3]


def test_the_plain_record_prefix_matches_what_the_cdk_writes() -> None:
    assert line(row(1)).startswith(record_prefix(STREAM.name))


def test_batches_go_to_external_destinations_as_json_values() -> None:
    typer = StreamTyper(SCHEMA)
    batch = RecordBatch(STREAM, typer.from_rows([row(1, mixed=True)]), 1_700_000_000_000)
    (message,) = [json.loads(text) for text in batch_lines(batch).splitlines()]
    data = message["record"]["data"]
    assert data["address"] == {"city": "c1"}  # an object again, not the text Ferry kept
    assert data["tags"] == ["a", 1]
    assert data["seen_at"] == "2024-03-01T08:00:01+00:00"
    assert message["record"]["emitted_at"] == 1_700_000_000_000
