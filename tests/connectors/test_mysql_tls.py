"""The mysql source's ssl_mode against a real TLS MariaDB: what connects, what is refused, what is encrypted.

The module starts its own MariaDB (see mysql_tls_server.py); its certificate names only `localhost`,
signed by a throwaway CA. `ferry_tls` is created `REQUIRE SSL`, so the server refuses it any session
without TLS; `ferry_plain` may connect either way, so what it gets is the source's choice. The view
`session_tls` shows the TLS version of the very session that reads it: read through the source, it
reports on the bulk (connectorx) path; the catalog (PyMySQL) path is looked up in performance_schema.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.mysql_tls_server import TlsServer, what_is_missing
from tests.connectors.tls_certs import Certificates
from tests.dbs import _unavailable

from ferry.cdk.batching import RecordBatch
from ferry.connectors.sources.mysql import MySQLSource
from ferry.connectors.sources.mysql import source as source_module
from ferry.connectors.sources.mysql.connection import Server
from ferry.connectors.sources.mysql.spec import Settings
from ferry.errors import ConfigError, FerryError
from ferry.protocol import ConfiguredCatalog, ConfiguredStream, DestinationSyncMode, SyncMode

# One private server per test run: every test of the module runs in the same xdist worker.
pytestmark = pytest.mark.xdist_group("mysql-tls")

PASSWORD = "tls-S3cret:@/?pa55"
"""Both users' password; it holds URL delimiters, so the connectorx URL must quote it. No message may repeat it."""
DATABASE = "shop"
TLS_USER = "ferry_tls"
PLAIN_USER = "ferry_plain"
EXPECTED = [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}, {"id": 3, "name": "three"}]

_SETUP = (
    f"CREATE DATABASE {DATABASE}",
    f"CREATE TABLE {DATABASE}.items (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)",
    f"INSERT INTO {DATABASE}.items VALUES (1, 'one'), (2, 'two'), (3, 'three')",
    f"CREATE VIEW {DATABASE}.session_tls AS SELECT VARIABLE_VALUE AS tls_version "
    "FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'",
)


class Tls:
    """The running server and the PEMs the tests hand to the source."""

    def __init__(self, server: TlsServer, certs: Certificates) -> None:
        self.server = server
        self.certs = certs
        self.ca, self.other_ca, self.server_pem = certs.ca, certs.other_ca, certs.server_pem

    def config(self, ssl_mode: Any, host: str = "127.0.0.1", user: str = TLS_USER) -> dict[str, Any]:
        config = {
            "host": host,
            "port": self.server.port,
            "database": DATABASE,
            "username": user,
            "password": PASSWORD,
        }
        return config if ssl_mode is None else {**config, "ssl_mode": ssl_mode}

    def secrets(self) -> list[str]:
        return self.certs.secrets(PASSWORD)

    def connection_type(self, session_id: int) -> str:
        """How the server sees session `session_id` ('SSL/TLS', 'TCP/IP', 'Socket')."""
        with self.server.connect() as con, con.cursor() as cursor:
            cursor.execute(
                "SELECT CONNECTION_TYPE FROM performance_schema.threads WHERE PROCESSLIST_ID = %s",
                [session_id],
            )
            [(kind,)] = cursor.fetchall()
            return str(kind)

    def connect_plain(self, user: str) -> Any:
        """A PyMySQL session over TCP that never uses TLS."""
        import pymysql

        return pymysql.connect(
            host="127.0.0.1",
            port=self.server.port,
            user=user,
            password=PASSWORD,
            database=DATABASE,
            ssl_disabled=True,
            connect_timeout=5,
        )


