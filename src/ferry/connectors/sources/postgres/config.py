"""The postgres source's config, validated and turned into one typed settings object."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ferry.cdk.spec import validate_config
from ferry.connectors.sources.postgres.spec import (
    CONNECTION_SPECIFICATION,
    DEFAULT_CHECKPOINT_ROWS,
    DEFAULT_CHUNK_ROWS,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
)
from ferry.errors import ConfigError

CONNECTOR = "postgres"


@dataclass(frozen=True, slots=True)
class SslSettings:
    mode: str = "prefer"
    ca_certificate: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    client_key_password: str | None = None


@dataclass(frozen=True, slots=True)
class PgConfig:
    host: str
    port: int
    database: str
    username: str
    password: str | None = field(default=None, repr=False)
    ssl: SslSettings = SslSettings()
    schemas: tuple[str, ...] = ()
    exclude_schemas: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    exclude_tables: tuple[str, ...] = ()
    checkpoint_rows: int = DEFAULT_CHECKPOINT_ROWS
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    statement_timeout: int = DEFAULT_STATEMENT_TIMEOUT
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    numeric_as_string: bool = False

    def wants_schema(self, schema: str) -> bool:
        if schema in self.exclude_schemas:
            return False
        return not self.schemas or schema in self.schemas

    def wants_table(self, schema: str, table: str) -> bool:
        if not self.wants_schema(schema):
            return False
        if any(_matches(p, schema, table) for p in self.exclude_tables):
            return False
        return not self.tables or any(_matches(p, schema, table) for p in self.tables)


def _matches(pattern: str, schema: str, table: str) -> bool:
    # A pattern with a dot names schema.table; one without matches the table in any schema.
    if "." in pattern:
        return fnmatch.fnmatchcase(f"{schema}.{table}", pattern)
    return fnmatch.fnmatchcase(table, pattern)


def _ssl(raw: Any) -> SslSettings:
    if raw is None:
        return SslSettings()
    if isinstance(raw, str):
        return SslSettings(mode=raw)
    return SslSettings(
        mode=raw["mode"],
        ca_certificate=raw.get("ca_certificate") or None,
        client_certificate=raw.get("client_certificate") or None,
        client_key=raw.get("client_key") or None,
        client_key_password=raw.get("client_key_password") or None,
    )


def _unsupported(config: Mapping[str, Any]) -> None:
    """Airbyte options Ferry accepts only in their plain form; anything else would silently differ."""
    method = (config.get("replication_method") or {}).get("method", "Standard")
    if method != "Standard":
        raise ConfigError(
            f"replication_method '{method}' is not supported by Ferry's postgres source",
            hint='Use {"method": "Standard"} and pick a cursor column for incremental syncs.',
            field="replication_method.method",
            connector=CONNECTOR,
        )
    tunnel = (config.get("tunnel_method") or {}).get("tunnel_method", "NO_TUNNEL")
    if tunnel != "NO_TUNNEL":
        raise ConfigError(
            f"tunnel_method '{tunnel}' is not supported by Ferry's postgres source",
            hint="Open the SSH tunnel yourself and point host/port at its local end.",
            field="tunnel_method.tunnel_method",
            connector=CONNECTOR,
        )


def parse_config(config: Mapping[str, Any]) -> PgConfig:
    """Validate `config` against the spec; errors name the offending field and never its secret value."""
    validate_config(CONNECTION_SPECIFICATION, config, CONNECTOR)
    _unsupported(config)
    return PgConfig(
        host=config["host"],
        port=int(config.get("port", 5432)),
        database=config["database"],
        username=config["username"],
        password=config.get("password") or None,
        ssl=_ssl(config.get("ssl_mode")),
        schemas=tuple(config.get("schemas") or ()),
        exclude_schemas=tuple(config.get("exclude_schemas") or ()),
        tables=tuple(config.get("tables") or ()),
        exclude_tables=tuple(config.get("exclude_tables") or ()),
        checkpoint_rows=int(config.get("checkpoint_rows", DEFAULT_CHECKPOINT_ROWS)),
        chunk_rows=int(config.get("chunk_rows", DEFAULT_CHUNK_ROWS)),
        statement_timeout=int(config.get("statement_timeout_seconds", DEFAULT_STATEMENT_TIMEOUT)),
        connect_timeout=int(config.get("connect_timeout_seconds", DEFAULT_CONNECT_TIMEOUT)),
        numeric_as_string=bool(config.get("numeric_as_string", False)),
    )
