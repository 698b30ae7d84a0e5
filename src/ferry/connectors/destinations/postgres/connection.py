"""Connecting to PostgreSQL, and PostgreSQL failures as Ferry errors that say what to do (never a secret).

Classification uses the SQLSTATE when the server sent one, and otherwise libpq's failure to reach
the server at all, which is worth a retry: refused connections and timeouts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ferry.connectors.destinations.postgres.config import Settings
from ferry.errors import ConfigError, FerryError, InternalError, TransientError

if TYPE_CHECKING:
    import psycopg

# SQLSTATE classes and codes that the user must fix: authorization, unknown database, permissions,
# disk quota and such.
_CONFIG_STATES = {"28", "3D", "3F", "42501", "53100", "25006", "23", "2BP01"}
# Worth retrying: connection problems, serialization/deadlock, lock timeouts, server shutdown, too
# many connections.
_TRANSIENT_STATES = {"08", "40", "55P03", "57P01", "57P02", "57P03", "53300", "53200"}

_UNREACHABLE_HINTS = ("connection refused", "timeout expired", "timed out", "could not connect", "no route")


def connect(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    """A new connection; the certificate files it wrote stay until `settings.cleanup()`, or go at once
    when connecting fails (no caller holds a connection to clean up after then)."""
    import psycopg

    try:
        con = psycopg.connect(**settings.connect_kwargs(), autocommit=False)
    except psycopg.Error as exc:
        settings.cleanup()
        raise _connect_error(settings, exc) from None
    return con


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _state_in(state: str | None, states: set[str]) -> bool:
    return state is not None and (state in states or state[:2] in states)


def _connect_error(settings: Settings, exc: Exception) -> FerryError:
    import psycopg

    state = exc.sqlstate if isinstance(exc, psycopg.Error) else None
    text = _first_line(exc)
    message = f"cannot connect to PostgreSQL {settings.where}: {text}"
    if _state_in(state, _TRANSIENT_STATES) or (
        state is None and any(h in text.lower() for h in _UNREACHABLE_HINTS)
    ):
        return TransientError(
            message, hint="Check that the server is running and reachable; Ferry will retry."
        )
    return ConfigError(
        message,
        hint="Check host, port, database, username, password and ssl_mode, and that the server allows "
        "this user to connect (pg_hba.conf).",
    )


def failure(exc: Exception, doing: str, stream: str | None = None) -> FerryError:
    """A psycopg error raised while `doing` something, as the Ferry error its cause calls for."""
    import psycopg

    state = exc.sqlstate if isinstance(exc, psycopg.Error) else None
    message = f"PostgreSQL failed while {doing}: {_first_line(exc)}"
    if isinstance(exc, psycopg.OperationalError) and state is None:
        return TransientError(
            message, hint="The connection to the server was lost; Ferry will retry.", stream=stream
        )
    if _state_in(state, _TRANSIENT_STATES):
        return TransientError(message, hint="Ferry will retry.", stream=stream, sqlstate=state)
    if _state_in(state, _CONFIG_STATES):
        return ConfigError(
            message,
            hint="Grant the user the rights to create and alter tables in the schema, or use another.",
            stream=stream,
            sqlstate=state,
        )
    return InternalError(message, stream=stream, sqlstate=state)
