"""Airbyte protocol v0 messages, catalogs and state as plain slotted dataclasses.

Field names follow the wire spelling except where Python forbids it (`global`) or the wire uses
camelCase; those carry an `alias`. Every model keeps unknown keys in `extra` so they round-trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


def _alias(name: str, default: Any = None) -> Any:
    return field(default=default, metadata={"alias": name})


def _extra() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


class Type(StrEnum):
    RECORD = "RECORD"
    STATE = "STATE"
    LOG = "LOG"
    SPEC = "SPEC"
    CONNECTION_STATUS = "CONNECTION_STATUS"
    CATALOG = "CATALOG"
    TRACE = "TRACE"
    CONTROL = "CONTROL"
    DESTINATION_CATALOG = "DESTINATION_CATALOG"


class SyncMode(StrEnum):
    full_refresh = "full_refresh"
    incremental = "incremental"


class DestinationSyncMode(StrEnum):
    append = "append"
    overwrite = "overwrite"
    append_dedup = "append_dedup"
    # Not in the protocol enum; Airbyte's platform has it and rewrites it before a connector sees it.
    overwrite_dedup = "overwrite_dedup"
    update = "update"
    soft_delete = "soft_delete"


class StateType(StrEnum):
    GLOBAL = "GLOBAL"
    STREAM = "STREAM"
    LEGACY = "LEGACY"


class Level(StrEnum):
    FATAL = "FATAL"
    ERROR = "ERROR"
    WARN = "WARN"
    INFO = "INFO"
    DEBUG = "DEBUG"
    TRACE = "TRACE"


class TraceType(StrEnum):
    ERROR = "ERROR"
    ESTIMATE = "ESTIMATE"
    STREAM_STATUS = "STREAM_STATUS"
    ANALYTICS = "ANALYTICS"


class FailureType(StrEnum):
    system_error = "system_error"
    config_error = "config_error"
    transient_error = "transient_error"


class EstimateType(StrEnum):
    STREAM = "STREAM"
    SYNC = "SYNC"


class StreamStatus(StrEnum):
    STARTED = "STARTED"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    INCOMPLETE = "INCOMPLETE"


class ConnectionStatusValue(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ControlType(StrEnum):
    CONNECTOR_CONFIG = "CONNECTOR_CONFIG"


class Change(StrEnum):
    NULLED = "NULLED"
    TRUNCATED = "TRUNCATED"


class Reason(StrEnum):
    SOURCE_RECORD_SIZE_LIMITATION = "SOURCE_RECORD_SIZE_LIMITATION"
    DESTINATION_RECORD_SIZE_LIMITATION = "DESTINATION_RECORD_SIZE_LIMITATION"
    PLATFORM_RECORD_SIZE_LIMITATION = "PLATFORM_RECORD_SIZE_LIMITATION"
    SOURCE_FIELD_SIZE_LIMITATION = "SOURCE_FIELD_SIZE_LIMITATION"
    DESTINATION_FIELD_SIZE_LIMITATION = "DESTINATION_FIELD_SIZE_LIMITATION"
    PLATFORM_FIELD_SIZE_LIMITATION = "PLATFORM_FIELD_SIZE_LIMITATION"
    SOURCE_SERIALIZATION_ERROR = "SOURCE_SERIALIZATION_ERROR"
    DESTINATION_SERIALIZATION_ERROR = "DESTINATION_SERIALIZATION_ERROR"
    PLATFORM_SERIALIZATION_ERROR = "PLATFORM_SERIALIZATION_ERROR"
    SOURCE_RETRIEVAL_ERROR = "SOURCE_RETRIEVAL_ERROR"
    DESTINATION_TYPECAST_ERROR = "DESTINATION_TYPECAST_ERROR"


# --- records ---------------------------------------------------------------------------------


@dataclass(slots=True)
class MetaChange:
    field: str
    change: Change
    reason: Reason
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class RecordMeta:
    changes: list[MetaChange] | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class FileReference:
    staging_file_url: str | None = None
    source_file_relative_path: str | None = None
    file_size_bytes: int | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class RecordMessage:
    stream: str
    data: dict[str, Any]
    emitted_at: int
    namespace: str | None = None
    meta: RecordMeta | None = None
    file_reference: FileReference | None = None
    extra: dict[str, Any] = _extra()


# --- state -----------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class StreamDescriptor:
    name: str
    namespace: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name


@dataclass(slots=True)
class StreamState:
    stream_descriptor: StreamDescriptor
    stream_state: dict[str, Any] | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class GlobalState:
    stream_states: list[StreamState]
    shared_state: dict[str, Any] | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class StateStats:
    record_count: float | None = _alias("recordCount")
    rejected_record_count: float | None = _alias("rejectedRecordCount")
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class StateMessage:
    type: StateType | None = None
    stream: StreamState | None = None
    global_: GlobalState | None = _alias("global")
    data: dict[str, Any] | None = None
    source_stats: StateStats | None = _alias("sourceStats")
    destination_stats: StateStats | None = _alias("destinationStats")
    extra: dict[str, Any] = _extra()

    @property
    def state_type(self) -> StateType:
        """A missing type means LEGACY (protocol rule)."""
        return self.type or StateType.LEGACY


# --- log, trace, control, status ---------------------------------------------------------------


@dataclass(slots=True)
class LogMessage:
    level: Level
    message: str
    stack_trace: str | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class ErrorTrace:
    message: str
    internal_message: str | None = None
    stack_trace: str | None = None
    failure_type: FailureType | None = None
    stream_descriptor: StreamDescriptor | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class EstimateTrace:
    name: str
    type: EstimateType
    namespace: str | None = None
    row_estimate: int | None = None
    byte_estimate: int | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class RateLimited:
    quota_reset: int | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class StreamStatusReason:
    type: str
    rate_limited: RateLimited | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class StreamStatusTrace:
    stream_descriptor: StreamDescriptor
    status: StreamStatus
    reasons: list[StreamStatusReason] | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class AnalyticsTrace:
    type: str
    value: str | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class TraceMessage:
    type: TraceType
    emitted_at: float
    error: ErrorTrace | None = None
    estimate: EstimateTrace | None = None
    stream_status: StreamStatusTrace | None = None
    analytics: AnalyticsTrace | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class ConnectorConfig:
    config: dict[str, Any]
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class ControlMessage:
    type: ControlType
    emitted_at: float
    connector_config: ConnectorConfig | None = _alias("connectorConfig")
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class ConnectionStatus:
    status: ConnectionStatusValue
    message: str | None = None
    extra: dict[str, Any] = _extra()


# --- spec ------------------------------------------------------------------------------------


@dataclass(slots=True)
class ConnectorSpecification:
    connection_specification: dict[str, Any] = field(metadata={"alias": "connectionSpecification"})
    documentation_url: str | None = _alias("documentationUrl")
    changelog_url: str | None = _alias("changelogUrl")
    supports_incremental: bool | None = _alias("supportsIncremental")
    supports_normalization: bool | None = _alias("supportsNormalization")
    supports_dbt: bool | None = _alias("supportsDBT")
    supported_destination_sync_modes: list[DestinationSyncMode] | None = None
    auth_specification: dict[str, Any] | None = _alias("authSpecification")
    advanced_auth: dict[str, Any] | None = None
    protocol_version: str | None = None
    extra: dict[str, Any] = _extra()


# --- catalogs --------------------------------------------------------------------------------


@dataclass(slots=True)
class Stream:
    name: str
    json_schema: dict[str, Any]
    supported_sync_modes: list[SyncMode]
    source_defined_cursor: bool | None = None
    default_cursor_field: list[str] | None = None
    source_defined_primary_key: list[list[str]] | None = None
    namespace: str | None = None
    is_resumable: bool | None = None
    is_file_based: bool | None = None
    extra: dict[str, Any] = _extra()

    @property
    def descriptor(self) -> StreamDescriptor:
        return StreamDescriptor(self.name, self.namespace)


@dataclass(slots=True)
class Catalog:
    streams: list[Stream]
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class ConfiguredStream:
    stream: Stream
    sync_mode: SyncMode = SyncMode.full_refresh
    destination_sync_mode: DestinationSyncMode = DestinationSyncMode.append
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    generation_id: int | None = None
    minimum_generation_id: int | None = None
    sync_id: int | None = None
    include_files: bool | None = None
    destination_object_name: str | None = None
    extra: dict[str, Any] = _extra()

    @property
    def descriptor(self) -> StreamDescriptor:
        return self.stream.descriptor

    @property
    def cursor(self) -> list[str] | None:
        """The cursor in force: the source's own if it defines one, else the configured, else the default."""
        if self.stream.source_defined_cursor and self.stream.default_cursor_field:
            return self.stream.default_cursor_field
        return self.cursor_field or self.stream.default_cursor_field or None

    @property
    def key(self) -> list[list[str]] | None:
        return self.primary_key or self.stream.source_defined_primary_key or None


@dataclass(slots=True)
class ConfiguredCatalog:
    streams: list[ConfiguredStream]
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class DestinationOperation:
    object_name: str
    sync_mode: DestinationSyncMode
    json_schema: dict[str, Any]
    matching_keys: list[list[str]] | None = None
    extra: dict[str, Any] = _extra()


@dataclass(slots=True)
class DestinationCatalog:
    operations: list[DestinationOperation]
    extra: dict[str, Any] = _extra()


# --- envelope --------------------------------------------------------------------------------


@dataclass(slots=True)
class Message:
    type: Type
    record: RecordMessage | None = None
    state: StateMessage | None = None
    log: LogMessage | None = None
    spec: ConnectorSpecification | None = None
    connection_status: ConnectionStatus | None = _alias("connectionStatus")
    catalog: Catalog | None = None
    trace: TraceMessage | None = None
    control: ControlMessage | None = None
    destination_catalog: DestinationCatalog | None = None
    extra: dict[str, Any] = _extra()
