"""Live progress (records and rows/s per stream) and the end-of-sync summary, drawn with rich."""

from __future__ import annotations

import time
from types import TracebackType

from rich import box
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

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

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._live.__exit__(kind, exc, tb)

    def _table(self) -> Table:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        table = Table(title="syncing", title_justify="left", box=None)
        for column in ("stream", "records read", "committed", "rows/s"):
            table.add_column(column, justify="left" if column == "stream" else "right")
        for descriptor, count in self.records.items():
            table.add_row(
                Text(str(descriptor)),
                f"{count:,}",
                f"{self.committed[descriptor]:,}",
                f"{count / elapsed:,.0f}",
            )
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
            self.console.print(
                f"[yellow]{level.value.lower()}[/]: {escape(text)}", markup=True, highlight=False
            )


def summary(result: SyncResult, catalog: ConfiguredCatalog) -> Table:
    """The end-of-sync table: per stream, records read from the source and committed by the destination."""
    read = sum(c.emitted for c in result.streams.values())
    rate = read / result.seconds if result.seconds > 0 else 0.0
    outcome = "succeeded" if result.succeeded else "FAILED"
    title = f"sync #{result.sync_id} {outcome} in {result.seconds:.1f}s ({rate:,.0f} records/s)"
    # No outer edge and no wrapping: one line per stream, within 80 columns for the usual names.
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        show_footer=len(catalog.streams) > 1,
    )
    footers = {"stream": "total", "read": f"{read:,}", "committed": f"{result.records_committed:,}"}
    for column in ("stream", "mode", "read", "committed", "checkpoints"):
        left = column in ("stream", "mode")
        table.add_column(column, footers.get(column, ""), justify="left" if left else "right", no_wrap=True)
    for stream in catalog.streams:
        counts = result.streams.get(stream.descriptor, StreamCounts())
        mode = f"{stream.sync_mode.value} + {stream.destination_sync_mode.value}"
        table.add_row(
            Text(str(stream.descriptor)),
            mode,
            f"{counts.emitted:,}",
            f"{counts.committed:,}",
            str(counts.states),
        )
    return table


def state_note(result: SyncResult, state_file: str) -> Text:
    """Where the state went, and what the next sync will do with it."""
    if result.succeeded:
        return Text(f"State saved to {state_file}: the next sync continues from there.")
    return Text(f"State in {state_file} covers only committed records: the next sync resumes from there.")
