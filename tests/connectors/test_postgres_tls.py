"""The postgres source's and destination's ssl_mode against a real TLS server: what connects, what is refused.

The module starts its own PostgreSQL 15 (see pg_tls_server.py); its certificate names only `localhost`,
signed by a throwaway CA. The database `tls_only` refuses unencrypted connections.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.pg_tls_server import SSL_ONLY_DB, TlsServer, what_is_missing
from tests.connectors.postgres_destination.helpers import batch, catalog, configured, state
from tests.connectors.tls_certs import Certificates
from tests.dbs import _unavailable

from ferry.cdk.batching import RecordBatch
from ferry.connectors.destinations.postgres import PostgresDestination
from ferry.connectors.sources.postgres import PostgresSource
from ferry.errors import ConfigError, FerryError
from ferry.protocol import ConfiguredCatalog, ConfiguredStream, DestinationSyncMode, SyncMode

# One private server per test run: every test of the module runs in the same xdist worker.
pytestmark = pytest.mark.xdist_group("postgres-tls")

PASSWORD = "tls-Secret-pa55word"
"""Sent with every config (the server trusts, so it is ignored): no message may repeat it."""


class Tls:
    """The running server and the PEMs the tests hand to the connectors."""

    def __init__(self, server: TlsServer, certs: Certificates) -> None:
        self.server = server
        self.certs = certs
        self.ca, self.other_ca, self.server_pem = certs.ca, certs.other_ca, certs.server_pem

    def config(self, ssl_mode: Any, host: str = "127.0.0.1", database: str = SSL_ONLY_DB) -> dict[str, Any]:
        config = {
            "host": host,
            "port": self.server.port,
            "database": database,
            "username": "postgres",
            "password": PASSWORD,
        }
        return config if ssl_mode is None else {**config, "ssl_mode": ssl_mode}

    def secrets(self) -> list[str]:
        return self.certs.secrets(PASSWORD)

    def connector_session(self, database: str) -> tuple[bool, str | None]:
        """(ssl, TLS version) of the one session a connector (application_name 'ferry') holds in `database`.

        Waits a little for the backends of sessions closed just before (discovery's) to go away.
        """
        rows: list[tuple[Any, ...]] = []
        with self.server.connect() as con:
            for _ in range(40):
                rows = con.execute(
                    "SELECT s.ssl, s.version FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid "
                    "WHERE a.application_name = 'ferry' AND a.datname = %s",
                    [database],
                ).fetchall()
                if len(rows) == 1:
                    return bool(rows[0][0]), rows[0][1]
                time.sleep(0.05)
        raise AssertionError(f"expected one connector session in {database}, the server shows {rows}")


@pytest.fixture(scope="module")
def tls() -> Iterator[Tls]:
    missing = what_is_missing()
    if missing:
        _unavailable("a private PostgreSQL 15 server (for the TLS tests)", FileNotFoundError(missing))
    certs = Certificates()
    server = TlsServer(certs.server_pem)
    try:
        server.start()
        with server.connect() as con:
            con.execute(f'CREATE DATABASE "{SSL_ONLY_DB}"')
        for database in (SSL_ONLY_DB, "postgres"):
            with server.connect(database) as con:
                con.execute("CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)")
                con.execute("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')")
        yield Tls(server, certs)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def pem_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the connectors write certificate files (their temporary directory): empty after every test."""
    where = tmp_path / "pems"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    yield where
    assert _files(where) == [], "certificate files were left behind"


def _files(where: Path) -> list[Path]:
    return sorted(p for p in where.rglob("*") if p.is_file())


def _assert_no_secret(error: FerryError, tls: Tls) -> None:
    text = f"{error} {error.to_dict()} {error.context}"
    for secret in tls.secrets():
        assert secret not in text


def _items_stream(config: Mapping[str, Any]) -> ConfiguredStream:
    found = PostgresSource().discover(config)
    stream = next(s for s in found.streams if s.name == "items")
    return ConfiguredStream(stream, SyncMode.full_refresh, DestinationSyncMode.overwrite)


def _read_items(config: Mapping[str, Any], midway: Callable[[], None] = lambda: None) -> list[dict[str, Any]]:
    """Read `items`, calling `midway` once while the source's session is still open."""
    rows: list[dict[str, Any]] = []
    for item in PostgresSource().read(config, ConfiguredCatalog([_items_stream(config)]), []):
        if isinstance(item, RecordBatch):
            rows += item.data.to_pylist()
            midway()
    return sorted(rows, key=lambda r: int(r["id"]))


EXPECTED = [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}, {"id": 3, "name": "three"}]

