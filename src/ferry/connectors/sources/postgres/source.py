"""The built-in `postgres` source: tables and views of one database, read as Arrow through binary COPY."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ferry.cdk.source import Source, Stream
from ferry.connectors.sources.postgres.catalog import discover_tables
from ferry.connectors.sources.postgres.config import PgConfig, parse_config
from ferry.connectors.sources.postgres.connection import PgSession
from ferry.connectors.sources.postgres.spec import CONNECTION_SPECIFICATION
from ferry.connectors.sources.postgres.stream import PostgresStream
from ferry.protocol import ConnectorSpecification


class PostgresSource(Source):
    """One stream per readable table or view in the configured schemas."""

    name = "postgres"
    documentation_url = "https://docs.airbyte.com/integrations/sources/postgres"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=CONNECTION_SPECIFICATION, supports_incremental=True
        )

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        cfg = parse_config(config)
        with PgSession(cfg) as session:
            tables = discover_tables(session, cfg)
        return [PostgresStream(table, cfg, lambda: PgSession(cfg)) for table in tables]

    def check(self, config: Mapping[str, Any]) -> None:
        """Connect and run SELECT 1: ConfigError for a wrong setting, TransientError for a lost server."""
        cfg: PgConfig = parse_config(config)
        with PgSession(cfg) as session:
            session.rows("SELECT 1", doing="running SELECT 1")
