"""Short constructors for the messages connectors and the engine emit most."""

from __future__ import annotations

import time
from typing import Any

from ferry.protocol.models import (
    ErrorTrace,
    FailureType,
    Level,
    LogMessage,
    Message,
    RecordMessage,
    StateMessage,
    StateStats,
    StateType,
    StreamDescriptor,
    StreamState,
    StreamStatus,
    StreamStatusTrace,
    TraceMessage,
    TraceType,
    Type,
)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def record_message(
    stream: str, data: dict[str, Any], namespace: str | None = None, emitted_at: int | None = None
) -> Message:
    return Message(Type.RECORD, record=RecordMessage(stream, data, emitted_at or now_ms(), namespace))


def stream_state_message(
    descriptor: StreamDescriptor, state: dict[str, Any] | None, record_count: float | None = None
) -> Message:
    stats = StateStats(record_count=float(record_count)) if record_count is not None else None
    payload = StateMessage(type=StateType.STREAM, stream=StreamState(descriptor, state), source_stats=stats)
    return Message(Type.STATE, state=payload)


def log_message(level: Level, text: str, stack_trace: str | None = None) -> Message:
    return Message(Type.LOG, log=LogMessage(level, text, stack_trace))


def error_trace(
    text: str,
    failure_type: FailureType = FailureType.system_error,
    internal_message: str | None = None,
    stack_trace: str | None = None,
    stream: StreamDescriptor | None = None,
) -> Message:
    error = ErrorTrace(text, internal_message, stack_trace, failure_type, stream)
    return Message(Type.TRACE, trace=TraceMessage(TraceType.ERROR, float(now_ms()), error=error))


def stream_status_message(descriptor: StreamDescriptor, status: StreamStatus) -> Message:
    status_trace = StreamStatusTrace(descriptor, status)
    return Message(
        Type.TRACE, trace=TraceMessage(TraceType.STREAM_STATUS, float(now_ms()), stream_status=status_trace)
    )


def completed_status(descriptor: StreamDescriptor) -> Message:
    return stream_status_message(descriptor, StreamStatus.COMPLETE)
