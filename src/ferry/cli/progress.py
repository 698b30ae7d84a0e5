"""Live progress (records and rows/s per stream) and the end-of-sync summary, drawn with rich."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from ferry.engine import StreamCounts, SyncResult
from ferry.protocol import ConfiguredCatalog, Level, StreamDescriptor


class LiveProgress:
    """A SyncObserver that redraws a per-stream table at most a few times a second."""

    def __init__(self, catalog: ConfiguredCatalog, console: Console) -> None:
        self.catalog = catalog
        self.console = console
        self.records: dict[StreamDescriptor, int] = {s.descriptor: 0 for s in catalog.streams}
        self.committed: dict[StreamDescriptor, int] = dict.fromkeys(self.records, 0)
        self.started = time.monotonic()
        self._live = Live(self._table(), console=console, refresh_per_second=4, transient=True)
        self._last_draw = 0.0

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._live.__exit__(kind, exc, tb)

    def _table(self) -> Table:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        table = Table(title="syncing", title_justify="left", box=None)
        for column in ("stream", "records read", "committed", "rows/s"):
            table.add_column(column, justify="left" if column == "stream" else "right")
        for descriptor, count in self.records.items():
            table.add_row(str(descriptor), f"{count:,}", f"{self.committed[descriptor]:,}", f"{count / elapsed:,.0f}")
        return table

    def _redraw(self) -> None:
        now = time.monotonic()
        if now - self._last_draw > 0.2:
            self._last_draw = now
            self._live.update(self._table())

    def on_records(self, stream: StreamDescriptor, count: int) -> None:
        self.records[stream] = self.records.get(stream, 0) + count
        self._redraw()

    def on_checkpoint(self, streams: dict[StreamDescriptor, StreamCounts]) -> None:
        for descriptor, counts in streams.items():
            self.committed[descriptor] = counts.committed
        self._redraw()

    def on_log(self, level: Level, text: str) -> None:
        if level in (Level.WARN, Level.ERROR, Level.FATAL):
            self.console.print(f"[yellow]{level.value.lower()}[/]: {text}", markup=True, highlight=False)


def summary(result: SyncResult, catalog: ConfiguredCatalog) -> Table:
    title = f"sync #{result.sync_id} {'succeeded' if result.succeeded else 'FAILED'} in {result.seconds:.1f}s"
    table = Table(title=title, title_justify="left")
    for column in ("stream", "mode", "records", "committed", "checkpoints", "rows/s"):
        table.add_column(column, justify="left" if column in ("stream", "mode") else "right")
    for stream in catalog.streams:
        counts = result.streams.get(stream.descriptor, StreamCounts())
        mode = f"{stream.sync_mode.value} / {stream.destination_sync_mode.value}"
        rate = counts.emitted / result.seconds if result.seconds > 0 else 0.0
        table.add_row(
            str(stream.descriptor), mode, f"{counts.emitted:,}", f"{counts.committed:,}", str(counts.states), f"{rate:,.0f}"
        )
    return table
