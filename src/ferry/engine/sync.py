"""Runs one sync: source -> typing and counting -> destination, saving each state only once committed."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ferry.cdk import DestinationInput, RecordBatch, RecordBuffer, StreamTyper
from ferry.cdk.secrets import mask
from ferry.engine import faults
from ferry.engine.ledger import Ledger, StreamCounts
from ferry.engine.mapping import StreamMapping, no_renames
from ferry.engine.prefetch import prefetch
from ferry.engine.runners import DestinationRunner, SourceRunner
from ferry.engine.state_store import ConnectionState, StateStore
from ferry.errors import ConnectorError, FerryError, InternalError
from ferry.protocol import (
    ConfiguredCatalog,
    DestinationSyncMode,
    Level,
    Message,
    StateMessage,
    StateType,
    StreamDescriptor,
    SyncMode,
    Type,
    completed_status,
)

log = logging.getLogger("ferry.engine")

_REFRESH_MODE = {
    DestinationSyncMode.append: DestinationSyncMode.overwrite,
    DestinationSyncMode.append_dedup: DestinationSyncMode.overwrite_dedup,
}


class SyncObserver(Protocol):
    """Receives progress as it happens (the CLI draws it; the server stores it)."""

    def on_records(self, stream: StreamDescriptor, count: int) -> None: ...

    def on_checkpoint(self, streams: dict[StreamDescriptor, StreamCounts]) -> None: ...

    def on_log(self, level: Level, text: str) -> None: ...


class NullObserver:
    def on_records(self, stream: StreamDescriptor, count: int) -> None:
        pass

    def on_checkpoint(self, streams: dict[StreamDescriptor, StreamCounts]) -> None:
        pass

    def on_log(self, level: Level, text: str) -> None:
        pass


class SyncCancelled(FerryError):  # noqa: N818 - a cancel is an outcome, not a fault
    """The sync was cancelled: its connectors were killed; only states committed before were saved."""


@dataclass(slots=True)
class SyncResult:
    sync_id: int
    succeeded: bool
    seconds: float
    streams: dict[StreamDescriptor, StreamCounts] = field(default_factory=dict)
    error: FerryError | None = None

    @property
    def records_committed(self) -> int:
        return sum(c.committed for c in self.streams.values())


DEFAULT_COMMIT_ROWS = 200_000
"""Rows between destination commits (the source's checkpoints in between are checked and merged).

A commit costs the destination a fixed amount (DuckDB: WAL write and checkpoint, about 85 ms on the
2-core benchmark machine); at 100,000 rows, Postgres -> DuckDB spent a third of its time committing.
200,000 made that copy 10-15% faster for 30 MB more peak memory; a crash re-reads at most this many rows."""


def _batch_bytes(item: object) -> int:
    """What a source item holds in memory while it waits in the prefetch buffer (messages: nothing)."""
    return item.data.nbytes if isinstance(item, RecordBatch) else 0


def next_generation(previous: int) -> int:
    """The generation after `previous`: larger than it, and at least the current Unix time in seconds.

    A destination tells a resumed generation from a new one by its id alone, so ids must not repeat
    for one table. A counter alone would: a lost or deleted state file, or a second pipeline writing
    the same table, starts again at 1, and an overwrite would then add to the rows of the earlier
    generation 1 instead of replacing them. Time-based ids stay increasing across such restarts.
    """
    return max(previous + 1, int(time.time()))


class Sync:
    """One run of a configured catalog from a source to a destination.

    `mapping` names the streams in the destination (namespace and prefix); counts, progress and the
    saved state stay keyed by the source's streams whatever it is.
    """

    def __init__(
        self,
        source: SourceRunner,
        destination: DestinationRunner,
        catalog: ConfiguredCatalog,
        store: StateStore,
        *,
        full_refresh: bool = False,
        observer: SyncObserver | None = None,
        batch_rows: int = 10_000,
        commit_rows: int = DEFAULT_COMMIT_ROWS,
        commit_seconds: float = 60.0,
        mapping: StreamMapping | None = None,
    ) -> None:
        self.source = source
        self.destination = destination
        self.catalog = catalog
        self.store = store
        self.full_refresh = full_refresh
        self.observer: SyncObserver = observer or NullObserver()
        self.batch_rows = batch_rows
        self.commit_rows = commit_rows
        self.commit_seconds = commit_seconds
        self.mapping = mapping or StreamMapping()
        self._renames = no_renames()
        self.ledger = Ledger()
        # States held back until enough rows or time have passed: a destination commit per source
        # checkpoint would cost more than the checkpoints save. Only the newest per scope is kept.
        self._held: dict[StreamDescriptor | None, Message] = {}
        self._rows_since_commit = 0
        self._last_commit = time.monotonic()
        self.state = ConnectionState()
        self.source_errors: list[str] = []
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop the sync from another thread: connector processes are killed, `run` returns SyncCancelled."""
        self._cancelled.set()
        self._stop_connectors()

    def _stop_connectors(self) -> None:
        # A source blocked on a read, or a destination on a write, stops only when its process is killed.
        # Runners that run processes offer stop(); in-process ones stop when the loop stops calling them.
        for runner in (self.source, self.destination):
            stop = getattr(runner, "stop", None)
            if stop is not None:
                try:
                    stop()
                except Exception:
                    log.debug("stopping %s failed", runner.name, exc_info=True)

    def run(self) -> SyncResult:
        started = time.monotonic()
        error: FerryError | None = None
        try:
            self._renames = self.mapping.bind(s.descriptor for s in self.catalog.streams)
            self.state = self.store.load()
            source_catalog, destination_catalog = self._plan()
            outputs = self.destination.write(
                destination_catalog, self._renames.outgoing(self._forward(source_catalog))
            )
            for message in outputs:
                self._handle_output(message)
            if self.ledger.unacknowledged():
                raise InternalError(
                    f"destination '{self.destination.name}' finished without acknowledging "
                    f"{self.ledger.unacknowledged()} state(s); their records are not known to be committed"
                )
            self._finish()
        except FerryError as exc:
            error = exc
        except Exception as exc:
            log.debug("sync failed", exc_info=True)
            error = InternalError(mask(f"{type(exc).__name__}: {exc}"))
        except BaseException:
            self._stop_connectors()  # Ctrl-C or SIGTERM: no connector may outlive Ferry
            raise
        if error is not None:
            self._stop_connectors()
            if self._cancelled.is_set():
                error = SyncCancelled(
                    "the sync was cancelled", hint="States committed before the cancel were saved."
                )
        if error is not None and self.source_errors and not isinstance(error, ConnectorError):
            error.context.setdefault("source_errors", list(self.source_errors))
        return SyncResult(
            self.state.sync_id, error is None, time.monotonic() - started, self.ledger.streams, error
        )

    # -- planning ------------------------------------------------------------------------------

    def _plan(self) -> tuple[ConfiguredCatalog, ConfiguredCatalog]:
        """Give every stream its sync id and generation; save that before any data moves.

        The destination's catalog has the streams' destination names; the source's keeps its own.
        """
        state = self.state
        state.sync_id += 1
        if self.full_refresh:
            state.shared_state, state.legacy = None, None
        source_streams, destination_streams = [], []
        for stream in self.catalog.streams:
            entry = state.entry(stream.descriptor)
            if self.full_refresh:
                entry.state, entry.truncating = None, False
            if stream.sync_mode is SyncMode.full_refresh:
                # A full refresh left unfinished resumes its generation when the stream can resume.
                if not (stream.stream.is_resumable and entry.state is not None):
                    entry.generation = next_generation(entry.generation)
                    entry.state = None
                entry.truncating = _replaces(stream.destination_sync_mode)
            elif self.full_refresh:
                entry.generation = next_generation(entry.generation)
                entry.truncating = True
            mode = stream.destination_sync_mode
            if entry.truncating and stream.sync_mode is SyncMode.incremental:
                mode = _REFRESH_MODE.get(mode, mode)
            planned = dataclasses.replace(
                stream,
                sync_id=state.sync_id,
                generation_id=entry.generation,
                minimum_generation_id=entry.generation if _replaces(mode) else 0,
            )
            source_streams.append(planned)
            destination_streams.append(
                self._renames.configured(dataclasses.replace(planned, destination_sync_mode=mode))
            )
        self.store.save(state)
        return ConfiguredCatalog(source_streams), ConfiguredCatalog(destination_streams)

    # -- source to destination ------------------------------------------------------------------

    def _forward(self, source_catalog: ConfiguredCatalog) -> Iterator[DestinationInput]:
        """Typed, counted batches and the states that follow them, named as the source names them."""
        typers = {s.descriptor: StreamTyper(s.stream.json_schema) for s in source_catalog.streams}
        buffers = {d: RecordBuffer(d, t, max_rows=self.batch_rows) for d, t in typers.items()}
        items = prefetch(self.source.read(source_catalog, self.state.source_state()), weigh=_batch_bytes)
        try:
            for item in items:
                if self._cancelled.is_set():
                    raise SyncCancelled("the sync was cancelled")
                if isinstance(item, RecordBatch):
                    typer = typers.get(item.stream)
                    if typer is None:
                        continue
                    yield from self._counted(buffers[item.stream].flush())
                    yield from self._counted(
                        [RecordBatch(item.stream, typer.conform(item.data), item.emitted_at)]
                    )
                else:
                    yield from self._source_message(item, buffers)
        except SyncCancelled:
            raise
        except Exception:
            # The source failed: the checkpoints held back so far cover records already sent, so they
            # still go to the destination, and the progress they stand for is kept.
            yield from self._release()
            raise
        for buffer in buffers.values():
            yield from self._counted(buffer.flush())
        yield from self._release()
        for stream in source_catalog.streams:
            yield completed_status(stream.descriptor)

    def _source_message(
        self, message: Message, buffers: dict[StreamDescriptor, RecordBuffer]
    ) -> Iterator[DestinationInput]:
        if message.type is Type.RECORD and message.record is not None:
            buffer = buffers.get(StreamDescriptor(message.record.stream, message.record.namespace))
            if buffer is not None and buffer.add(message.record):
                yield from self._counted(buffer.flush())
        elif message.type is Type.STATE and message.state is not None:
            for buffer in buffers.values():
                yield from self._counted(buffer.flush())
            self.ledger.observe(message.state)
            self._held[_scope_key(message.state)] = message
            due = time.monotonic() - self._last_commit >= self.commit_seconds
            if self._rows_since_commit >= self.commit_rows or due:
                yield from self._release()
        elif message.type is Type.LOG and message.log is not None:
            self.observer.on_log(message.log.level, mask(message.log.message))
        elif message.type is Type.TRACE and message.trace is not None and message.trace.error is not None:
            self.source_errors.append(mask(message.trace.error.message))

    def _release(self) -> Iterator[Message]:
        """Forward the held states: the destination commits everything before them."""
        held, self._held = list(self._held.values()), {}
        for message in held:
            assert message.state is not None
            self.ledger.forward(message.state)
            yield message
        self._rows_since_commit = 0
        self._last_commit = time.monotonic()

    def _counted(self, batches: Iterator[RecordBatch] | list[RecordBatch]) -> Iterator[RecordBatch]:
        for batch in batches:
            self._rows_since_commit += batch.num_rows
            self.ledger.records(batch.stream, batch.num_rows, batch.data.nbytes)
            self.observer.on_records(batch.stream, batch.num_rows)
            faults.point("batch")
            yield batch

    # -- destination output ---------------------------------------------------------------------

    def _handle_output(self, message: Message) -> None:
        if message.type is Type.STATE and message.state is not None:
            state = self._renames.incoming(message.state)
            self.ledger.acknowledge(state)
            faults.point("commit")
            self.state.apply(_clean(state))
            self.store.save(self.state)
            faults.point("saved")
            self.observer.on_checkpoint(self.ledger.streams)
        elif message.type is Type.LOG and message.log is not None:
            self.observer.on_log(message.log.level, mask(message.log.message))
        elif message.type is Type.TRACE and message.trace is not None and message.trace.error is not None:
            error = message.trace.error
            raise ConnectorError(
                mask(error.message),
                failure_type=error.failure_type or ConnectorError.failure_type,
                connector=self.destination.name,
            )

    def _finish(self) -> None:
        """Every stream completed: replaced generations are in place, full-refresh positions start over."""
        for stream in self.catalog.streams:
            entry = self.state.entry(stream.descriptor)
            entry.truncating = False
            if stream.sync_mode is SyncMode.full_refresh:
                entry.state = None
        self.store.save(self.state)


def _scope_key(state: StateMessage) -> StreamDescriptor | None:
    """States that replace each other: one stream's STREAM states, or all GLOBAL/LEGACY ones."""
    if state.state_type is StateType.STREAM and state.stream is not None:
        return state.stream.stream_descriptor
    return None


def _replaces(mode: DestinationSyncMode) -> bool:
    return mode in (DestinationSyncMode.overwrite, DestinationSyncMode.overwrite_dedup)


def _clean(state: StateMessage) -> StateMessage:
    """The state as the source gave it: without the counts and the id the platform added on the way."""
    return dataclasses.replace(state, source_stats=None, destination_stats=None, extra={})
