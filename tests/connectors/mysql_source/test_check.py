"""check(): what a user sees for each way a connection can fail, without secrets; a read-only user; SSL."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.dbs import mysql_source_config

from ferry.cdk.conformance import configure, read_source
from ferry.connectors.sources.mysql import MySQLSource
from ferry.errors import ConfigError, FerryError, TransientError
from ferry.protocol import SyncMode

from .helpers import execute

SECRET = "s3cr3t-Pa55:@/?"


@pytest.fixture(scope="module")
def config(mysql_db: str) -> dict[str, Any]:
    execute(
        mysql_db,
        "CREATE TABLE visible (id INT PRIMARY KEY, v VARCHAR(5))",
        "INSERT INTO visible VALUES (1, 'a'), (2, 'b')",
        "CREATE TABLE hidden (id INT PRIMARY KEY)",
    )
    return mysql_source_config(mysql_db)


def _failure(config: dict[str, Any]) -> FerryError:
    with pytest.raises(FerryError) as caught:
        MySQLSource().check(config)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.to_dict())
    return caught.value


def test_check_succeeds(config: dict[str, Any]) -> None:
    MySQLSource().check(config)


def test_wrong_password_is_a_config_error_without_the_password(config: dict[str, Any]) -> None:
    error = _failure({**config, "password": SECRET})
    assert isinstance(error, ConfigError)
    assert "access denied" in str(error).lower()


def test_unknown_database_is_a_config_error(config: dict[str, Any]) -> None:
    error = _failure({**config, "database": "ferry_no_such_db", "password": SECRET})
    assert isinstance(error, ConfigError)
    assert "does not exist" in str(error) or "access" in str(error).lower()


def test_refused_connection_is_transient(config: dict[str, Any]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = _failure({**config, "host": "127.0.0.1", "port": port, "password": SECRET})
    assert isinstance(error, TransientError)


def test_a_server_that_never_answers_times_out_as_transient(config: dict[str, Any]) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections in the backlog but never sends a handshake
        started = time.monotonic()
        error = _failure(
            {**config, "host": "127.0.0.1", "port": silent.getsockname()[1], "connect_timeout_seconds": 1}
        )
    assert isinstance(error, TransientError)
    assert time.monotonic() - started < 10


def test_ssl_required_on_a_server_without_tls_is_a_config_error(config: dict[str, Any]) -> None:
    error = _failure({**config, "ssl_mode": {"mode": "required"}})
    assert isinstance(error, ConfigError)
    assert "TLS" in str(error) or "SSL" in str(error)


def test_ssl_preferred_falls_back_to_plain_on_a_server_without_tls(config: dict[str, Any]) -> None:
    MySQLSource().check({**config, "ssl_mode": {"mode": "preferred"}})


def test_client_certificates_are_refused_clearly(config: dict[str, Any]) -> None:
    ssl_mode = {"mode": "verify_ca", "ca_certificate": "x", "client_certificate": "y", "client_key": SECRET}
    error = _failure({**config, "ssl_mode": ssl_mode})
    assert isinstance(error, ConfigError)
    assert error.field == "ssl_mode.client_certificate"


@pytest.fixture
def read_only_user(mysql_db: str) -> Iterator[tuple[str, str]]:
    user, password = f"ferry_ro_{uuid.uuid4().hex[:8]}", SECRET
    execute(
        mysql_db,
        f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'",
        f"GRANT SELECT ON `{mysql_db}`.`visible` TO '{user}'@'%'",
    )
    try:
        yield user, password
    finally:
        execute(mysql_db, f"DROP USER '{user}'@'%'")


def test_a_read_only_user_checks_discovers_and_reads_what_it_may(
    config: dict[str, Any], read_only_user: tuple[str, str]
) -> None:
    user, password = read_only_user
    limited = {**config, "username": user, "password": password}
    source = MySQLSource()
    source.check(limited)
    catalog = source.discover(limited)
    assert [s.name for s in catalog.streams] == ["visible"]  # `hidden` is not granted
    run = read_source(source, limited, configure(catalog, SyncMode.full_refresh), [])
    assert [r["v"] for r in run.records(catalog.streams[0].descriptor)] == ["a", "b"]
