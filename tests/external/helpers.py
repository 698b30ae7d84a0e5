"""Running a sync through the engine with external connectors, and watching what it logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ferry.engine import FileStateStore, Sync, SyncResult, configure_catalog
from ferry.engine.catalog import StreamSelection
from ferry.engine.connectors import ConnectorOptions, resolve
from ferry.engine.launcher import Limits
from ferry.engine.ledger import StreamCounts
from ferry.protocol import Level, StreamDescriptor
from tests.external.conftest import fake


@dataclass
class Recorder:
    """A SyncObserver that keeps the log lines."""

    logs: list[tuple[Level, str]] = field(default_factory=list)

    def on_records(self, stream: StreamDescriptor, count: int) -> None:
        pass

    def on_checkpoint(self, streams: dict[StreamDescriptor, StreamCounts]) -> None:
        pass

    def on_log(self, level: Level, text: str) -> None:
        self.logs.append((level, text))

    def text(self) -> str:
        return "\n".join(t for _, t in self.logs)


@dataclass
class Run:
    sync: Sync
    result: SyncResult
    store: FileStateStore
    observer: Recorder

    def saved(self, stream: str = "items") -> Any:
        """The state saved for `stream` (None when none was)."""
        entry = self.store.load().streams.get(StreamDescriptor(stream))
        return entry.state if entry else None


def make_sync(
    tmp_path: Path,
    source: dict[str, Any],
    *,
    source_ref: str | None = None,
    destination_ref: str = "duckdb",
    destination: dict[str, Any] | None = None,
    limits: Limits | None = None,
    selections: list[StreamSelection] | None = None,
    commit_rows: int = 0,
) -> tuple[Sync, FileStateStore, Recorder]:
    """A sync from the fake source (or `source_ref`) to DuckDB (or `destination_ref`). It commits at
    every checkpoint unless `commit_rows` says otherwise, so tests can name the state saved."""
    options = ConnectorOptions(limits=limits or Limits(grace=1.0))
    source_runner = resolve(source_ref or fake("source"), "source", options).source(source)
    destination_config = destination or {"path": str(tmp_path / "warehouse.duckdb")}
    destination_runner = resolve(destination_ref, "destination", options).destination(destination_config)
    catalog = configure_catalog(source_runner.discover(), selections, destination_runner.supported_sync_modes)
    store = FileStateStore(tmp_path / "state.json")
    observer = Recorder()
    sync = Sync(source_runner, destination_runner, catalog, store, observer=observer, commit_rows=commit_rows)
    return sync, store, observer


def run_sync(tmp_path: Path, source: dict[str, Any], **options: Any) -> Run:
    sync, store, observer = make_sync(tmp_path, source, **options)
    return Run(sync, sync.run(), store, observer)
