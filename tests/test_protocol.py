"""Ferry's protocol models against Airbyte's reference models (airbyte-protocol-models 0.18.0, pydantic 2).

Every message Ferry emits must parse with the reference `AirbyteMessage` with no field landing in the
reference model's "unknown" bucket, and whatever the reference models write must come back out of
Ferry's decode + encode with nothing lost, unknown fields included.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import airbyte_protocol.models as ab
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry import protocol as fp
from ferry.protocol import (
    AnalyticsTrace,
    Catalog,
    Change,
    ConfiguredCatalog,
    ConfiguredStream,
    ConnectionStatus,
    ConnectionStatusValue,
    ConnectorConfig,
    ConnectorSpecification,
    ControlMessage,
    ControlType,
    DestinationCatalog,
    DestinationOperation,
    DestinationSyncMode,
    ErrorTrace,
    EstimateTrace,
    EstimateType,
    FailureType,
    FileReference,
    GlobalState,
    Level,
    LogMessage,
    Message,
    MetaChange,
    RateLimited,
    Reason,
    RecordMessage,
    RecordMeta,
    StateMessage,
    StateStats,
    StateType,
    Stream,
    StreamDescriptor,
    StreamState,
    StreamStatus,
    StreamStatusReason,
    StreamStatusTrace,
    SyncMode,
    TraceMessage,
    TraceType,
    Type,
    decode,
    dumps,
    encode,
    from_obj,
    to_obj,
)

# --- helpers -----------------------------------------------------------------------------------


def _reference(line: bytes | str) -> ab.AirbyteMessage:
    return ab.AirbyteMessage.model_validate_json(line)


def _unknown_fields(model: Any, where: str = "AirbyteMessage") -> Iterator[str]:
    """Paths of fields the reference model did not recognise (they land in `model_extra`)."""
    if isinstance(model, ab.AirbyteStateBlob):
        return  # an opaque blob: every key is "extra" by design
    if isinstance(model, pydantic.BaseModel):
        for key in model.model_extra or {}:
            yield f"{where}.{key}"
        for name in type(model).model_fields:
            yield from _unknown_fields(getattr(model, name), f"{where}.{name}")
    elif isinstance(model, list):
        for i, item in enumerate(model):
            yield from _unknown_fields(item, f"{where}[{i}]")


def _reference_json(model: pydantic.BaseModel, **kwargs: Any) -> Any:
    return json.loads(model.model_dump_json(by_alias=True, **kwargs))


def _assert_reference_accepts(line: bytes) -> ab.AirbyteMessage:
    """Parse with the reference model; every field Ferry wrote must be one the reference knows."""
    ref = _reference(line)
    assert list(_unknown_fields(ref)) == []
    assert _reference_json(ref, exclude_unset=True) == json.loads(line)
    return ref


# --- every message Ferry emits ------------------------------------------------------------------

_DESC = StreamDescriptor("users", "public")
_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"}},
}
_STREAM = Stream(
    name="users",
    json_schema=_SCHEMA,
    supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental],
    source_defined_cursor=True,
    default_cursor_field=["updated_at"],
    source_defined_primary_key=[["id"]],
    namespace="public",
    is_resumable=True,
    is_file_based=False,
)
_STATS = StateStats(record_count=1000.0, rejected_record_count=2.0)


def _trace(kind: TraceType, **payload: Any) -> Message:
    return Message(Type.TRACE, trace=TraceMessage(kind, 1_700_000_000_123.5, **payload))


FERRY_MESSAGES: dict[str, Message] = {
    "record-minimal": fp.record_message("users", {"id": 1}, emitted_at=1_700_000_000_000),
    "record-full": Message(
        Type.RECORD,
        record=RecordMessage(
            "users",
            {"id": 1, "name": "Zoë 東京 🚀", "nested": {"a": [1, 2.5, None, True]}},
            1_700_000_000_000,
            namespace="public",
            meta=RecordMeta(
                changes=[
                    MetaChange("age", Change.NULLED, Reason.DESTINATION_SERIALIZATION_ERROR),
                    MetaChange("bio", Change.TRUNCATED, Reason.SOURCE_FIELD_SIZE_LIMITATION),
                ]
            ),
            file_reference=FileReference("/staging/a.csv", "a.csv", 1234),
        ),
    ),
    "state-stream": Message(
        Type.STATE,
        state=StateMessage(
            type=StateType.STREAM,
            stream=StreamState(_DESC, {"updated_at": "2024-01-01T00:00:00Z"}),
            source_stats=_STATS,
            destination_stats=StateStats(record_count=998.0, rejected_record_count=2.0),
        ),
    ),
    "state-stream-builder": fp.stream_state_message(_DESC, {"cursor": 5}, record_count=3),
    "state-stream-reset": Message(
        Type.STATE, state=StateMessage(type=StateType.STREAM, stream=StreamState(_DESC))
    ),
    "state-global": Message(
        Type.STATE,
        state=StateMessage(
            type=StateType.GLOBAL,
            global_=GlobalState(
                stream_states=[StreamState(_DESC, {"pk": 10}), StreamState(StreamDescriptor("orders"), {})],
                shared_state={"lsn": "0/16B3748"},
            ),
            source_stats=_STATS,
            destination_stats=_STATS,
        ),
    ),
    "state-legacy": Message(
        Type.STATE, state=StateMessage(type=StateType.LEGACY, data={"users": {"cursor": 1}})
    ),
    "state-legacy-untyped": Message(Type.STATE, state=StateMessage(data={"users": {"cursor": 1}})),
    "log": fp.log_message(Level.WARN, "disk is almost full", stack_trace="Traceback ..."),
    "spec": Message(
        Type.SPEC,
        spec=ConnectorSpecification(
            connection_specification={
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "required": ["host"],
                "properties": {
                    "host": {"type": "string"},
                    "password": {"type": "string", "airbyte_secret": True},
                },
            },
            documentation_url="https://docs.example.com/sources/users",
            changelog_url="https://docs.example.com/sources/users/changelog",
            supports_incremental=True,
            supports_normalization=False,
            supports_dbt=False,
            supported_destination_sync_modes=[DestinationSyncMode.append, DestinationSyncMode.append_dedup],
            auth_specification={
                "auth_type": "oauth2.0",
                "oauth2Specification": {"rootObject": ["credentials", 0]},
            },
            advanced_auth={
                "auth_flow_type": "oauth2.0",
                "predicate_key": ["credentials", "auth_type"],
                "predicate_value": "oauth",
                "oauth_config_specification": {
                    "oauth_connector_input_specification": {
                        "consent_url": "https://auth.example.com/consent",
                        "access_token_url": "https://auth.example.com/token",
                        "state": {"min": 7, "max": 128},
                    }
                },
            },
            protocol_version="0.5.2",
        ),
    ),
    "connection-status-ok": Message(
        Type.CONNECTION_STATUS, connection_status=ConnectionStatus(ConnectionStatusValue.SUCCEEDED)
    ),
    "connection-status-failed": Message(
        Type.CONNECTION_STATUS,
        connection_status=ConnectionStatus(
            ConnectionStatusValue.FAILED, "could not connect to db.example.com"
        ),
    ),
    "catalog": Message(
        Type.CATALOG,
        catalog=Catalog(
            streams=[_STREAM, Stream("events", {"type": "object"}, [SyncMode.full_refresh])],
        ),
    ),
    "trace-error": fp.error_trace(
        "The table is gone.",
        FailureType.config_error,
        internal_message="relation does not exist",
        stack_trace="Traceback ...",
        stream=_DESC,
    ),
    "trace-error-transient": _trace(
        TraceType.ERROR, error=ErrorTrace("Timed out.", failure_type=FailureType.transient_error)
    ),
    "trace-estimate": _trace(
        TraceType.ESTIMATE,
        estimate=EstimateTrace(
            "users", EstimateType.STREAM, "public", row_estimate=10_000, byte_estimate=2**40
        ),
    ),
    "trace-estimate-sync": _trace(TraceType.ESTIMATE, estimate=EstimateTrace("sync", EstimateType.SYNC)),
    "trace-stream-status": fp.stream_status_message(_DESC, StreamStatus.STARTED),
    "trace-stream-status-reasons": _trace(
        TraceType.STREAM_STATUS,
        stream_status=StreamStatusTrace(
            _DESC,
            StreamStatus.RUNNING,
            reasons=[StreamStatusReason("RATE_LIMITED", RateLimited(quota_reset=1_700_000_060_000))],
        ),
    ),
    "trace-stream-complete": fp.completed_status(_DESC),
    "trace-stream-incomplete": fp.stream_status_message(StreamDescriptor("orders"), StreamStatus.INCOMPLETE),
    "trace-analytics": _trace(
        TraceType.ANALYTICS, analytics=AnalyticsTrace("file-cdk-csv-stream-count", "3")
    ),
    "control": Message(
        Type.CONTROL,
        control=ControlMessage(
            ControlType.CONNECTOR_CONFIG,
            1_700_000_000_000.0,
            ConnectorConfig({"refresh_token": "new", "nested": {"a": 1}}),
        ),
    ),
    "destination-catalog": Message(
        Type.DESTINATION_CATALOG,
        destination_catalog=DestinationCatalog(
            operations=[
                DestinationOperation("contacts", DestinationSyncMode.update, _SCHEMA, matching_keys=[["id"]]),
                DestinationOperation("leads", DestinationSyncMode.soft_delete, {"type": "object"}),
            ]
        ),
    ),
}


def test_every_message_type_is_covered() -> None:
    assert {m.type for m in FERRY_MESSAGES.values()} == set(Type)
    traces = {m.trace.type for m in FERRY_MESSAGES.values() if m.trace is not None}
    assert traces == set(TraceType)
    states = {m.state.state_type for m in FERRY_MESSAGES.values() if m.state is not None}
    assert states == set(StateType)


@pytest.mark.parametrize("name", list(FERRY_MESSAGES))
def test_ferry_message_parses_with_reference_model(name: str) -> None:
    message = FERRY_MESSAGES[name]
    line = encode(message)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1, "one message is one line"
    ref = _assert_reference_accepts(line)
    assert ref.type.value == message.type.value
    # And back: the reference's own output decodes to the same Ferry message.
    assert decode(ref.model_dump_json(by_alias=True, exclude_unset=True)) == message


def test_state_counts_are_written_with_a_decimal_point() -> None:
    # The protocol declares recordCount a double that "should always have a decimal point".
    line = encode(fp.stream_state_message(_DESC, {}, record_count=3))
    assert b'"sourceStats":{"recordCount":3.0}' in line


def test_record_leaves_out_null_fields_like_airbyte_cdk() -> None:
    obj = json.loads(encode(fp.record_message("users", {"a": None}, emitted_at=1)))
    assert obj == {"type": "RECORD", "record": {"stream": "users", "data": {"a": None}, "emitted_at": 1}}


def test_configured_catalog_parses_with_reference_model() -> None:
    catalog = ConfiguredCatalog(
        streams=[
            ConfiguredStream(
                _STREAM,
                SyncMode.incremental,
                DestinationSyncMode.append_dedup,
                cursor_field=["updated_at"],
                primary_key=[["id"]],
                generation_id=3,
                minimum_generation_id=3,
                sync_id=42,
                include_files=False,
                destination_object_name="users_v2",
            ),
            ConfiguredStream(Stream("events", {"type": "object"}, [SyncMode.full_refresh])),
        ]
    )
    text = dumps(to_obj(catalog))
    ref = ab.ConfiguredAirbyteCatalog.model_validate_json(text)
    assert list(_unknown_fields(ref, "catalog")) == []
    assert _reference_json(ref, exclude_unset=True) == json.loads(text)
    assert from_obj(ConfiguredCatalog, _reference_json(ref, exclude_unset=True)) == catalog


# --- the models mirror the reference models ------------------------------------------------------

MODEL_PAIRS: list[tuple[type, type[pydantic.BaseModel]]] = [
    (Message, ab.AirbyteMessage),
    (RecordMessage, ab.AirbyteRecordMessage),
    (RecordMeta, ab.AirbyteRecordMessageMeta),
    (MetaChange, ab.AirbyteRecordMessageMetaChange),
    (FileReference, ab.AirbyteRecordMessageFileReference),
    (StateMessage, ab.AirbyteStateMessage),
    (StreamState, ab.AirbyteStreamState),
    (GlobalState, ab.AirbyteGlobalState),
    (StateStats, ab.AirbyteStateStats),
    (StreamDescriptor, ab.StreamDescriptor),
    (LogMessage, ab.AirbyteLogMessage),
    (TraceMessage, ab.AirbyteTraceMessage),
    (ErrorTrace, ab.AirbyteErrorTraceMessage),
    (EstimateTrace, ab.AirbyteEstimateTraceMessage),
    (StreamStatusTrace, ab.AirbyteStreamStatusTraceMessage),
    (StreamStatusReason, ab.AirbyteStreamStatusReason),
    (RateLimited, ab.AirbyteStreamStatusRateLimitedReason),
    (AnalyticsTrace, ab.AirbyteAnalyticsTraceMessage),
    (ControlMessage, ab.AirbyteControlMessage),
    (ConnectorConfig, ab.AirbyteControlConnectorConfigMessage),
    (ConnectionStatus, ab.AirbyteConnectionStatus),
    (ConnectorSpecification, ab.ConnectorSpecification),
    (Stream, ab.AirbyteStream),
    (Catalog, ab.AirbyteCatalog),
    (ConfiguredStream, ab.ConfiguredAirbyteStream),
    (ConfiguredCatalog, ab.ConfiguredAirbyteCatalog),
    (DestinationOperation, ab.DestinationOperation),
    (DestinationCatalog, ab.DestinationCatalog),
]


def _ferry_keys(cls: type) -> tuple[set[str], set[str]]:
    keys, required = set(), set()
    for f in dataclasses.fields(cls):
        if f.name == "extra":
            continue
        key = f.metadata.get("alias", f.name)
        keys.add(key)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.add(key)
    return keys, required


@pytest.mark.parametrize(("ferry_cls", "ref_cls"), MODEL_PAIRS, ids=[p[0].__name__ for p in MODEL_PAIRS])
def test_model_has_exactly_the_reference_fields(ferry_cls: type, ref_cls: type[pydantic.BaseModel]) -> None:
    keys, required = _ferry_keys(ferry_cls)
    ref_keys = {f.alias or name for name, f in ref_cls.model_fields.items()}
    ref_required = {f.alias or name for name, f in ref_cls.model_fields.items() if f.is_required()}
    assert keys == ref_keys
    # Ferry may be more forgiving on input (catalog sync modes have defaults), never stricter.
    assert required <= ref_required


ENUM_PAIRS: list[tuple[type[enum.Enum], type[enum.Enum]]] = [
    (Type, ab.Type),
    (SyncMode, ab.SyncMode),
    (DestinationSyncMode, ab.DestinationSyncMode),
    (StateType, ab.AirbyteStateType),
    (Level, ab.Level),
    (TraceType, ab.TraceType),
    (FailureType, ab.FailureType),
    (EstimateType, ab.EstimateType),
    (StreamStatus, ab.AirbyteStreamStatus),
    (ConnectionStatusValue, ab.Status),
    (ControlType, ab.OrchestratorType),
    (Change, ab.Change),
    (Reason, ab.Reason),
]


@pytest.mark.parametrize(("ferry_enum", "ref_enum"), ENUM_PAIRS, ids=[p[0].__name__ for p in ENUM_PAIRS])
def test_enum_has_the_reference_values(ferry_enum: type[enum.Enum], ref_enum: type[enum.Enum]) -> None:
    ours = {m.value for m in ferry_enum}
    theirs = {m.value for m in ref_enum}
    assert theirs <= ours
    # The one value Ferry knows beyond the protocol: the platform's overwrite_dedup (rewritten before a
    # connector sees a catalog, airbyte-compat.md 1.12).
    assert ours - theirs == ({"overwrite_dedup"} if ferry_enum is DestinationSyncMode else set())


# --- generated messages: reference -> Ferry -> JSON loses nothing -------------------------------

_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_JSON_OBJECT = st.dictionaries(st.text(max_size=8), _JSON, max_size=4)
_NAMES = st.text(max_size=10)
_COUNTS = st.integers(min_value=0, max_value=10**12).map(float)
_MS = st.integers(min_value=0, max_value=2**50)
_URLS = st.sampled_from(["https://docs.example.com/a", "https://example.org/x/y?z=1"])


def _values(e: type[enum.Enum]) -> st.SearchStrategy[str]:
    return st.sampled_from([m.value for m in e])


class _Wire:
    """Strategies for wire-format (JSON) protocol objects; `extras` adds unknown keys at every level."""

    def __init__(self, extras: bool) -> None:
        self.extras = extras
        unknown = st.dictionaries(st.text(max_size=6).map(lambda s: "x_" + s), _JSON, max_size=2)
        self._unknown = unknown if extras else st.just({})

    def obj(
        self, required: dict[str, Any], optional: dict[str, Any] | None = None
    ) -> st.SearchStrategy[dict[str, Any]]:
        known = st.fixed_dictionaries(required, optional=optional or {})
        return st.tuples(known, self._unknown).map(lambda pair: {**pair[0], **pair[1]})

    def descriptor(self) -> st.SearchStrategy[dict[str, Any]]:
        return self.obj({"name": _NAMES}, {"namespace": _NAMES})

    def record(self) -> st.SearchStrategy[dict[str, Any]]:
        change = self.obj(
            {"field": _NAMES, "change": _values(ab.Change), "reason": _values(ab.Reason)},
        )
        meta = self.obj({}, {"changes": st.lists(change, max_size=3)})
        file_ref = self.obj(
            {},
            {"staging_file_url": _NAMES, "source_file_relative_path": _NAMES, "file_size_bytes": _MS},
        )
        return self.obj(
            {"stream": _NAMES, "data": _JSON_OBJECT, "emitted_at": _MS},
            {"namespace": _NAMES, "meta": meta, "file_reference": file_ref},
        )

    def state(self) -> st.SearchStrategy[dict[str, Any]]:
        stats = self.obj({}, {"recordCount": _COUNTS, "rejectedRecordCount": _COUNTS})
        counted = {"sourceStats": stats, "destinationStats": stats}
        stream = self.obj({"stream_descriptor": self.descriptor()}, {"stream_state": _JSON_OBJECT})
        global_ = self.obj({"stream_states": st.lists(stream, max_size=3)}, {"shared_state": _JSON_OBJECT})
        return (
            self.obj({"type": st.just("STREAM"), "stream": stream}, counted)
            | self.obj({"type": st.just("GLOBAL"), "global": global_}, counted)
            | self.obj({"data": _JSON_OBJECT}, {"type": st.just("LEGACY"), **counted})
        )

    def trace(self) -> st.SearchStrategy[dict[str, Any]]:
        at = st.floats(min_value=0, max_value=2e12, allow_nan=False)
        error = self.obj(
            {"message": st.text(max_size=20)},
            {
                "internal_message": st.text(max_size=20),
                "stack_trace": st.text(max_size=20),
                "failure_type": _values(ab.FailureType),
                "stream_descriptor": self.descriptor(),
            },
        )
        estimate = self.obj(
            {"name": _NAMES, "type": _values(ab.EstimateType)},
            {"namespace": _NAMES, "row_estimate": _MS, "byte_estimate": _MS},
        )
        reason = self.obj(
            {"type": st.just("RATE_LIMITED")}, {"rate_limited": self.obj({}, {"quota_reset": _MS})}
        )
        status = self.obj(
            {"stream_descriptor": self.descriptor(), "status": _values(ab.AirbyteStreamStatus)},
            {"reasons": st.lists(reason, max_size=2)},
        )
        analytics = self.obj({"type": _NAMES}, {"value": st.text(max_size=10)})
        kinds = {"ERROR": error, "ESTIMATE": estimate, "STREAM_STATUS": status, "ANALYTICS": analytics}
        return st.one_of(
            self.obj({"type": st.just(kind), "emitted_at": at, kind.lower(): payload})
            for kind, payload in kinds.items()
        )

    def stream(self) -> st.SearchStrategy[dict[str, Any]]:
        paths = st.lists(_NAMES, min_size=1, max_size=2)
        return self.obj(
            {
                "name": _NAMES,
                "json_schema": _JSON_OBJECT,
                "supported_sync_modes": st.lists(_values(ab.SyncMode), min_size=1, max_size=2),
            },
            {
                "source_defined_cursor": st.booleans(),
                "default_cursor_field": paths,
                "source_defined_primary_key": st.lists(paths, max_size=2),
                "namespace": _NAMES,
                "is_resumable": st.booleans(),
                "is_file_based": st.booleans(),
            },
        )

    def configured_catalog(self) -> st.SearchStrategy[dict[str, Any]]:
        paths = st.lists(_NAMES, min_size=1, max_size=2)
        configured = self.obj(
            {
                "stream": self.stream(),
                "sync_mode": _values(ab.SyncMode),
                "destination_sync_mode": _values(ab.DestinationSyncMode),
            },
            {
                "cursor_field": paths,
                "primary_key": st.lists(paths, max_size=2),
                "generation_id": _MS,
                "minimum_generation_id": _MS,
                "sync_id": _MS,
                "include_files": st.booleans(),
                "destination_object_name": _NAMES,
            },
        )
        return self.obj({"streams": st.lists(configured, max_size=2)})

    def spec(self) -> st.SearchStrategy[dict[str, Any]]:
        oauth2 = self.obj(
            {},
            {
                "rootObject": st.lists(_NAMES | st.integers(0, 3), max_size=2),
                "oauthFlowInitParameters": st.lists(st.lists(_NAMES, max_size=2), max_size=2),
            },
        )
        connector_input = self.obj(
            {"consent_url": _NAMES, "access_token_url": _NAMES},
            {"scope": _NAMES, "extract_output": st.lists(_NAMES, max_size=2)},
        )
        oauth_config = self.obj(
            {},
            {
                "oauth_user_input_from_connector_config_specification": _JSON_OBJECT,
                "oauth_connector_input_specification": connector_input,
                "complete_oauth_output_specification": _JSON_OBJECT,
            },
        )
        advanced = self.obj(
            {},
            {
                "auth_flow_type": _values(ab.AuthFlowType),
                "predicate_key": st.lists(_NAMES, max_size=2),
                "predicate_value": _NAMES,
                "oauth_config_specification": oauth_config,
            },
        )
        return self.obj(
            {"connectionSpecification": _JSON_OBJECT},
            {
                "documentationUrl": _URLS,
                "changelogUrl": _URLS,
                "supportsIncremental": st.booleans(),
                "supportsNormalization": st.booleans(),
                "supportsDBT": st.booleans(),
                "supported_destination_sync_modes": st.lists(_values(ab.DestinationSyncMode), max_size=3),
                "authSpecification": self.obj(
                    {}, {"auth_type": st.just("oauth2.0"), "oauth2Specification": oauth2}
                ),
                "advanced_auth": advanced,
                "protocol_version": st.sampled_from(["0.2.0", "0.5.2"]),
            },
        )

    def destination_catalog(self) -> st.SearchStrategy[dict[str, Any]]:
        operation = self.obj(
            {
                "object_name": _NAMES,
                "sync_mode": _values(ab.DestinationSyncMode),
                "json_schema": _JSON_OBJECT,
            },
            {"matching_keys": st.lists(st.lists(_NAMES, min_size=1, max_size=2), max_size=2)},
        )
        return self.obj({"operations": st.lists(operation, max_size=2)})

    def message(self) -> st.SearchStrategy[dict[str, Any]]:
        at = st.floats(min_value=0, max_value=2e12, allow_nan=False)
        payloads: dict[tuple[str, str], st.SearchStrategy[dict[str, Any]]] = {
            ("RECORD", "record"): self.record(),
            ("STATE", "state"): self.state(),
            ("LOG", "log"): self.obj(
                {"level": _values(ab.Level), "message": st.text(max_size=20)},
                {"stack_trace": st.text(max_size=9)},
            ),
            ("SPEC", "spec"): self.spec(),
            ("CONNECTION_STATUS", "connectionStatus"): self.obj(
                {"status": _values(ab.Status)}, {"message": st.text(max_size=20)}
            ),
            ("CATALOG", "catalog"): self.obj({"streams": st.lists(self.stream(), max_size=2)}),
            ("TRACE", "trace"): self.trace(),
            ("CONTROL", "control"): self.obj(
                {
                    "type": st.just("CONNECTOR_CONFIG"),
                    "emitted_at": at,
                    "connectorConfig": self.obj({"config": _JSON_OBJECT}),
                }
            ),
            ("DESTINATION_CATALOG", "destination_catalog"): self.destination_catalog(),
        }
        return st.one_of(
            self.obj({"type": st.just(kind), key: payload}) for (kind, key), payload in payloads.items()
        )


PLAIN = _Wire(extras=False)
WITH_UNKNOWN = _Wire(extras=True)


def _through_ferry(text: bytes | str) -> Any:
    return json.loads(encode(decode(text)))


@settings(max_examples=300)
@given(PLAIN.message())
def test_reference_json_survives_ferry(obj: dict[str, Any]) -> None:
    ref = ab.AirbyteMessage.model_validate(obj)
    for options in ({"exclude_unset": True}, {"exclude_none": True}):
        text = ref.model_dump_json(by_alias=True, **options)
        assert _through_ferry(text) == json.loads(text)
    # With nothing excluded the reference writes every optional field as null: same message after all.
    full = ref.model_dump_json(by_alias=True)
    assert _reference(encode(decode(full))) == ref


@settings(max_examples=300)
@given(WITH_UNKNOWN.message())
def test_reference_json_with_unknown_fields_survives_ferry(obj: dict[str, Any]) -> None:
    ref = ab.AirbyteMessage.model_validate(obj)
    text = ref.model_dump_json(by_alias=True, exclude_unset=True)
    assert _through_ferry(text) == json.loads(text)


@settings(max_examples=300)
@given(PLAIN.message())
def test_ferry_output_parses_with_reference_model(obj: dict[str, Any]) -> None:
    line = encode(decode(dumps(obj)))
    ref = _assert_reference_accepts(line)
    assert ref == ab.AirbyteMessage.model_validate(obj)


@settings(max_examples=300)
@given(WITH_UNKNOWN.message())
def test_unknown_fields_at_every_level_survive_a_round_trip(obj: dict[str, Any]) -> None:
    assert _through_ferry(dumps(obj)) == obj


@settings(max_examples=100)
@given(PLAIN.configured_catalog())
def test_configured_catalog_round_trips(obj: dict[str, Any]) -> None:
    ref = ab.ConfiguredAirbyteCatalog.model_validate(obj)
    text = ref.model_dump_json(by_alias=True, exclude_unset=True)
    assert to_obj(from_obj(ConfiguredCatalog, json.loads(text))) == json.loads(text)


def test_unknown_fields_at_every_level_of_a_full_message() -> None:
    """One hand-written message with an unknown field in every object, including the ones whose
    reference model would drop it (stream status reasons)."""
    x = {"x_future": {"kept": [1, "two", None]}}
    descriptor = {"name": "users", "namespace": "public", **x}
    lines = [
        {
            "type": "RECORD",
            "record": {
                "stream": "users",
                "data": {"id": 1},
                "emitted_at": 5,
                "meta": {
                    "changes": [{"field": "a", "change": "NULLED", "reason": "SOURCE_RETRIEVAL_ERROR", **x}],
                    **x,
                },
                "file_reference": {"file_size_bytes": 3, **x},
                **x,
            },
            **x,
        },
        {
            "type": "STATE",
            "state": {
                "type": "GLOBAL",
                "global": {
                    "stream_states": [{"stream_descriptor": descriptor, "stream_state": {}, **x}],
                    **x,
                },
                "sourceStats": {"recordCount": 1.0, **x},
                "id": 17,  # the platform adds this to every state it forwards (airbyte-compat.md 1.5.4)
                **x,
            },
        },
        {
            "type": "TRACE",
            "trace": {
                "type": "STREAM_STATUS",
                "emitted_at": 1.5,
                "stream_status": {
                    "stream_descriptor": descriptor,
                    "status": "RUNNING",
                    "reasons": [{"type": "RATE_LIMITED", "rate_limited": {"quota_reset": 9, **x}, **x}],
                    **x,
                },
                **x,
            },
        },
        {
            "type": "CONTROL",
            "control": {
                "type": "CONNECTOR_CONFIG",
                "emitted_at": 1.0,
                "connectorConfig": {"config": {}, **x},
                **x,
            },
        },
        {
            "type": "CATALOG",
            "catalog": {
                "streams": [{"name": "a", "json_schema": {}, "supported_sync_modes": ["full_refresh"], **x}],
                **x,
            },
        },
    ]
    for obj in lines:
        assert _through_ferry(dumps(obj)) == obj


# --- what the built-in sources really write -----------------------------------------------------


def _run(args: list[str], cwd: Path) -> list[bytes]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]
    return [line for line in done.stdout.splitlines() if line.strip()]


def test_sample_data_source_output_parses_with_reference_models(venv_bin: Path, tmp_path: Path) -> None:
    connector = [str(venv_bin / "ferry-connector"), "source-sample-data"]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"count": 30, "records_per_checkpoint": 10}))
    lines = _run([*connector, "spec"], tmp_path)
    lines += _run([*connector, "check", "--config", str(config)], tmp_path)
    discovered = _run([*connector, "discover", "--config", str(config)], tmp_path)
    catalog = decode(discovered[-1]).catalog
    assert catalog is not None
    assert catalog.streams
    configured = ConfiguredCatalog([ConfiguredStream(s) for s in catalog.streams])
    (tmp_path / "catalog.json").write_bytes(dumps(to_obj(configured)))
    read = _run(
        [*connector, "read", "--config", str(config), "--catalog", str(tmp_path / "catalog.json")], tmp_path
    )
    for line in [*lines, *discovered, *read]:
        _assert_reference_accepts(line)
    types = [_reference(line).type for line in read]
    assert ab.Type.RECORD in types
    assert ab.Type.STATE in types
