"""The postgres source's connection specification: Airbyte's source-postgres keys plus Ferry's own."""

from __future__ import annotations

from typing import Any

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
DEFAULT_CHECKPOINT_ROWS = 10_000
DEFAULT_CHUNK_ROWS = 200_000
DEFAULT_STATEMENT_TIMEOUT = 900
DEFAULT_CONNECT_TIMEOUT = 30

_NAMES: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}

_SSL_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["mode"],
    "additionalProperties": False,
    "properties": {
        "mode": {"type": "string", "enum": list(SSL_MODES)},
        "ca_certificate": {
            "type": "string",
            "multiline": True,
            "description": "PEM of the CA that signed the server certificate (verify-ca, verify-full).",
        },
        "client_certificate": {"type": "string", "multiline": True, "description": "PEM client certificate."},
        "client_key": {
            "type": "string",
            "multiline": True,
            "airbyte_secret": True,
            "description": "PEM private key of the client certificate.",
        },
        "client_key_password": {
            "type": "string",
            "airbyte_secret": True,
            "description": "Password of an encrypted client key.",
        },
    },
}

CONNECTION_SPECIFICATION: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Postgres Source Spec",
    "type": "object",
    "required": ["host", "database", "username"],
    "additionalProperties": False,
    "properties": {
        "host": {"type": "string", "minLength": 1, "title": "Host", "order": 0},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432, "order": 1},
        "database": {"type": "string", "minLength": 1, "title": "Database Name", "order": 2},
        "schemas": {
            **_NAMES,
            "title": "Schemas",
            "description": "Schemas to read (exact names). Empty or absent: every schema the user can read.",
            "order": 3,
        },
        "username": {"type": "string", "minLength": 1, "title": "Username", "order": 4},
        "password": {"type": "string", "airbyte_secret": True, "title": "Password", "order": 5},
        "ssl_mode": {
            "title": "SSL mode",
            "description": "libpq's sslmode, as a string or as Airbyte's object {mode, ca_certificate, ...}.",
            "default": "prefer",
            "oneOf": [{"type": "string", "enum": list(SSL_MODES)}, _SSL_OBJECT],
            "order": 6,
        },
        "exclude_schemas": {**_NAMES, "description": "Schemas never read, even when `schemas` names them."},
        "tables": {
            **_NAMES,
            "description": "Only tables and views matching one of these patterns: `table` or `schema.table`, "
            "with shell wildcards (`orders_*`, `sales.*`).",
        },
        "exclude_tables": {
            **_NAMES,
            "description": "Tables and views matching one of these patterns are skipped.",
        },
        "checkpoint_rows": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_CHECKPOINT_ROWS,
            "description": "A state is emitted after this many rows of a stream, and at its end.",
        },
        "chunk_rows": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_CHUNK_ROWS,
            "description": "Rows per query when a full refresh pages through a table by primary key or ctid; "
            "each query is one statement, so `statement_timeout_seconds` bounds it.",
        },
        "statement_timeout_seconds": {
            "type": "integer",
            "minimum": 0,
            "default": DEFAULT_STATEMENT_TIMEOUT,
            "description": "statement_timeout for discovery and for each paged query; 0 for none. Reads that "
            "cannot be paged (views, incremental by cursor) run as one statement without a timeout.",
        },
        "connect_timeout_seconds": {"type": "integer", "minimum": 1, "default": DEFAULT_CONNECT_TIMEOUT},
        "numeric_as_string": {
            "type": "boolean",
            "default": False,
            "description": "Emit numeric/decimal columns as exact decimal strings instead of JSON numbers "
            "(which keep about 15 significant digits).",
        },
        "replication_method": {
            "type": "object",
            "description": "Accepted for Airbyte configs; only the Standard (cursor) method is supported.",
            "properties": {"method": {"type": "string"}},
        },
        "tunnel_method": {
            "type": "object",
            "description": "Accepted for Airbyte configs; only NO_TUNNEL is supported.",
            "properties": {"tunnel_method": {"type": "string"}},
        },
        "jdbc_url_params": {"type": "string", "description": "Accepted for Airbyte configs and ignored."},
    },
}
