"""Base classes for sources: streams that yield Arrow batches or dicts, and checkpoints."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from ferry.cdk.batching import RecordBatch
from ferry.errors import ConfigError, FerryError
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConnectorSpecification,
    Message,
    StateMessage,
    StateType,
    StreamDescriptor,
    StreamStatus,
    SyncMode,
    error_trace,
    record_message,
    stream_state_message,
    stream_status_message,
)
from ferry.protocol import Stream as AirbyteStream
from ferry.protocol.builders import now_ms


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Yielded by a stream: every record yielded before it is covered by `state`.

    Resuming the stream from `state` must not return records that come before it.
    """

    state: dict[str, Any]


@dataclass(slots=True)
class ReadContext:
    """What a stream needs to know for one read."""

    sync_mode: SyncMode
    cursor_field: list[str] | None
    state: dict[str, Any] | None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("ferry.source"))

    @property
    def incremental(self) -> bool:
        return self.sync_mode is SyncMode.incremental


StreamItem = pa.RecordBatch | dict[str, Any] | Checkpoint


class Stream(ABC):
    """One stream of a source. Subclasses set the class attributes and implement `json_schema` and `read`."""

    name: str
    namespace: str | None = None
    primary_key: list[list[str]] | None = None
    cursor_field: list[str] | None = None
    source_defined_cursor: bool = False
    resumable: bool = False
    """True when a full refresh can resume from a checkpoint (the stream checkpoints its position)."""

    @abstractmethod
    def json_schema(self) -> dict[str, Any]: ...

    @abstractmethod
    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        """Yield Arrow record batches or dict records, and a Checkpoint whenever a resume point is reached."""

    @property
    def descriptor(self) -> StreamDescriptor:
        return StreamDescriptor(self.name, self.namespace)

    def supported_sync_modes(self) -> list[SyncMode]:
        if self.cursor_field:
            return [SyncMode.full_refresh, SyncMode.incremental]
        return [SyncMode.full_refresh]

    def as_airbyte_stream(self) -> AirbyteStream:
        return AirbyteStream(
            name=self.name,
            namespace=self.namespace,
            json_schema=self.json_schema(),
            supported_sync_modes=self.supported_sync_modes(),
            source_defined_cursor=self.source_defined_cursor or None,
            default_cursor_field=self.cursor_field,
            source_defined_primary_key=self.primary_key,
            is_resumable=bool(self.cursor_field) or self.resumable,
        )


SourceOutput = Message | RecordBatch


class Source(ABC):
    """A source connector: spec, check, discover and read over a set of streams."""

    name: ClassVar[str]
    documentation_url: ClassVar[str | None] = None

    @abstractmethod
    def spec(self) -> ConnectorSpecification: ...

    @abstractmethod
    def streams(self, config: Mapping[str, Any]) -> list[Stream]: ...

    def check(self, config: Mapping[str, Any]) -> None:
        """Raise a FerryError when the source cannot be reached or read with `config`."""
        self.streams(config)

    def discover(self, config: Mapping[str, Any]) -> Catalog:
        return Catalog(streams=[s.as_airbyte_stream() for s in self.streams(config)])

    def read(
        self, config: Mapping[str, Any], catalog: ConfiguredCatalog, state: Sequence[StateMessage] = ()
    ) -> Iterator[SourceOutput]:
        """Read every configured stream in order, with statuses, counted checkpoints and error traces."""
        available = {s.descriptor: s for s in self.streams(config)}
        missing = [str(c.descriptor) for c in catalog.streams if c.descriptor not in available]
        if missing:
            known = ", ".join(sorted(str(d) for d in available)) or "none"
            raise ConfigError(
                f"configured stream(s) {', '.join(missing)} do not exist in source '{self.name}'",
                hint=f"Available streams: {known}.",
                connector=self.name,
            )
        states = stream_states(state)
        for configured in catalog.streams:
            stream = available[configured.descriptor]
            ctx = ReadContext(configured.sync_mode, configured.cursor, states.get(configured.descriptor))
            yield from _read_stream(stream, ctx)


def stream_states(state: Sequence[StateMessage]) -> dict[StreamDescriptor, dict[str, Any] | None]:
    """Per-stream state from a state file's messages (STREAM, or the per-stream part of GLOBAL)."""
    out: dict[StreamDescriptor, dict[str, Any] | None] = {}
    for message in state:
        if message.state_type is StateType.STREAM and message.stream is not None:
            out[message.stream.stream_descriptor] = message.stream.stream_state
        elif message.state_type is StateType.GLOBAL and message.global_ is not None:
            for s in message.global_.stream_states:
                out[s.stream_descriptor] = s.stream_state
    return out


def _read_stream(stream: Stream, ctx: ReadContext) -> Iterator[SourceOutput]:
    descriptor = stream.descriptor
    yield stream_status_message(descriptor, StreamStatus.STARTED)
    pending = 0
    running = False
    emitted_state = False
    last_state: dict[str, Any] | None = ctx.state
    try:
        for item in stream.read(ctx):
            if isinstance(item, Checkpoint):
                last_state, emitted_state = item.state, True
                yield stream_state_message(descriptor, item.state, pending)
                pending = 0
                continue
            if not running:
                running = True
                yield stream_status_message(descriptor, StreamStatus.RUNNING)
            if isinstance(item, pa.RecordBatch):
                if item.num_rows:
                    pending += item.num_rows
                    yield RecordBatch(descriptor, item, now_ms())
            else:
                pending += 1
                yield record_message(stream.name, item, stream.namespace)
    except FerryError as exc:
        yield stream_status_message(descriptor, StreamStatus.INCOMPLETE)
        yield error_trace(str(exc), exc.failure_type, stream=descriptor)
        raise
    except Exception as exc:
        yield stream_status_message(descriptor, StreamStatus.INCOMPLETE)
        yield error_trace(f"stream {descriptor} failed: {exc}", stream=descriptor)
        raise
    if pending or not emitted_state:
        # Every stream ends on a state, so the records after the last checkpoint are counted too.
        yield stream_state_message(descriptor, last_state or {}, pending)
    yield stream_status_message(descriptor, StreamStatus.COMPLETE)
