"""Connections to the server: PyMySQL for the catalog and checks, a connectorx URL for bulk reads.

Driver errors become Ferry errors typed by what the user should do. No message carries the password
or a URL with it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ferry.cdk.spec import MASK
from ferry.connectors.sources.mysql.spec import CONNECTOR, Settings
from ferry.errors import ConfigError, FerryError, InternalError, TransientError

# Server error codes (ER_*) and client codes (CR_*) by what the user should do about them.
_CONFIG_CODES = {
    1044: "access to the database is denied",
    1045: "access denied (wrong username or password)",
    1049: "the database does not exist",
    1142: "the user lacks a privilege the query needs",
    1143: "the user lacks a privilege the query needs",
    1146: "a table no longer exists",
    1054: "a column no longer exists",
    1227: "the user lacks a privilege the query needs",
    1251: "the server wants an authentication method the client does not support",
    1698: "access denied",
    2005: "the host name is unknown",
    2026: "the TLS connection could not be set up",
}
_TRANSIENT_CODES = {
    1040: "the server has too many connections",
    1053: "the server is shutting down",
    1205: "a lock wait timed out",
    1213: "a deadlock",
    1317: "the query was interrupted",
    1927: "the connection was killed",
    1969: "the statement timeout was reached",
    3024: "the statement timeout was reached",
    2002: "the server cannot be reached",
    2003: "the server cannot be reached",
    2006: "the server has gone away",
    2013: "the connection was lost during a query",
    2055: "the connection was lost",
}
_TIMEOUT_CODES = {1969, 3024}


@dataclass(frozen=True, slots=True)
class Server:
    """What a connection learned about the server."""

    flavor: str
    """"mariadb" or "mysql": they spell statement timeouts differently."""
    version: str
    tls: bool


def redact(text: str, settings: Settings) -> str:
    """`text` without the password, in plain or URL-encoded form, and without any connection URL."""
    text = re.sub(r"mysql://\S*", "mysql://…", text)
    for secret in {settings.password, quote(settings.password, safe="")}:
        if secret:
            text = text.replace(secret, MASK)
    return text


def _where(settings: Settings) -> str:
    return f"MySQL at {settings.host}:{settings.port} (user '{settings.username}')"


def error_for(code: int | None, detail: str, settings: Settings, doing: str) -> FerryError:
    """The Ferry error for a driver error `code` met while `doing` something."""
    where = _where(settings)
    detail = redact(detail, settings)
    if code in _CONFIG_CODES:
        return ConfigError(
            f"{doing} on {where} failed: {_CONFIG_CODES[code]}: {detail}",
            hint="Check host, port, database, username, password, privileges and ssl_mode.",
            connector=CONNECTOR,
        )
    if code in _TRANSIENT_CODES:
        hint = (
            "Raise statement_timeout_seconds, or add an index on the chunk key or cursor."
            if code in _TIMEOUT_CODES
            else "Check that the server is up and reachable; the sync can be retried."
        )
        return TransientError(
            f"{doing} on {where} failed: {_TRANSIENT_CODES[code]}: {detail}", hint=hint, connector=CONNECTOR
        )
    return InternalError(f"{doing} on {where} failed: {detail}", connector=CONNECTOR)


def _driver_error(exc: Exception, settings: Settings, doing: str) -> FerryError:
    tls = _tls_failure(exc, settings, doing)
    if tls is not None:
        return tls
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    code = args[0] if args and isinstance(args[0], int) else None
    detail = str(args[1]) if len(args) > 1 else str(exc)
    if code is None and isinstance(exc, TimeoutError | ConnectionError | OSError):
        code = 2003
    return error_for(code, detail, settings, doing)


# --- TLS -----------------------------------------------------------------------------------------

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
_NAME_MISMATCH = {62, 64}
# The peer closed the connection mid-handshake: a network failure, not the configuration's.
_CLOSED = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def _tls_failure(exc: BaseException, settings: Settings, doing: str) -> FerryError | None:
    """A ConfigError when the TLS handshake failed because of the configuration (the certificate does
    not verify, no protocol in common), else None. Retrying cannot help such a failure."""
    cause = getattr(exc, "original_exception", exc)  # PyMySQL wraps socket errors as error 2003
    if not isinstance(cause, ssl.SSLError) or isinstance(cause, _CLOSED):
        return None
    if not isinstance(cause, ssl.SSLCertVerificationError):
        return error_for(2026, str(cause.reason or cause), settings, doing)
    if cause.verify_code in _NAME_MISMATCH:
        hint = (
            f"Set host to a name the server's certificate holds instead of '{settings.host}', "
            "or use ssl_mode 'verify_ca', which does not check the name."
        )
    else:
        hint = (
            "Set ssl_mode.ca_certificate to the CA that signed the server's certificate, "
            "or use ssl_mode 'required' to encrypt without verifying it."
        )
    return ConfigError(
        f"{doing} on {_where(settings)} failed: the server's TLS certificate could not be verified: "
        f"{cause.verify_message or cause.reason}",
        hint=hint,
        connector=CONNECTOR,
        field="ssl_mode",
    )


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for the configured ssl_mode; None for `preferred` (PyMySQL then tries TLS
    when the server offers it and falls back to plain)."""
    mode = settings.ssl.mode
    if mode == "preferred":
        return None
    if mode == "required":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        context = ssl.create_default_context(cadata=settings.ssl.ca_certificate or "")
    except ssl.SSLError as exc:
        raise ConfigError(
            f"ssl_mode.ca_certificate is not a valid PEM certificate: {exc.reason or exc}",
            hint="Paste the CA certificate including its BEGIN/END lines.",
            connector=CONNECTOR,
            field="ssl_mode.ca_certificate",
        ) from None
    context.check_hostname = mode == "verify_identity"
    context.verify_mode = ssl.CERT_REQUIRED
    return context


