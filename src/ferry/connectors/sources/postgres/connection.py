"""One session with the server through ADBC's libpq driver, which decodes binary COPY straight into Arrow.

Every data query runs as `COPY (SELECT ...) TO STDOUT (FORMAT binary)` inside the driver, so rows
stream in bounded Arrow batches and no Python object is made per row. The session is set up so
that text the server renders (intervals, times with zone) is the same whatever the server's
defaults are.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from ferry.connectors.sources.postgres.config import CONNECTOR, PgConfig, SslSettings
from ferry.connectors.sources.postgres.failures import connect_error, query_error
from ferry.errors import ConfigError

log = logging.getLogger("ferry.source.postgres")

BATCH_BYTES = 8 << 20
"""Target size of one Arrow batch from the driver: big enough for fast scans, small enough to bound memory."""

_SESSION = (
    "SELECT set_config('TimeZone', 'UTC', false), set_config('IntervalStyle', 'iso_8601', false), "
    "set_config('DateStyle', 'ISO, MDY', false), set_config('extra_float_digits', '1', false), "
    "set_config('standard_conforming_strings', 'on', false), set_config('application_name', 'ferry', false)"
)


def _conninfo_value(value: str) -> str:
    # libpq's keyword=value syntax: single quotes, with backslash escaping quote and backslash.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _driver() -> Any:
    # Imported by name: the driver package ships no type information, and only the source needs it.
    try:
        return importlib.import_module("adbc_driver_postgresql.dbapi")
    except ImportError:
        raise ConfigError(
            "the postgres source needs the package adbc-driver-postgresql, which is not installed",
            hint="pip install 'adbc-driver-postgresql>=1.13' into Ferry's environment.",
            connector=CONNECTOR,
        ) from None


class _SslFiles:
    """PEM material from the config written to private temporary files, as libpq reads it from files."""

    def __init__(self, ssl: SslSettings) -> None:
        self.options: dict[str, str] = {"sslmode": ssl.mode}
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        pems = {
            "sslrootcert": ssl.ca_certificate,
            "sslcert": ssl.client_certificate,
            "sslkey": ssl.client_key,
        }
        for option, pem in pems.items():
            if pem:
                self.options[option] = self._write(option, pem)
        if ssl.client_key_password:
            self.options["sslpassword"] = ssl.client_key_password

    def _write(self, name: str, pem: str) -> str:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="ferry-pg-ssl-")
        path = Path(self._dir.name) / f"{name}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(pem)
        return str(path)

    def cleanup(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def conninfo(cfg: PgConfig, ssl_options: dict[str, str]) -> str:
    """A libpq connection string; it holds the password, so it never goes into a message."""
    options = {
        "host": cfg.host,
        "port": str(cfg.port),
        "dbname": cfg.database,
        "user": cfg.username,
        "connect_timeout": str(cfg.connect_timeout),
        **ssl_options,
    }
    if cfg.password:
        options["password"] = cfg.password
    return " ".join(f"{key}={_conninfo_value(value)}" for key, value in options.items())


class PgSession:
    """An open session; `batches` streams a query's rows as Arrow, `rows` fetches a small result."""

    def __init__(self, cfg: PgConfig) -> None:
        self.cfg = cfg
        driver = _driver()
        self._ssl = _SslFiles(cfg.ssl)
        try:
            self._con = driver.connect(conninfo(cfg, self._ssl.options), autocommit=True)
        except Exception as exc:
            self._ssl.cleanup()
            raise connect_error(exc, cfg) from None
        try:
            self.rows(_SESSION, doing="setting up the session")
            self.set_timeout(cfg.statement_timeout)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        try:
            self._con.close()
        except Exception:  # the session is being dropped anyway; a failure to close it changes nothing
            log.debug("closing the PostgreSQL session failed", exc_info=True)
        finally:
            self._ssl.cleanup()

    def __enter__(self) -> PgSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_timeout(self, seconds: int) -> None:
        self.rows(
            f"SELECT set_config('statement_timeout', '{int(seconds)}s', false)", doing="setting a timeout"
        )

    def execute(self, sql: str, doing: str) -> None:
        with self._cursor(doing) as cur:
            cur.execute(sql)

    def rows(self, sql: str, doing: str = "querying the catalog") -> list[tuple[Any, ...]]:
        with self._cursor(doing) as cur:
            cur.execute(sql)
            out: list[tuple[Any, ...]] = cur.fetchall()
            return out

    def batches(self, sql: str, doing: str, stream: str | None = None) -> Iterator[pa.RecordBatch]:
        """The query's rows as Arrow batches, streamed (the driver reads them with binary COPY)."""
        with self._cursor(doing, stream) as cur:
            cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
            cur.execute(sql)
            reader = cur.fetch_record_batch()
            try:
                yield from reader
            finally:
                reader.close()

    @contextmanager
    def _cursor(self, doing: str, stream: str | None = None) -> Iterator[Any]:
        try:
            cur = self._con.cursor()
        except Exception as exc:
            raise query_error(exc, self.cfg, doing, stream) from None
        try:
            yield cur
        except (GeneratorExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise query_error(exc, self.cfg, doing, stream) from None
        finally:
            try:
                cur.close()
            except Exception:  # a cursor whose statement failed may refuse to close; the session goes on
                log.debug("closing a cursor failed", exc_info=True)


def _close_all(held: list[PgSession]) -> None:
    while held:
        held.pop().close()


class SessionPool:
    """One session shared by discovery and every stream of a read (the driver takes a tenth of a second
    to connect); a stream whose read did not finish cleanly discards it, and the next one reconnects.

    Closed explicitly, or when the streams holding it are gone (the end of a read).
    """

    def __init__(self, cfg: PgConfig) -> None:
        self.cfg = cfg
        self._held: list[PgSession] = []
        self._finalizer = weakref.finalize(self, _close_all, self._held)

    def get(self) -> PgSession:
        if not self._held:
            self._held.append(PgSession(self.cfg))
        return self._held[0]

    def discard(self) -> None:
        _close_all(self._held)

    def close(self) -> None:
        self._finalizer()
