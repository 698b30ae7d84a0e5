"""Base classes for destinations: a Writer that commits at every state, and the loop that drives it.

A destination acknowledges (echoes) a state only after `Writer.commit()` has made every record
before it durable, and it reports how many records of that state's scope it committed.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from ferry.cdk.batching import RecordBatch, RecordBuffer, StreamTyper
from ferry.errors import ConfigError
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    ConnectorSpecification,
    DestinationSyncMode,
    Message,
    StateMessage,
    StateStats,
    StateType,
    StreamDescriptor,
    StreamStatus,
    Type,
)

DestinationInput = Message | RecordBatch


class Writer(ABC):
    """Writes one sync's records. The destination loop calls these in order:

    `open()` once; `write()` for every batch; `commit()` at every state (everything written so far
    must be durable when it returns); `complete(stream)` when a stream finished successfully (the
    place for an overwrite swap); `close()` once, also after a failure.

    `commit()` returns how many rows of each stream it made durable since the previous commit, as
    the database reported them (e.g. the INSERT's row count). Those numbers, not the number of rows
    handed to `write()`, go back to the engine as `destinationStats`, so a writer that loses rows is
    caught. A writer that cannot tell returns None and the rows handed to it are reported.
    """

    def __init__(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        self.config = config
        self.catalog = catalog

    def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare tables or files; raise ConfigError for problems that exist before any row is written."""

    @abstractmethod
    def write(self, batch: RecordBatch) -> None: ...

    @abstractmethod
    def commit(self) -> Mapping[StreamDescriptor, int] | None: ...

    def complete(self, stream: StreamDescriptor) -> None:  # noqa: B027 - optional hook
        """The stream ended successfully: finalize it (swap an overwrite generation in)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources. Uncommitted data is discarded."""


class Destination(ABC):
    """A destination connector: spec, check and write."""

    name: ClassVar[str]
    documentation_url: ClassVar[str | None] = None
    supported_sync_modes: ClassVar[tuple[DestinationSyncMode, ...]] = (
        DestinationSyncMode.append,
        DestinationSyncMode.overwrite,
        DestinationSyncMode.append_dedup,
        DestinationSyncMode.overwrite_dedup,
    )

    @abstractmethod
    def spec(self) -> ConnectorSpecification: ...

    @abstractmethod
    def check(self, config: Mapping[str, Any]) -> None:
        """Raise a FerryError when the destination cannot be written with `config`."""

    @abstractmethod
    def writer(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> Writer: ...

    def validate_catalog(self, catalog: ConfiguredCatalog) -> None:
        for stream in catalog.streams:
            mode = stream.destination_sync_mode
            if mode not in self.supported_sync_modes:
                raise ConfigError(
                    f"destination '{self.name}' does not support the sync mode '{mode.value}'",
                    hint=f"Use one of: {', '.join(m.value for m in self.supported_sync_modes)}.",
                    stream=str(stream.descriptor),
                )
            if (
                mode in (DestinationSyncMode.append_dedup, DestinationSyncMode.overwrite_dedup)
                and not stream.key
            ):
                raise ConfigError(
                    f"stream '{stream.descriptor}' uses {mode.value} but has no primary key",
                    hint="Set primary_key for the stream, or use append / overwrite.",
                    stream=str(stream.descriptor),
                )

    def write(
        self, config: Mapping[str, Any], catalog: ConfiguredCatalog, messages: Iterable[DestinationInput]
    ) -> Iterator[Message]:
        """Consume records and states; yield each state back once its records are committed."""
        self.validate_catalog(catalog)
        writer = self.writer(config, catalog)
        try:
            writer.open()
            yield from _WriteLoop(writer, catalog).run(messages)
        finally:
            writer.close()


class _WriteLoop:
    """Buffers JSON records into typed batches, commits at states and counts per state scope."""

    def __init__(self, writer: Writer, catalog: ConfiguredCatalog) -> None:
        self.writer = writer
        self.streams: dict[StreamDescriptor, ConfiguredStream] = {s.descriptor: s for s in catalog.streams}
        self.buffers: dict[StreamDescriptor, RecordBuffer] = {}
        self.handed: defaultdict[StreamDescriptor, int] = defaultdict(int)
        self.since_state: defaultdict[StreamDescriptor, int] = defaultdict(int)
        self.since_any_state = 0

    def run(self, messages: Iterable[DestinationInput]) -> Iterator[Message]:
        for message in messages:
            if isinstance(message, RecordBatch):
                if message.stream in self.streams:
                    self._write(message)
            elif message.type is Type.RECORD and message.record is not None:
                self._buffer(message)
            elif message.type is Type.STATE and message.state is not None:
                self._flush_all()
                self._commit()
                yield self._acknowledge(message.state)
            elif (
                message.type is Type.TRACE
                and message.trace is not None
                and message.trace.stream_status is not None
            ):
                status = message.trace.stream_status
                if status.status is StreamStatus.COMPLETE and status.stream_descriptor in self.streams:
                    self._flush_all()
                    self._commit()
                    self.writer.complete(status.stream_descriptor)
        self._flush_all()
        self._commit()

    def _write(self, batch: RecordBatch) -> None:
        self.writer.write(batch)
        self.handed[batch.stream] += batch.num_rows

    def _commit(self) -> None:
        reported = self.writer.commit()
        committed = self.handed if reported is None else reported
        for stream, n in committed.items():
            self.since_state[stream] += n
            self.since_any_state += n
        self.handed.clear()

    def _buffer(self, message: Message) -> None:
        record = message.record
        assert record is not None
        descriptor = StreamDescriptor(record.stream, record.namespace)
        configured = self.streams.get(descriptor)
        if configured is None:
            return  # records of streams outside the catalog are ignored (protocol rule)
        buffer = self.buffers.get(descriptor)
        if buffer is None:
            buffer = self.buffers[descriptor] = RecordBuffer(
                descriptor, StreamTyper(configured.stream.json_schema)
            )
        if buffer.add(record):
            for batch in buffer.flush():
                self._write(batch)

    def _flush_all(self) -> None:
        for buffer in self.buffers.values():
            for batch in buffer.flush():
                self._write(batch)

    def _acknowledge(self, state: StateMessage) -> Message:
        echoed = copy.deepcopy(state)
        if state.state_type is StateType.STREAM and state.stream is not None:
            count = self.since_state.pop(state.stream.stream_descriptor, 0)
            self.since_any_state -= count
        else:
            count = self.since_any_state
            self.since_state.clear()
            self.since_any_state = 0
        echoed.destination_stats = StateStats(record_count=float(count))
        return Message(Type.STATE, state=echoed)