VERIFYING: dict[str, Callable[[Tls], dict[str, Any]]] = {
    "require": lambda tls: tls.config("require"),
    "verify-ca": lambda tls: tls.config({"mode": "verify-ca", "ca_certificate": tls.ca.cert}),
    # The certificate names `localhost` only: verify-full must use that name (127.0.0.1 fails, below).
    "verify-full": lambda tls: tls.config(
        {"mode": "verify-full", "ca_certificate": tls.ca.cert}, host="localhost"
    ),
}
"""Configs that must connect, by ssl_mode; verify-ca goes to 127.0.0.1, a name the certificate lacks."""


# --- the source -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(VERIFYING))
def test_source_checks_and_reads_over_tls(tls: Tls, mode: str) -> None:
    config = VERIFYING[mode](tls)
    PostgresSource().check(config)
    assert _read_items({**config, "schemas": ["public"]}) == EXPECTED


@pytest.mark.parametrize(
    ("ssl_mode", "database", "encrypted"),
    [("require", SSL_ONLY_DB, True), (None, "postgres", True), ("disable", "postgres", False)],
    ids=["require", "default-prefer", "disable-where-allowed"],
)
def test_the_source_session_is_encrypted_as_the_server_sees_it(
    tls: Tls, ssl_mode: str | None, database: str, encrypted: bool
) -> None:
    seen: list[tuple[bool, str | None]] = []
    config = {**tls.config(ssl_mode, database=database), "schemas": ["public"]}
    assert _read_items(config, midway=lambda: seen.append(tls.connector_session(database))) == EXPECTED
    [(ssl, version)] = seen  # the source's session, while it was reading
    assert ssl is encrypted
    assert (version or "").startswith("TLS") is encrypted


def test_source_writes_the_ca_to_a_private_file_only_while_connected(tls: Tls, pem_dir: Path) -> None:
    config = {**VERIFYING["verify-ca"](tls), "schemas": ["public"]}
    during: list[list[tuple[str, int]]] = []

    def look() -> None:
        during.append([(p.read_text(), p.stat().st_mode & 0o777) for p in _files(pem_dir)])

    assert _read_items(config, midway=look) == EXPECTED
    assert during == [[(tls.ca.cert, 0o600)]]
    assert _files(pem_dir) == []


def test_source_with_the_wrong_ca_is_a_config_error_saying_what_to_fix(tls: Tls) -> None:
    config = tls.config({"mode": "verify-ca", "ca_certificate": tls.other_ca.cert})
    with pytest.raises(ConfigError) as caught:
        PostgresSource().check(config)
    assert "certificate verify failed" in caught.value.message
    assert "ssl_mode" in (caught.value.hint or "")
    _assert_no_secret(caught.value, tls)


def test_source_verify_full_refuses_a_host_the_certificate_does_not_name(tls: Tls) -> None:
    # The same CA and address pass verify-ca (above); only the name check differs.
    config = tls.config({"mode": "verify-full", "ca_certificate": tls.ca.cert}, host="127.0.0.1")
    with pytest.raises(ConfigError) as caught:
        PostgresSource().check(config)
    assert 'does not match host name "127.0.0.1"' in caught.value.message
    assert "verify-ca" in (caught.value.hint or "")
    _assert_no_secret(caught.value, tls)


def test_source_verify_without_a_ca_asks_for_one(tls: Tls) -> None:
    with pytest.raises(ConfigError) as caught:
        PostgresSource().check(tls.config({"mode": "verify-full"}, host="localhost"))
    assert "root certificate file" in caught.value.message
    assert "ssl_mode.ca_certificate" in (caught.value.hint or "")


