"""Counts records per checkpoint three ways (source, engine, destination) and checks they agree.

Every state the engine forwards gets an `id` and the engine's count of records in its scope (the
stream for STREAM state, everything for GLOBAL and LEGACY). When the destination echoes it, the ids
must come back in order and the counts must match; otherwise the sync fails, it never reports
success with rows missing.

Bytes are counted beside records, for the stats users see (not checked): a batch's size in Arrow
(`RecordBatch.nbytes` of the typed batch the destination gets), the same measure for built-in and
external connectors, and cheap (it reads buffer sizes, not values). A stream's committed bytes are
the emitted bytes of the records a destination commit covered, so they equal the emitted bytes once
every record is committed.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from ferry.errors import CountMismatchError, InternalError
from ferry.protocol import StateMessage, StateType, StreamDescriptor

_ALL = StreamDescriptor("*all*")
ID_KEY = "id"


@dataclass(slots=True)
class _Pending:
    id: int
    engine_count: int
    per_stream: Counter[StreamDescriptor]
    bytes_per_stream: Counter[StreamDescriptor]


@dataclass(slots=True)
class StreamCounts:
    emitted: int = 0
    committed: int = 0
    states: int = 0
    bytes_emitted: int = 0
    bytes_committed: int = 0


@dataclass(slots=True)
class Ledger:
    """Counts since the last source state (checked against sourceStats) and since the last state
    forwarded to the destination (checked against destinationStats); the engine may forward only
    some of the source's states, so the two differ."""

    _next_id: int = 1
    _since_source: Counter[StreamDescriptor] = field(default_factory=Counter)
    _since_forward: Counter[StreamDescriptor] = field(default_factory=Counter)
    _bytes_since_forward: Counter[StreamDescriptor] = field(default_factory=Counter)
    _pending: dict[StreamDescriptor, deque[_Pending]] = field(default_factory=dict)
    streams: dict[StreamDescriptor, StreamCounts] = field(default_factory=dict)

    def _counts(self, stream: StreamDescriptor) -> StreamCounts:
        counts = self.streams.get(stream)
        if counts is None:
            counts = self.streams[stream] = StreamCounts()
        return counts

    def records(self, stream: StreamDescriptor, n: int, nbytes: int = 0) -> None:
        self._since_source[stream] += n
        self._since_forward[stream] += n
        self._bytes_since_forward[stream] += nbytes
        counts = self._counts(stream)
        counts.emitted += n
        counts.bytes_emitted += nbytes

    def observe(self, state: StateMessage) -> None:
        """A source state arrived: the records Ferry received since the previous one must match its count."""
        scope = _scope(state)
        received = sum(_take(self._since_source, scope).values())
        source = state.source_stats.record_count if state.source_stats else None
        if source is not None and int(source) != received:
            raise CountMismatchError(
                f"record count mismatch at a checkpoint of {scope}: the source reported {int(source)} "
                f"records, Ferry received {received}",
                hint="The source lost or duplicated records; the state was not saved. Report this as a bug.",
                stream=str(scope),
            )

    def forward(self, state: StateMessage) -> None:
        """A state goes to the destination: tag it and close the count of records it covers."""
        scope = _scope(state)
        per_stream = _take(self._since_forward, scope)
        engine_count = sum(per_stream.values())
        pending = _Pending(self._next_id, engine_count, per_stream, _take(self._bytes_since_forward, scope))
        state.extra[ID_KEY] = pending.id
        self._next_id += 1
        self._pending.setdefault(scope, deque()).append(pending)

    def acknowledge(self, state: StateMessage) -> None:
        """The destination echoed `state`: it must be the oldest pending one of its scope, with the right count."""
        scope = _scope(state)
        queue = self._pending.get(scope)
        if not queue:
            raise InternalError(f"the destination echoed a state for {scope} that Ferry never sent")
        pending = queue.popleft()
        echoed_id = state.extra.get(ID_KEY)
        if echoed_id is not None and echoed_id != pending.id:
            raise InternalError(
                f"the destination echoed states of {scope} out of order (got #{echoed_id}, expected #{pending.id})",
                stream=str(scope),
            )
        committed = state.destination_stats.record_count if state.destination_stats else None
        if committed is not None:
            rejected = state.destination_stats.rejected_record_count if state.destination_stats else None
            if int(committed + (rejected or 0)) != pending.engine_count:
                raise CountMismatchError(
                    f"record count mismatch at a checkpoint of {scope}: Ferry sent {pending.engine_count} "
                    f"records, the destination committed {int(committed)}",
                    hint="The state was not saved; the next sync re-reads from the previous checkpoint.",
                    stream=str(scope),
                )
        for stream, n in pending.per_stream.items():
            counts = self._counts(stream)
            counts.committed += n
            counts.bytes_committed += pending.bytes_per_stream[stream]
            counts.states += 1

    def unacknowledged(self) -> int:
        return sum(len(q) for q in self._pending.values())


def _take(counts: Counter[StreamDescriptor], scope: StreamDescriptor) -> Counter[StreamDescriptor]:
    """The counts in `scope` (one stream, or all for _ALL), removed from `counts`."""
    if scope is _ALL:
        taken = Counter(counts)
        counts.clear()
        return taken
    return Counter({scope: counts.pop(scope, 0)})


def _scope(state: StateMessage) -> StreamDescriptor:
    if state.state_type is StateType.STREAM and state.stream is not None:
        return state.stream.stream_descriptor
    return _ALL
