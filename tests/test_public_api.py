"""The public surface of the protocol and the connector kit: what their `__init__` exports, pinned."""

from __future__ import annotations

import types

import pytest

import ferry.cdk
import ferry.protocol

PROTOCOL = [
    "AnalyticsTrace",
    "Catalog",
    "Change",
    "ConfiguredCatalog",
    "ConfiguredStream",
    "ConnectionStatus",
    "ConnectionStatusValue",
    "ConnectorConfig",
    "ConnectorSpecification",
    "ControlMessage",
    "ControlType",
    "DestinationCatalog",
    "DestinationOperation",
    "DestinationSyncMode",
    "ErrorTrace",
    "EstimateTrace",
    "EstimateType",
    "FailureType",
    "FileReference",
    "GlobalState",
    "Level",
    "LogMessage",
    "Message",
    "MetaChange",
    "ProtocolError",
    "RateLimited",
    "Reason",
    "RecordMessage",
    "RecordMeta",
    "StateMessage",
    "StateStats",
    "StateType",
    "Stream",
    "StreamDescriptor",
    "StreamState",
    "StreamStatus",
    "StreamStatusReason",
    "StreamStatusTrace",
    "SyncMode",
    "TraceMessage",
    "TraceType",
    "Type",
    "completed_status",
    "decode",
    "dumps",
    "encode",
    "error_trace",
    "from_obj",
    "loads",
    "log_message",
    "message_from_obj",
    "message_to_obj",
    "record_message",
    "stream_state_message",
    "stream_status_message",
    "to_obj",
]

CDK = [
    "CHANGES_COLUMN",
    "Checkpoint",
    "Column",
    "Destination",
    "DestinationInput",
    "Kind",
    "ReadContext",
    "RecordBatch",
    "RecordBuffer",
    "Source",
    "SourceOutput",
    "Stream",
    "StreamItem",
    "StreamTyper",
    "Writer",
    "arrow_schema",
    "columns_of",
    "is_json_field",
    "json_type_of_arrow",
]


@pytest.mark.parametrize(("module", "expected"), [(ferry.protocol, PROTOCOL), (ferry.cdk, CDK)])
def test_all_is_pinned(module: types.ModuleType, expected: list[str]) -> None:
    # Adding or removing a public name is a decision: change this list in the same commit.
    assert sorted(module.__all__) == expected
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("module", [ferry.protocol, ferry.cdk])
def test_every_public_name_exists(module: types.ModuleType) -> None:
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module", [ferry.protocol, ferry.cdk])
def test_star_import_gives_exactly_all(module: types.ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {module.__name__} import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(module.__all__)
