"""check(), connection failures by kind, SSL modes, a read-only role, and the schema and table filters."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from tests.dbs import pg_connect, unique_name

from ferry.cdk.source import ReadContext
from ferry.connectors.sources.postgres import PostgresSource
from ferry.errors import ConfigError, FerryError, TransientError
from ferry.protocol import SyncMode

from .helpers import Pg, configured, read

SECRET = "s3cret-Pa55'word \\"  # a quote, a space and a trailing backslash: all need escaping


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_succeeds(pg: Pg) -> None:
    PostgresSource().check(pg.config())


def test_unknown_database_is_a_config_error_without_the_password(pg: Pg) -> None:
    config = {**pg.config(), "database": "ferry_no_such_db", "password": SECRET}
    with pytest.raises(ConfigError) as caught:
        PostgresSource().check(config)
    text = str(caught.value)
    assert "ferry_no_such_db" in text
    assert "does not exist" in text
    assert SECRET not in text
    assert "s3cret" not in text


def test_unknown_user_is_a_config_error(pg: Pg) -> None:
    with pytest.raises(ConfigError, match="role"):
        PostgresSource().check({**pg.config(), "username": "ferry_nobody", "password": SECRET})


def test_refused_connection_is_transient_without_the_password(pg: Pg) -> None:
    config = {**pg.config(), "port": _free_port(), "password": SECRET}
    with pytest.raises(TransientError) as caught:
        PostgresSource().check(config)
    assert "refused" in str(caught.value).lower()
    assert "s3cret" not in str(caught.value)


def test_unknown_host_is_a_config_error(pg: Pg) -> None:
    with pytest.raises(ConfigError, match="host"):
        PostgresSource().check({**pg.config(), "host": "ferry-no-such-host.invalid"})


def test_invalid_config_names_the_field(pg: Pg) -> None:
    with pytest.raises(ConfigError, match="checkpoint_rows"):
        PostgresSource().check({**pg.config(), "checkpoint_rows": 0})
    with pytest.raises(ConfigError, match="CDC"):
        PostgresSource().check({**pg.config(), "replication_method": {"method": "CDC"}})


@pytest.mark.parametrize("mode", ["disable", "prefer", {"mode": "prefer"}, "allow"])
def test_ssl_modes_that_allow_plain_connections(pg: Pg, mode: object) -> None:
    PostgresSource().check({**pg.config(), "ssl_mode": mode})


@pytest.mark.parametrize("mode", ["require", {"mode": "verify-full", "ca_certificate": "not a pem"}])
def test_ssl_required_against_a_server_without_ssl_is_a_clear_config_error(pg: Pg, mode: object) -> None:
    with pg_connect(pg.database) as con:
        has_ssl = con.execute("SHOW ssl").fetchone()[0] == "on"
    if has_ssl:
        pytest.skip("the test server has SSL; this case is about one without")
    with pytest.raises(ConfigError, match="SSL"):
        PostgresSource().check({**pg.config(), "ssl_mode": mode})


# --- a read-only role -------------------------------------------------------------------------


@pytest.fixture
def reader_role(pg: Pg) -> Iterator[str]:
    role = unique_name("ferry_ro")
    pg.run(
        "CREATE TABLE open_t (id integer PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now())",
        "INSERT INTO open_t (id, v) SELECT i, 'v' || i FROM generate_series(1, 120) i",
        "CREATE TABLE secret_t (id integer PRIMARY KEY)",
        "CREATE TABLE partial_t (id integer PRIMARY KEY, public_v text, hidden_v text)",
        "INSERT INTO partial_t VALUES (1, 'a', 'b')",
        "CREATE TABLE nokey_t (n integer)",
        "INSERT INTO nokey_t SELECT generate_series(1, 50)",
        f"CREATE ROLE {role} LOGIN",
        f'GRANT USAGE ON SCHEMA "{pg.schema}" TO {role}',
        f'GRANT SELECT ON "{pg.schema}".open_t, "{pg.schema}".nokey_t TO {role}',
        f'GRANT SELECT (id, public_v) ON "{pg.schema}".partial_t TO {role}',
    )
    try:
        yield role
    finally:
        pg.run(f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_a_read_only_role_sees_and_reads_only_what_it_was_granted(pg: Pg, reader_role: str) -> None:
    config = {**pg.config(checkpoint_rows=25, chunk_rows=40), "username": reader_role}
    PostgresSource().check(config)
    catalog = PostgresSource().discover(config)
    assert sorted(s.name for s in catalog.streams) == ["nokey_t", "open_t", "partial_t"]
    partial = next(s for s in catalog.streams if s.name == "partial_t")
    assert list(partial.json_schema["properties"]) == ["id", "public_v"]
    assert read(config, configured(config, "open_t")).column("id") == list(range(1, 121))
    assert sorted(read(config, configured(config, "nokey_t")).column("n")) == list(range(1, 51))
    assert read(config, configured(config, "partial_t")).rows == [{"id": 1, "public_v": "a"}]
    incremental = read(config, configured(config, "open_t", SyncMode.incremental, "updated_at"))
    assert sorted(incremental.column("id")) == list(range(1, 121))


def test_a_grant_taken_away_after_discovery_is_a_config_error(pg: Pg, reader_role: str) -> None:
    config = {**pg.config(), "username": reader_role}
    open_t = configured(config, "open_t")
    pg.run(f'REVOKE SELECT ON "{pg.schema}".open_t FROM {reader_role}')
    with pytest.raises(ConfigError, match="do not exist"):  # a read discovers again, without the table
        read(config, open_t)
    stream = next(s for s in PostgresSource().streams(config) if s.name == "nokey_t")
    pg.run(f'REVOKE SELECT ON "{pg.schema}".nokey_t FROM {reader_role}')  # between discovery and reading
    with pytest.raises(FerryError) as caught:
        list(stream.read(ReadContext(SyncMode.full_refresh, None, None)))
    assert isinstance(caught.value, ConfigError), caught.value
    assert "GRANT SELECT" in str(caught.value)
    assert "42501" in str(caught.value)


# --- schema and table filters ------------------------------------------------------------------


@pytest.fixture
def two_schemas(pg: Pg) -> Iterator[tuple[str, str]]:
    other = f"{pg.schema}_b"
    pg.run(
        f'CREATE SCHEMA "{other}"',
        "CREATE TABLE orders (id integer PRIMARY KEY)",
        "CREATE TABLE orders_archive (id integer PRIMARY KEY)",
        "CREATE TABLE customers (id integer PRIMARY KEY)",
        "CREATE VIEW big_orders AS SELECT * FROM orders",
        f'CREATE TABLE "{other}".orders (id integer PRIMARY KEY)',
        f'CREATE TABLE "{other}".misc (id integer PRIMARY KEY)',
    )
    try:
        yield pg.schema, other
    finally:
        pg.run(f'DROP SCHEMA "{other}" CASCADE')


def _names(config: dict[str, object]) -> list[str]:
    return sorted(f"{s.namespace}.{s.name}" for s in PostgresSource().discover(config).streams)


def test_schema_and_table_filters(pg: Pg, two_schemas: tuple[str, str]) -> None:
    a, b = two_schemas
    both = {**pg.config(), "schemas": [a, b]}
    assert _names(both) == sorted(
        [
            f"{a}.big_orders",
            f"{a}.customers",
            f"{a}.orders",
            f"{a}.orders_archive",
            f"{b}.misc",
            f"{b}.orders",
        ]
    )
    assert _names({**both, "exclude_schemas": [a]}) == [f"{b}.misc", f"{b}.orders"]
    assert _names({**both, "tables": ["orders*"]}) == [f"{a}.orders", f"{a}.orders_archive", f"{b}.orders"]
    assert _names({**both, "tables": [f"{b}.*", "customers"]}) == [
        f"{a}.customers",
        f"{b}.misc",
        f"{b}.orders",
    ]
    assert _names({**both, "exclude_tables": ["orders_*", f"{b}.orders", "big_*"]}) == [
        f"{a}.customers",
        f"{a}.orders",
        f"{b}.misc",
    ]
    everything = {k: v for k, v in both.items() if k != "schemas"}
    assert set(_names(both)) <= set(_names(everything))  # no `schemas`: every readable schema