@pytest.fixture(scope="module")
def tls() -> Iterator[Tls]:
    missing = what_is_missing()
    if missing:
        _unavailable("a private MariaDB server (for the TLS tests)", FileNotFoundError(missing))
    certs = Certificates()
    server = TlsServer(certs.ca, certs.server_pem)
    try:
        server.start()
        with server.connect() as con, con.cursor() as cursor:
            for statement in _SETUP:
                cursor.execute(statement)
            for user, require in ((TLS_USER, " REQUIRE SSL"), (PLAIN_USER, "")):
                cursor.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s{require}", [PASSWORD])
                cursor.execute(f"GRANT SELECT, SHOW VIEW ON {DATABASE}.* TO '{user}'@'%'")
        yield Tls(server, certs)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The source's temporary directory while this module runs, removed with what is in it at the end.

    The source keeps one CA file per certificate for the life of its process (connectorx takes a path).
    """
    where = tmp_path_factory.mktemp("mysql-ca-files")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(where))
        yield where
    shutil.rmtree(where)


def _files(where: Path) -> list[Path]:
    return sorted(p for p in where.rglob("*") if p.is_file())


def _assert_no_secret(error: FerryError, tls: Tls) -> None:
    text = f"{error} {error.to_dict()} {error.context}"
    for secret in tls.secrets():
        assert secret not in text


def _configured(config: Mapping[str, Any], names: Sequence[str]) -> ConfiguredCatalog:
    found = {s.name: s for s in MySQLSource().discover(config).streams}
    return ConfiguredCatalog(
        [ConfiguredStream(found[n], SyncMode.full_refresh, DestinationSyncMode.overwrite) for n in names]
    )


def _read(
    config: Mapping[str, Any], names: Sequence[str] = ("items",), midway: Callable[[], None] = lambda: None
) -> dict[str, list[dict[str, Any]]]:
    """The rows of streams `names`, read by the source; `midway` runs after each batch, mid-read."""
    rows: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for item in MySQLSource().read(config, _configured(config, names), []):
        if isinstance(item, RecordBatch):
            rows[item.stream.name] += item.data.to_pylist()
            midway()
    return {n: sorted(r, key=lambda row: int(row.get("id") or 0)) for n, r in rows.items()}


CONNECTING: dict[str, Callable[[Tls], dict[str, Any]]] = {
    # preferred encrypts whenever the server offers TLS: the REQUIRE SSL user gets in with it too.
    "preferred": lambda tls: tls.config(None),
    "required": lambda tls: tls.config({"mode": "required"}),
    "verify_ca": lambda tls: tls.config({"mode": "verify_ca", "ca_certificate": tls.ca.cert}),
    # The certificate names `localhost` only: verify_identity must use that name (127.0.0.1 fails, below).
    "verify_identity": lambda tls: tls.config(
        {"mode": "verify_identity", "ca_certificate": tls.ca.cert}, host="localhost"
    ),
}
"""Configs that must connect, by ssl_mode; verify_ca goes to 127.0.0.1, a name the certificate lacks."""


# --- what connects ---------------------------------------------------------------------------------


def test_the_server_refuses_the_tls_user_without_tls_and_shows_plain_sessions_as_plain(tls: Tls) -> None:
    """The controls: without them, a success below would prove nothing about encryption."""
    import pymysql

    with pytest.raises(pymysql.err.OperationalError) as refused:
        tls.connect_plain(TLS_USER)
    assert refused.value.args[0] == 1045
    with tls.connect_plain(PLAIN_USER) as con, con.cursor() as cursor:
        assert tls.connection_type(con.thread_id()) == "TCP/IP"
        cursor.execute("SELECT tls_version FROM session_tls")
        assert cursor.fetchall() == (("",),)


@pytest.mark.parametrize("mode", list(CONNECTING))
def test_the_tls_only_user_checks_and_reads(tls: Tls, ca_dir: Path, mode: str) -> None:
    # Both paths log in as a REQUIRE SSL user: the server let neither in without TLS.
    config = CONNECTING[mode](tls)
    MySQLSource().check(config)
    assert _read(config) == {"items": EXPECTED}


@pytest.mark.parametrize("mode", list(CONNECTING))
def test_both_connections_are_encrypted_as_the_server_sees_them(
    tls: Tls, ca_dir: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    # A user the server would also take in plain: encryption here is the source's own doing.
    config = {**CONNECTING[mode](tls), "username": PLAIN_USER}
    catalog_sessions: list[str] = []
    real_probe = source_module.probe

    def probe(connection: Any, settings: Settings) -> Server:
        catalog_sessions.append(tls.connection_type(connection.thread_id()))
        return real_probe(connection, settings)

    monkeypatch.setattr(source_module, "probe", probe)
    MySQLSource().check(config)
    rows = _read(config, ["items", "session_tls"])
    assert catalog_sessions == ["SSL/TLS"] * 3  # the catalog connections of check, discover and read
    [bulk] = rows["session_tls"]  # what the server says of the connectorx session that read the view
    assert bulk["tls_version"].startswith("TLSv"), bulk
    assert rows["items"] == EXPECTED


# --- the CA file connectorx reads ------------------------------------------------------------------


def test_the_ca_goes_to_one_private_file_reused_by_every_read(tls: Tls, ca_dir: Path) -> None:
    config = CONNECTING["verify_ca"](tls)
    during: list[list[tuple[str, int]]] = []

    def look() -> None:
        during.append([(p.read_text(), p.stat().st_mode & 0o777) for p in _files(ca_dir)])

    for _ in range(2):
        assert _read(config, midway=look) == {"items": EXPECTED}
    assert during == [[(tls.ca.cert, 0o600)]] * 2  # one file, not one per read


def test_a_ca_file_removed_behind_the_source_s_back_is_written_again(tls: Tls, ca_dir: Path) -> None:
    """A /tmp cleaner may delete the file while a long-lived process still holds its path."""
    config = CONNECTING["verify_identity"](tls)
    MySQLSource().check(config)
    for path in _files(ca_dir):
        path.unlink()
    assert _read(config) == {"items": EXPECTED}
    assert [p.read_text() for p in _files(ca_dir)] == [tls.ca.cert]


_IN_A_PROCESS = textwrap.dedent(
    """
    import json, os, sys, tempfile
    from ferry.connectors.sources.mysql import MySQLSource

    MySQLSource().check(json.loads(sys.stdin.read()))
    print(json.dumps(os.listdir(tempfile.gettempdir())))
    """
)


def test_the_ca_file_is_removed_when_the_process_ends(tls: Tls, tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    config = CONNECTING["verify_ca"](tls)
    done = subprocess.run(
        [sys.executable, "-c", _IN_A_PROCESS],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [while_running] = json.loads(done.stdout)
    assert while_running.startswith("ferry-mysql-ca-")
    assert _files(temp) == []


# --- what is refused -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["verify_ca", "verify_identity"])
def test_the_wrong_ca_is_a_config_error_saying_what_to_fix(tls: Tls, ca_dir: Path, mode: str) -> None:
    config = tls.config({"mode": mode, "ca_certificate": tls.other_ca.cert}, host="localhost")
    with pytest.raises(ConfigError) as caught:
        MySQLSource().check(config)
    assert "certificate could not be verified" in caught.value.message
    assert "ssl_mode.ca_certificate" in (caught.value.hint or "")
    assert caught.value.field == "ssl_mode"
    _assert_no_secret(caught.value, tls)


def test_verify_identity_refuses_a_host_the_certificate_does_not_name(tls: Tls, ca_dir: Path) -> None:
    # The same CA and address pass verify_ca (above); only the name check differs.
    config = tls.config({"mode": "verify_identity", "ca_certificate": tls.ca.cert}, host="127.0.0.1")
    with pytest.raises(ConfigError) as caught:
        MySQLSource().check(config)
    assert "certificate could not be verified" in caught.value.message
    assert "not valid for '127.0.0.1'" in caught.value.message
    assert "verify_ca" in (caught.value.hint or "")
    _assert_no_secret(caught.value, tls)


def test_there_is_no_mode_without_tls_a_disabled_mode_is_refused_by_the_spec(tls: Tls) -> None:
    # Airbyte's source-mysql has no `disabled` either: a TLS-capable server is never read in plain.
    with pytest.raises(ConfigError) as caught:
        MySQLSource().check(tls.config({"mode": "disabled"}))
    assert caught.value.field == "ssl_mode"
    _assert_no_secret(caught.value, tls)
