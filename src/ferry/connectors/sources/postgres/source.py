"""The built-in `postgres` source: tables and views of one database, read as Arrow through binary COPY."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ferry.cdk.source import Source, Stream
from ferry.connectors.sources.postgres.catalog import discover_tables
from ferry.connectors.sources.postgres.config import PgConfig, parse_config
from ferry.connectors.sources.postgres.connection import PgSession, SessionPool
from ferry.connectors.sources.postgres.spec import CONNECTION_SPECIFICATION
from ferry.connectors.sources.postgres.stream import PostgresStream
from ferry.protocol import Catalog, ConnectorSpecification


class PostgresSource(Source):
    """One stream per readable table or view in the configured schemas."""

    name = "postgres"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=CONNECTION_SPECIFICATION, supports_incremental=True
        )

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        streams, _ = self._discover(config)
        return streams

    def discover(self, config: Mapping[str, Any]) -> Catalog:
        streams, sessions = self._discover(config)
        sessions.close()
        return Catalog(streams=[s.as_airbyte_stream() for s in streams])

    def _discover(self, config: Mapping[str, Any]) -> tuple[list[Stream], SessionPool]:
        cfg = parse_config(config)
        sessions = SessionPool(cfg)
        try:
            tables = discover_tables(sessions.get(), cfg)
        except BaseException:
            sessions.close()
            raise
        return [PostgresStream(table, cfg, sessions) for table in tables], sessions

    def check(self, config: Mapping[str, Any]) -> None:
        """Connect and run SELECT 1: ConfigError for a wrong setting, TransientError for a lost server."""
        cfg: PgConfig = parse_config(config)
        with PgSession(cfg) as session:
            session.rows("SELECT 1", doing="running SELECT 1")
