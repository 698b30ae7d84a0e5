"""Driver and server failures as Ferry errors: by what the user should do, never with a secret in them.

libpq reports connection failures only as text (there is no SQLSTATE before a session exists), so
connecting is classified by libpq's fixed phrases; everything after connecting goes by SQLSTATE.
"""

from __future__ import annotations

import re

from ferry.cdk.spec import MASK
from ferry.connectors.sources.postgres.config import CONNECTOR, PgConfig
from ferry.errors import ConfigError, FerryError, InternalError, TransientError

_SQLSTATE = re.compile(r"SQLSTATE: ([0-9A-Z]{5})")
_PREFIX = re.compile(r"^(?:[A-Z_]+: )?(?:\[libpq\] )?")
_QUERY_TAIL = re.compile(r"\s*Query was:.*$", re.DOTALL)

# First match wins: the SSL phrases come before the general ones their messages also contain
# ("root certificate file ... does not exist", "no pg_hba.conf entry ... no encryption").
_CONFIG_PHRASES = {
    "no encryption": "pg_hba.conf refuses this unencrypted connection: if the server wants SSL, use "
    "ssl_mode 'require' or stronger; otherwise ask the database administrator to allow this host and user.",
    "root certificate file": "Put the PEM of the CA that signed the server certificate in "
    "ssl_mode.ca_certificate, or use ssl_mode 'require'.",
    "pg_hba.conf rejects connection": "Ask the database administrator to allow this host and user in "
    "pg_hba.conf.",
    "password authentication failed": "Check the username and password.",
    "no pg_hba.conf entry": "Ask the database administrator to allow this host and user in pg_hba.conf.",
    "does not exist": "Check the database name and the username.",
    "server does not support SSL": "Use ssl_mode 'prefer' or 'disable', or enable SSL on the server.",
    "does not match host name": "Connect with a host name that the server certificate names, or use "
    "ssl_mode 'verify-ca', which checks the CA but not the name.",
    "certificate": "Check the SSL certificates in ssl_mode.",
    "Name or service not known": "Check the host name.",
    "nodename nor servname": "Check the host name.",
    "invalid connection option": "Remove the unsupported connection option.",
    "password is required": "Set the password.",
    "permission denied for database": "GRANT CONNECT ON DATABASE to the user.",
}

_TRANSIENT_CLASSES = ("08", "53", "57P", "40", "55P03", "58")


def sqlstate_of(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and state:
        return state
    found = _SQLSTATE.search(str(exc))
    return found.group(1) if found else None


def clean_text(exc: BaseException, cfg: PgConfig) -> str:
    """The driver's message on one line, without the query echo and with the password masked."""
    text = _QUERY_TAIL.sub("", str(exc)).strip()
    text = _PREFIX.sub("", text)
    text = re.sub(r"\s+", " ", _SQLSTATE.sub("", text)).strip(" .")
    if cfg.password:
        text = text.replace(cfg.password, MASK)
    return text or type(exc).__name__


def connect_error(exc: BaseException, cfg: PgConfig) -> FerryError:
    """A failure to open a session: wrong settings are ConfigError, an unreachable server TransientError."""
    text = clean_text(exc, cfg)
    where = f"{cfg.host}:{cfg.port}/{cfg.database} as {cfg.username}"
    message = f"could not connect to PostgreSQL at {where}: {text}"
    for phrase, hint in _CONFIG_PHRASES.items():
        if phrase in text:
            return ConfigError(message, hint=hint, connector=CONNECTOR)
    return TransientError(
        message, hint="Check that the server is running and reachable; Ferry will retry.", connector=CONNECTOR
    )


def query_error(exc: BaseException, cfg: PgConfig, doing: str, stream: str | None = None) -> FerryError:
    """A failure of a statement, by SQLSTATE class."""
    state = sqlstate_of(exc)
    text = clean_text(exc, cfg)
    message = f"PostgreSQL failed while {doing}: {text}" + (f" (SQLSTATE {state})" if state else "")
    kw = {"connector": CONNECTOR, "stream": stream}
    if state == "42501":
        return ConfigError(message, hint=f"GRANT SELECT on the table to '{cfg.username}'.", **kw)
    if state in ("42P01", "42703", "3F000"):
        return ConfigError(message, hint="The table changed since discovery: refresh the catalog.", **kw)
    if state is not None and state.startswith("22"):
        # Our statements only put values from saved states into SQL: one that no longer fits the column.
        return ConfigError(
            message,
            hint="The saved state does not fit the column (did its type change?): reset the stream.",
            **kw,
        )
    if state == "57014":
        return TransientError(
            message, hint="Raise statement_timeout_seconds or lower chunk_rows in the source config.", **kw
        )
    if state is not None and state.startswith(_TRANSIENT_CLASSES):
        return TransientError(message, hint="The server was busy or went away; Ferry will retry.", **kw)
    if state is None and _looks_disconnected(text):
        return TransientError(message, hint="The connection was lost; Ferry will retry.", **kw)
    return InternalError(message, **kw)


def _looks_disconnected(text: str) -> bool:
    low = text.lower()
    return any(
        p in low for p in ("server closed the connection", "connection", "ssl syscall", "eof detected")
    )