_CA_FILES: dict[str, str] = {}


def _ca_file(pem: str) -> str:
    """A file holding the CA certificate (connectorx takes a path), written once per process."""
    digest = hashlib.sha256(pem.encode()).hexdigest()
    # Written again when something removed it meanwhile (a /tmp cleaner under a long-lived process).
    if digest not in _CA_FILES or not os.path.exists(_CA_FILES[digest]):
        fd, path = tempfile.mkstemp(prefix="ferry-mysql-ca-", suffix=".pem")
        with os.fdopen(fd, "w") as out:
            out.write(pem)
        atexit.register(_remove, path)
        _CA_FILES[digest] = path
    return _CA_FILES[digest]


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


# --- connections ---------------------------------------------------------------------------------


def connect(settings: Settings, *, database: str | None = None) -> Any:
    """A PyMySQL connection (autocommit, UTC session, statement timeout); errors are Ferry errors."""
    import pymysql

    kwargs: dict[str, Any] = {}
    context = _tls_context(settings)
    if context is not None:
        kwargs["ssl"] = context
    try:
        connection = pymysql.connect(
            host=settings.host,
            port=settings.port,
            user=settings.username,
            password=settings.password,
            database=database if database is not None else settings.database,
            connect_timeout=settings.connect_timeout_seconds,
            # The handshake is read with the read timeout: a server that accepts and never answers
            # must fail within the connect timeout, not hang.
            read_timeout=settings.connect_timeout_seconds,
            autocommit=True,
            charset="utf8mb4",
            init_command="SET time_zone = '+00:00'",
            **kwargs,
        )
    except pymysql.err.MySQLError as exc:
        raise _driver_error(exc, settings, "connecting") from None
    except (OSError, ValueError) as exc:
        tls = _tls_failure(exc, settings, "connecting")
        raise tls or error_for(2003, str(exc), settings, "connecting") from None
    # Catalog queries may run as long as the statement timeout; a dead server is noticed after it
    # plus a margin instead of never. PyMySQL has no public setter for this.
    timeout = settings.statement_timeout_seconds
    setattr(connection, "_read_timeout", float(timeout + 30) if timeout else None)  # noqa: B010
    return connection


def query(connection: Any, settings: Settings, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    """Rows of one catalog query; driver errors become Ferry errors."""
    import pymysql

    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
    except pymysql.err.MySQLError as exc:
        raise _driver_error(exc, settings, "reading the catalog") from None


def probe(connection: Any, settings: Settings) -> Server:
    """The server's flavour and version, and whether this connection is encrypted."""
    rows = query(connection, settings, "SELECT VERSION(), @@version_comment")
    version, comment = (str(v) for v in rows[0])
    cipher = query(connection, settings, "SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    tls = bool(cipher and cipher[0][1])
    flavor = "mariadb" if "mariadb" in f"{version} {comment}".lower() else "mysql"
    if settings.ssl.mode != "preferred" and not tls:
        raise ConfigError(
            f"ssl_mode '{settings.ssl.mode}' needs TLS, "
            f"but the connection to {settings.host} is not encrypted",
            hint="Enable TLS on the server, or use ssl_mode 'preferred'.",
            connector=CONNECTOR,
            field="ssl_mode",
        )
    return Server(flavor, version, tls)


def connectorx_url(settings: Settings, server: Server, database: str) -> str:
    """The URL connectorx reads with; it holds the password, so it never appears in a message."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    user, password = quote(settings.username, safe=""), quote(settings.password, safe="")
    credentials = f"{user}:{password}" if settings.password else user
    # prefer_socket: for localhost and 127.0.0.1 the driver would otherwise move to the server's Unix
    # socket, without TLS and maybe as another account (user@localhost) than the catalog connection.
    params = [f"tcp_connect_timeout_ms={settings.connect_timeout_seconds * 1000}", "prefer_socket=false"]
    mode = settings.ssl.mode
    if mode in ("verify_ca", "verify_identity"):
        params += [f"ssl-mode={mode.upper()}", f"ssl-ca={quote(_ca_file(settings.ssl.ca_certificate or ''))}"]
    elif mode == "required" or server.tls:
        # connectorx has no "preferred": encrypt exactly when the catalog connection could.
        params.append("ssl-mode=REQUIRED")
    return f"mysql://{credentials}@{host}:{settings.port}/{quote(database, safe='')}?{'&'.join(params)}"
