"""The built-in `file` source: CSV, TSV, JSON lines and Parquet from local paths, globs and HTTP(S) URLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ferry.cdk.source import Source, Stream
from ferry.connectors.sources.file.config import parse_config
from ferry.connectors.sources.file.spec import CONNECTION_SPECIFICATION
from ferry.connectors.sources.file.stream import FileStream
from ferry.protocol import ConnectorSpecification


class FileSource(Source):
    """One stream per configured path; all files a path matches form that stream."""

    name = "file"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=CONNECTION_SPECIFICATION, supports_incremental=True
        )

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [FileStream(cfg) for cfg in parse_config(config)]

    def check(self, config: Mapping[str, Any]) -> None:
        """Every stream's files exist, open and can be sampled for a schema."""
        for stream in self.streams(config):
            stream.json_schema()
