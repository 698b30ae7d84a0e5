"""Where each source stream lands in the destination: Airbyte's namespace definition and stream prefix.

The engine keeps everything it counts and saves in the source's terms (ledger, progress, saved
state) and renames streams only at the destination's edge: the configured catalog the destination
gets, the record batches, states and stream statuses sent to it, and, the other way, the states it
echoes. So a state stays keyed by the source stream, and changing the prefix or the namespace later
keeps every cursor (the data then lands in the newly named tables from that position on).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from ferry.cdk import DestinationInput, RecordBatch
from ferry.errors import ConfigError
from ferry.protocol import (
    ConfiguredStream,
    Message,
    StateMessage,
    StreamDescriptor,
    StreamState,
    Type,
)

SOURCE_NAMESPACE = "${SOURCE_NAMESPACE}"


class NamespaceDefinition(StrEnum):
    source = "source"
    """The source's namespace (none stays none: the destination's default schema)."""
    destination = "destination"
    """No namespace: every stream goes to the destination's configured default schema."""
    custom_format = "custom_format"
    """The format with ${SOURCE_NAMESPACE} replaced; an empty result means the destination's default."""


@dataclass(frozen=True, slots=True)
class StreamMapping:
    """How source streams are named in the destination. The default keeps the source's names."""

    namespace_definition: NamespaceDefinition = NamespaceDefinition.source
    namespace_format: str | None = None
    prefix: str = ""

    @property
    def is_identity(self) -> bool:
        return self.namespace_definition is NamespaceDefinition.source and not self.prefix

    def namespace(self, source_namespace: str | None) -> str | None:
        if self.namespace_definition is NamespaceDefinition.source:
            return source_namespace
        if self.namespace_definition is NamespaceDefinition.destination:
            return None
        formatted = (self.namespace_format or "").replace(SOURCE_NAMESPACE, source_namespace or "")
        return formatted or None

    def destination_of(self, stream: StreamDescriptor) -> StreamDescriptor:
        return StreamDescriptor(self.prefix + stream.name, self.namespace(stream.namespace))

    def bind(self, streams: Iterable[StreamDescriptor]) -> StreamRenames:
        """The renames for these source streams; ConfigError when two of them would land in one stream."""
        forward: dict[StreamDescriptor, StreamDescriptor] = {}
        back: dict[StreamDescriptor, StreamDescriptor] = {}
        for stream in streams:
            target = self.destination_of(stream)
            other = back.get(target)
            if other is not None and other != stream:
                raise ConfigError(
                    f"streams '{other}' and '{stream}' would both be written to '{target}' in the destination",
                    hint="Use namespace definition 'source' or a custom format with ${SOURCE_NAMESPACE}, "
                    "or select only one of them.",
                    stream=str(stream),
                )
            forward[stream], back[target] = target, stream
        return StreamRenames(forward, back, self.is_identity)


@dataclass(frozen=True, slots=True)
class StreamRenames:
    """A StreamMapping bound to a catalog's streams: renames in both directions."""

    to_destination: dict[StreamDescriptor, StreamDescriptor]
    to_source: dict[StreamDescriptor, StreamDescriptor]
    identity: bool = False

    def configured(self, stream: ConfiguredStream) -> ConfiguredStream:
        """The configured stream as the destination sees it (same schema, its destination name)."""
        target = self.to_destination.get(stream.descriptor)
        if self.identity or target is None:
            return stream
        renamed = dataclasses.replace(stream.stream, name=target.name, namespace=target.namespace)
        return dataclasses.replace(stream, stream=renamed)

    def outgoing(self, items: Iterable[DestinationInput]) -> Iterator[DestinationInput]:
        """What the engine sends, renamed for the destination: record batches, states, stream statuses."""
        if self.identity:
            yield from items
            return
        for item in items:
            yield self._renamed_batch(item) if isinstance(item, RecordBatch) else self._renamed_message(item)

    def _renamed_batch(self, batch: RecordBatch) -> RecordBatch:
        target = self.to_destination.get(batch.stream)
        return batch if target is None else RecordBatch(target, batch.data, batch.emitted_at)

    def _renamed_message(self, message: Message) -> Message:
        if message.type is Type.STATE and message.state is not None:
            return dataclasses.replace(message, state=_renamed(message.state, self.to_destination))
        trace = message.trace
        if message.type is Type.TRACE and trace is not None and trace.stream_status is not None:
            target = self.to_destination.get(trace.stream_status.stream_descriptor)
            if target is not None:
                status = dataclasses.replace(trace.stream_status, stream_descriptor=target)
                return dataclasses.replace(message, trace=dataclasses.replace(trace, stream_status=status))
        return message

    def incoming(self, state: StateMessage) -> StateMessage:
        """A state the destination echoed, keyed by the source's streams again."""
        return state if self.identity else _renamed(state, self.to_source)


def _renamed(state: StateMessage, names: dict[StreamDescriptor, StreamDescriptor]) -> StateMessage:
    """A copy of `state` with its stream descriptors renamed (its stats and id are kept)."""
    if state.stream is not None:
        return dataclasses.replace(state, stream=_stream_state(state.stream, names), extra=dict(state.extra))
    if state.global_ is not None:
        streams = [_stream_state(s, names) for s in state.global_.stream_states]
        shared = dataclasses.replace(state.global_, stream_states=streams)
        return dataclasses.replace(state, global_=shared, extra=dict(state.extra))
    return state  # LEGACY: one blob for the whole source, no stream names in it


def _stream_state(state: StreamState, names: dict[StreamDescriptor, StreamDescriptor]) -> StreamState:
    target = names.get(state.stream_descriptor)
    return state if target is None else dataclasses.replace(state, stream_descriptor=target)


def no_renames() -> StreamRenames:
    """Streams keep the source's names (what a sync does before it has bound its mapping)."""
    return StreamRenames({}, {}, identity=True)
