"""An overwrite replaces the table even when the engine has forgotten earlier syncs (a deleted state
file, or a second pipeline writing the same DuckDB table): generation ids never repeat."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from ferry.connectors import registry
from ferry.engine import (
    InProcessDestination,
    InProcessSource,
    MemoryStateStore,
    StreamSelection,
    Sync,
    configure_catalog,
)
from ferry.protocol import DestinationSyncMode, SyncMode


def overwrite_with_a_fresh_state_store(path: Path, count: int) -> None:
    src = InProcessSource(registry.source("sample-data"), {"count": count})
    dst = InProcessDestination(registry.destination("duckdb"), {"path": str(path)})
    selection = StreamSelection(
        "users", sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite
    )
    catalog = configure_catalog(src.discover(), [selection], dst.supported_sync_modes)
    result = Sync(src, dst, catalog, MemoryStateStore()).run()
    assert result.error is None, result.error


def test_an_overwrite_after_the_state_was_lost_replaces_the_table(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    overwrite_with_a_fresh_state_store(path, 300)
    time.sleep(1.05)  # generation ids have a resolution of one second
    overwrite_with_a_fresh_state_store(path, 200)
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT id) FROM users").fetchone()
        generations = con.execute("SELECT count(DISTINCT _airbyte_generation_id) FROM users").fetchone()
    assert rows == (200, 200)
    assert generations == (1,)
