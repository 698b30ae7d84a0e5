"""The connector kit: base classes, the Airbyte CLI entrypoint, spec validation, secret masking, typing."""

from ferry.cdk.batching import RecordBatch, RecordBuffer, StreamTyper
from ferry.cdk.destination import Destination, DestinationInput, Writer
from ferry.cdk.schema import (
    CHANGES_COLUMN,
    Column,
    Kind,
    arrow_schema,
    columns_of,
    is_json_field,
    json_type_of_arrow,
)
from ferry.cdk.source import Checkpoint, ReadContext, Source, SourceOutput, Stream, StreamItem

__all__ = [
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
