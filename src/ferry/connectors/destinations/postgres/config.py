"""The destination's settings, keyed as in Airbyte's destination-postgres, and the spec that declares them.

`ssl_mode` is accepted as Airbyte writes it (`{"mode": "verify-full", "ca_certificate": "..."}`) or as
a plain libpq mode string. Certificates given inline are written to private temporary files for libpq,
which only reads them from paths.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ferry.errors import ConfigError

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
DEFAULT_SCHEMA = "public"
CONNECT_TIMEOUT_SECONDS = 10

_CERT = {"type": "string", "multiline": True, "airbyte_secret": True}

SPEC: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Postgres destination",
    "type": "object",
    "required": ["host", "port", "database", "username"],
    "properties": {
        "host": {"type": "string", "title": "Host", "order": 0},
        "port": {
            "type": "integer",
            "title": "Port",
            "default": 5432,
            "minimum": 0,
            "maximum": 65536,
            "order": 1,
        },
        "database": {"type": "string", "title": "Database name", "order": 2},
        "schema": {
            "type": "string",
            "title": "Default schema",
            "description": "Schema for streams without a namespace (a namespace names its own schema).",
            "default": DEFAULT_SCHEMA,
            "order": 3,
        },
        "username": {"type": "string", "title": "User", "order": 4},
        "password": {"type": "string", "title": "Password", "airbyte_secret": True, "order": 5},
        "ssl_mode": {
            "title": "SSL mode",
            "description": "libpq SSL mode: a string, or an object with 'mode' and inline PEM certificates.",
            "order": 6,
            "oneOf": [
                {"type": "string", "enum": list(SSL_MODES)},
                {
                    "type": "object",
                    "required": ["mode"],
                    "properties": {
                        "mode": {"type": "string", "enum": list(SSL_MODES)},
                        "ca_certificate": _CERT,
                        "client_certificate": _CERT,
                        "client_key": _CERT,
                        "client_key_password": {"type": "string", "airbyte_secret": True},
                    },
                },
            ],
        },
    },
}


@dataclass(slots=True)
class Settings:
    host: str
    port: int
    database: str
    schema: str
    username: str
    password: str | None
    ssl: dict[str, Any] = field(default_factory=dict)
    _files: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """Where the destination points, for messages (never the password)."""
        return f"database '{self.database}' on {self.host}:{self.port} as user '{self.username}'"

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect (never a DSN string, which could end up in a message)."""
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
            "user": self.username,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": "ferry",
            "options": "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3",
        }
        if self.password:
            kwargs["password"] = self.password
        kwargs.update(self._ssl_kwargs())
        return kwargs

    def _ssl_kwargs(self) -> dict[str, Any]:
        if not self.ssl:
            return {}
        out: dict[str, Any] = {"sslmode": self.ssl["mode"]}
        for key, option in (
            ("ca_certificate", "sslrootcert"),
            ("client_certificate", "sslcert"),
            ("client_key", "sslkey"),
        ):
            if self.ssl.get(key):
                out[option] = self._private_file(str(self.ssl[key]))
        if self.ssl.get("client_key_password"):
            out["sslpassword"] = self.ssl["client_key_password"]
        return out

    def _private_file(self, content: str) -> str:
        fd, path = tempfile.mkstemp(prefix="ferry-pg-", suffix=".pem")  # mode 0600: libpq refuses wider keys
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        self._files.append(path)
        return path

    def cleanup(self) -> None:
        for path in self._files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._files.clear()


def settings_from(config: Mapping[str, Any]) -> Settings:
    return Settings(
        host=str(config.get("host") or "localhost"),
        port=int(config.get("port") or 5432),
        database=str(config.get("database") or ""),
        schema=str(config.get("schema") or DEFAULT_SCHEMA),
        username=str(config.get("username") or ""),
        password=None if config.get("password") is None else str(config["password"]),
        ssl=_ssl(config.get("ssl_mode"), bool(config.get("ssl"))),
    )


def _ssl(value: Any, legacy_ssl: bool) -> dict[str, Any]:
    if value is None:
        # Airbyte's older boolean `ssl`: true meant "require".
        return {"mode": "require"} if legacy_ssl else {}
    ssl = {"mode": value} if isinstance(value, str) else dict(value)
    if ssl.get("mode") not in SSL_MODES:
        raise ConfigError(
            f"unknown ssl_mode '{ssl.get('mode')}'",
            hint=f"Use one of: {', '.join(SSL_MODES)}.",
            field="ssl_mode",
        )
    return ssl
