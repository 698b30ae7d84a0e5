"""The mysql source's config: its JSON schema (keys follow Airbyte's source-mysql) and its settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ferry.cdk.spec import validate_config
from ferry.errors import ConfigError

CONNECTOR = "mysql"
SYSTEM_DATABASES = frozenset({"information_schema", "mysql", "performance_schema", "sys"})

_CERTIFICATES: dict[str, Any] = {
    "ca_certificate": {
        "type": "string",
        "title": "CA certificate",
        "description": "PEM text of the certificate authority that signed the server's certificate.",
        "airbyte_secret": True,
        "multiline": True,
        "order": 1,
    },
    "client_certificate": {
        "type": "string",
        "title": "Client certificate",
        "description": "Not supported yet: the source fails with a clear error when it is set.",
        "airbyte_secret": True,
        "multiline": True,
        "order": 2,
    },
    "client_key": {
        "type": "string",
        "title": "Client key",
        "description": "Not supported yet (see client_certificate).",
        "airbyte_secret": True,
        "multiline": True,
        "order": 3,
    },
    "client_key_password": {
        "type": "string",
        "title": "Client key password",
        "description": "Not supported yet (see client_certificate).",
        "airbyte_secret": True,
        "order": 4,
    },
}


def _ssl_option(mode: str, title: str, description: str, verifies: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"mode": {"type": "string", "const": mode, "order": 0}}
    if verifies:
        properties.update(_CERTIFICATES)
    return {
        "title": title,
        "description": description,
        "type": "object",
        "required": ["mode", "ca_certificate"] if verifies else ["mode"],
        "properties": properties,
    }


CONNECTION_SPECIFICATION: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "MySQL / MariaDB Source Spec",
    "type": "object",
    "required": ["host", "database", "username"],
    "properties": {
        "host": {"type": "string", "title": "Host", "description": "Hostname of the database.", "order": 0},
        "port": {
            "type": "integer",
            "title": "Port",
            "description": "Port of the database.",
            "default": 3306,
            "minimum": 0,
            "maximum": 65536,
            "order": 1,
        },
        "database": {
            "type": "string",
            "title": "Database",
            "description": "The database to connect to; its tables are read unless `databases` names others.",
            "order": 2,
        },
        "username": {"type": "string", "title": "Username", "order": 3},
        "password": {"type": "string", "title": "Password", "airbyte_secret": True, "order": 4},
        "databases": {
            "type": "array",
            "title": "Databases",
            "description": "Databases to read, as names or glob patterns (`shop_*`). Default: `database`.",
            "items": {"type": "string"},
            "order": 5,
        },
        "exclude_databases": {
            "type": "array",
            "title": "Excluded databases",
            "description": "Glob patterns of databases never read. System databases are always excluded.",
            "items": {"type": "string"},
            "order": 6,
        },
        "tables": {
            "type": "array",
            "title": "Tables",
            "description": "Tables and views to read: globs of `table` or `database.table`. Default: all.",
            "items": {"type": "string"},
            "order": 7,
        },
        "exclude_tables": {
            "type": "array",
            "title": "Excluded tables",
            "description": "Glob patterns (`table` or `database.table`) of tables and views never read.",
            "items": {"type": "string"},
            "order": 8,
        },
        "ssl_mode": {
            "type": "object",
            "title": "SSL mode",
            "description": "How the connection is encrypted. Default: preferred.",
            "order": 9,
            "oneOf": [
                _ssl_option(
                    "preferred", "preferred", "Encrypt when the server supports it; else plain.", False
                ),
                _ssl_option(
                    "required", "required", "Always encrypt; the certificate is not verified.", False
                ),
                _ssl_option(
                    "verify_ca", "verify_ca", "Always encrypt and verify the certificate's CA.", True
                ),
                _ssl_option(
                    "verify_identity",
                    "verify_identity",
                    "Always encrypt, verify the CA and that the certificate names the host.",
                    True,
                ),
            ],
        },
        "records_per_checkpoint": {
            "type": "integer",
            "title": "Records per checkpoint",
            "description": "Rows read per query (keyset chunk) and between two checkpoints of a stream.",
            "default": 100_000,
            "minimum": 1,
            "order": 10,
        },
        "statement_timeout_seconds": {
            "type": "integer",
            "title": "Statement timeout (seconds)",
            "description": "Longest time one chunk query or catalog query may run; 0 means no limit.",
            "default": 600,
            "minimum": 0,
            "order": 11,
        },
        "connect_timeout_seconds": {
            "type": "integer",
            "title": "Connect timeout (seconds)",
            "default": 10,
            "minimum": 1,
            "order": 12,
        },
        "unsigned_bigint_as": {
            "type": "string",
            "title": "BIGINT UNSIGNED as",
            "description": (
                "integer: values above 2^63-1 become NULL with a reason in _airbyte_meta (never wrapped); "
                "string: exact decimal text; number: a float (approximate beyond 2^53)."
            ),
            "enum": ["integer", "string", "number"],
            "default": "integer",
            "order": 13,
        },
        "replication_method": {
            "type": "object",
            "title": "Replication method",
            "description": "Only STANDARD (cursor-based) is supported; accepted for Airbyte configs.",
            "properties": {"method": {"type": "string", "enum": ["STANDARD"]}},
            "order": 14,
        },
    },
}


@dataclass(frozen=True, slots=True)
class SslSettings:
    mode: str = "preferred"
    ca_certificate: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    database: str
    username: str
    password: str
    databases: tuple[str, ...]
    exclude_databases: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    exclude_tables: tuple[str, ...] = ()
    ssl: SslSettings = SslSettings()
    records_per_checkpoint: int = 100_000
    statement_timeout_seconds: int = 600
    connect_timeout_seconds: int = 10
    unsigned_bigint_as: str = "integer"


def _strings(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(v) for v in config.get(key) or ())


def _ssl(config: Mapping[str, Any]) -> SslSettings:
    raw = config.get("ssl_mode") or {}
    mode = str(raw.get("mode", "preferred"))
    if raw.get("client_certificate") or raw.get("client_key"):
        raise ConfigError(
            "ssl_mode: client certificates are not supported by the mysql source yet",
            hint="Remove client_certificate and client_key, or use a user that does not require X509.",
            connector=CONNECTOR,
            field="ssl_mode.client_certificate",
        )
    return SslSettings(mode=mode, ca_certificate=raw.get("ca_certificate"))


def settings_from(config: Mapping[str, Any]) -> Settings:
    """Settings from a config; raises ConfigError naming the field when the config breaks the spec."""
    validate_config(CONNECTION_SPECIFICATION, config, CONNECTOR)
    database = str(config["database"])
    return Settings(
        host=str(config["host"]),
        port=int(config.get("port", 3306)),
        database=database,
        username=str(config["username"]),
        password=str(config.get("password") or ""),
        databases=_strings(config, "databases") or (database,),
        exclude_databases=_strings(config, "exclude_databases"),
        tables=_strings(config, "tables"),
        exclude_tables=_strings(config, "exclude_tables"),
        ssl=_ssl(config),
        records_per_checkpoint=int(config.get("records_per_checkpoint", 100_000)),
        statement_timeout_seconds=int(config.get("statement_timeout_seconds", 600)),
        connect_timeout_seconds=int(config.get("connect_timeout_seconds", 10)),
        unsigned_bigint_as=str(config.get("unsigned_bigint_as", "integer")),
    )