def test_source_disable_against_an_ssl_only_database_is_a_config_error(tls: Tls) -> None:
    with pytest.raises(ConfigError) as caught:
        PostgresSource().check(tls.config("disable"))
    assert "no encryption" in caught.value.message
    assert "ssl_mode 'require'" in (caught.value.hint or "")
    _assert_no_secret(caught.value, tls)


# --- the destination --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(VERIFYING))
def test_destination_checks_over_tls(tls: Tls, mode: str) -> None:
    config = VERIFYING[mode](tls)
    PostgresDestination().check(config)


@pytest.mark.parametrize("mode", ["require", "verify-full"])
def test_destination_writes_over_an_encrypted_session(tls: Tls, pem_dir: Path, mode: str) -> None:
    schema = f"tls_{mode.replace('-', '_')}"
    config = {**VERIFYING[mode](tls), "schema": schema}
    stream = configured("users")
    seen: list[tuple[bool, str | None]] = []
    files: list[list[Path]] = []

    def messages() -> Iterator[Any]:
        yield batch(stream, [{"id": 1, "name": "a", "updated": 1}, {"id": 2, "name": "b", "updated": 2}])
        seen.append(tls.connector_session(SSL_ONLY_DB))
        files.append(_files(pem_dir))
        yield state(stream, 2)

    out = list(PostgresDestination().write(config, catalog(stream), messages()))
    assert [m.state is not None for m in out] == [True]
    [(ssl, version)] = seen  # the writer's session, while it was writing
    assert ssl is True
    assert (version or "").startswith("TLS")
    [while_writing] = files
    assert len(while_writing) == (1 if mode == "verify-full" else 0)  # the CA file, kept while connected
    with tls.server.connect(SSL_ONLY_DB) as con:
        rows = con.execute(f'SELECT id, name FROM "{schema}".users ORDER BY id').fetchall()
    assert rows == [(1, "a"), (2, "b")]


def test_destination_with_the_wrong_ca_is_a_config_error_saying_what_to_fix(tls: Tls, pem_dir: Path) -> None:
    config = tls.config({"mode": "verify-full", "ca_certificate": tls.other_ca.cert}, host="localhost")
    with pytest.raises(ConfigError) as caught:
        PostgresDestination().check(config)
    assert "certificate verify failed" in caught.value.message
    assert "ssl_mode" in (caught.value.hint or "")
    _assert_no_secret(caught.value, tls)
    assert _files(pem_dir) == []  # a failed connect removes the CA file it wrote at once


def test_destination_verify_full_refuses_a_host_the_certificate_does_not_name(tls: Tls) -> None:
    config = tls.config({"mode": "verify-full", "ca_certificate": tls.ca.cert}, host="127.0.0.1")
    with pytest.raises(ConfigError) as caught:
        PostgresDestination().check(config)
    assert 'does not match host name "127.0.0.1"' in caught.value.message
    _assert_no_secret(caught.value, tls)


def test_destination_write_with_the_wrong_ca_fails_before_any_table(tls: Tls) -> None:
    config = {**tls.config({"mode": "verify-ca", "ca_certificate": tls.other_ca.cert}), "schema": "tls_wrong"}
    stream = configured("users")
    with pytest.raises(ConfigError, match="certificate verify failed"):
        list(PostgresDestination().write(config, catalog(stream), [batch(stream, [{"id": 1}])]))
    with tls.server.connect(SSL_ONLY_DB) as con:
        assert con.execute("SELECT to_regnamespace('tls_wrong')").fetchone() == (None,)


def test_destination_disable_against_an_ssl_only_database_is_a_config_error(tls: Tls) -> None:
    with pytest.raises(ConfigError) as caught:
        PostgresDestination().check(tls.config("disable"))
    assert "no encryption" in caught.value.message
    assert "ssl_mode" in (caught.value.hint or "")
    _assert_no_secret(caught.value, tls)
