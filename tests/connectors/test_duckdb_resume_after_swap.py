"""A resumed overwrite whose generation was already swapped in must not replace the table with its tail.

The engine records a finished full refresh only after the destination swapped the new generation in;
a crash between the two makes the next attempt resume the same generation from its last checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from ferry.cdk import RecordBatch
from ferry.connectors.destinations.duckdb import DuckDBDestination
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    Message,
    Stream,
    StreamDescriptor,
    SyncMode,
    Type,
    completed_status,
    stream_state_message,
)

USERS = StreamDescriptor("users")
SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}}


def catalog(generation: int) -> ConfiguredCatalog:
    stream = Stream(name="users", json_schema=SCHEMA, supported_sync_modes=[SyncMode.full_refresh])
    configured = ConfiguredStream(
        stream=stream,
        sync_mode=SyncMode.full_refresh,
        destination_sync_mode=DestinationSyncMode.overwrite,
        generation_id=generation,
        minimum_generation_id=generation,
        sync_id=generation,
    )
    return ConfiguredCatalog([configured])


def attempt(path: Path, generation: int, ids: range) -> list[Message]:
    batch = RecordBatch(
        USERS, pa.RecordBatch.from_pydict({"id": pa.array(list(ids), pa.int64())}), 1_700_000_000_000
    )
    messages = [batch, stream_state_message(USERS, {"next_id": ids.stop}, len(ids)), completed_status(USERS)]
    return list(DuckDBDestination().write({"path": str(path)}, catalog(generation), messages))


def ids_in(path: Path) -> list[int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT id FROM users ORDER BY id").fetchall()]


def test_resuming_a_generation_that_was_already_swapped_in_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    assert [m.type for m in attempt(path, 1, range(10))] == [Type.STATE]
    assert ids_in(path) == list(range(10))
    # Generation 2 completes (swapped in), then its attempt is resumed from the last checkpoint: the tail.
    attempt(path, 2, range(100, 110))
    attempt(path, 2, range(110, 112))
    assert ids_in(path) == list(range(100, 112))  # the whole of generation 2, generation 1 gone
    # A new generation still replaces the table.
    attempt(path, 3, range(200, 203))
    assert ids_in(path) == [200, 201, 202]
