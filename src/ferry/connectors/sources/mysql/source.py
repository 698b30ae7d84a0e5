"""The `mysql` source (MySQL and MariaDB): check, discover and read tables and views into Arrow."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ferry.cdk import Source, Stream
from ferry.connectors.sources.mysql.connection import connect, probe
from ferry.connectors.sources.mysql.discovery import discover
from ferry.connectors.sources.mysql.queries import Select, in_session
from ferry.connectors.sources.mysql.reader import run
from ferry.connectors.sources.mysql.spec import CONNECTION_SPECIFICATION, settings_from
from ferry.connectors.sources.mysql.stream import MySQLStream, ReadEnv
from ferry.protocol import ConnectorSpecification


class MySQLSource(Source):
    """Tables and views of one or more databases, one stream each (namespace: the database)."""

    name = "mysql"
    documentation_url = None

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=copy.deepcopy(CONNECTION_SPECIFICATION),
            supports_incremental=True,
        )

    def check(self, config: Mapping[str, Any]) -> None:
        """Connect for the catalog and for bulk reads: both must work."""
        env = self._env(config)
        settings = env.settings
        select = Select(settings.database, "dual", ())
        probe_sql = in_session("SELECT 1 AS c0", env.server, settings.statement_timeout_seconds)
        url = env.url(settings.database)
        for _ in run(url, probe_sql, select, settings, batch_rows=1, doing="checking bulk reads"):
            pass

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        settings = settings_from(config)
        connection = connect(settings)
        try:
            server = probe(connection, settings)
            tables = discover(connection, settings, server)
        finally:
            connection.close()
        env = ReadEnv(settings, server)
        return [MySQLStream(table, env) for table in tables]

    def _env(self, config: Mapping[str, Any]) -> ReadEnv:
        settings = settings_from(config)
        connection = connect(settings)
        try:
            server = probe(connection, settings)
        finally:
            connection.close()
        return ReadEnv(settings, server)
