"""The real database servers on the machine, for tests: skip when one is missing, fail under CI.

Every test run works in its own database (or schema) with a unique name and drops it at the end, so
parallel runs never collide. Settings come from FERRY_TEST_PG_* (defaults: the local trust-auth server).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def unique_name(prefix: str = "ferry_t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _unavailable(what: str, exc: Exception) -> None:
    """Under CI a missing server is a failure (the tests must run there); elsewhere the tests skip."""
    message = f"{what} is not reachable ({type(exc).__name__}: {str(exc).strip()[:200]})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


# --- PostgreSQL -------------------------------------------------------------------------------------


def pg_settings(database: str | None = None) -> dict[str, Any]:
    """Connection keywords for psycopg (`dbname`, not `database`)."""
    return {
        "host": os.environ.get("FERRY_TEST_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("FERRY_TEST_PG_PORT", "5432")),
        "user": os.environ.get("FERRY_TEST_PG_USER", "postgres"),
        "password": os.environ.get("FERRY_TEST_PG_PASSWORD", ""),
        "dbname": database or os.environ.get("FERRY_TEST_PG_DB", "test"),
    }


def pg_connect(database: str | None = None, **kwargs: Any) -> Any:
    """A psycopg connection (autocommit unless told otherwise) to the test server."""
    import psycopg

    return psycopg.connect(**pg_settings(database), connect_timeout=5, **{"autocommit": True, **kwargs})


def pg_source_config(database: str, **extra: Any) -> dict[str, Any]:
    """A `postgres` source config for `database` on the test server."""
    s = pg_settings(database)
    config = {"host": s["host"], "port": s["port"], "database": database, "username": s["user"]}
    if s["password"]:
        config["password"] = s["password"]
    return {**config, **extra}


@contextmanager
def pg_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; skips (or fails under CI) without one."""
    try:
        admin = pg_connect()
    except Exception as exc:  # any reason the server cannot be used means the same: skip or fail
        _unavailable("the PostgreSQL test server", exc)
        raise
    name = unique_name()
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- MySQL / MariaDB ----------------------------------------------------------------------------------


def mysql_settings(database: str | None = None) -> dict[str, Any]:
    """Connection keywords for PyMySQL, from FERRY_TEST_MYSQL_* (defaults: the local MariaDB, root)."""
    return {
        "host": os.environ.get("FERRY_TEST_MYSQL_HOST", "127.0.0.1"),
        "port": int(os.environ.get("FERRY_TEST_MYSQL_PORT", "3306")),
        "user": os.environ.get("FERRY_TEST_MYSQL_USER", "root"),
        "password": os.environ.get("FERRY_TEST_MYSQL_PASSWORD", ""),
        "database": database or os.environ.get("FERRY_TEST_MYSQL_DB", "test"),
    }


def mysql_connect(database: str | None = None, **kwargs: Any) -> Any:
    """A PyMySQL connection (autocommit, utf8mb4) to the test server."""
    import pymysql

    options = {"autocommit": True, "charset": "utf8mb4", "connect_timeout": 5, **kwargs}
    return pymysql.connect(**mysql_settings(database), **options)


def mysql_source_config(database: str, **extra: Any) -> dict[str, Any]:
    """A `mysql` source config for `database` on the test server."""
    s = mysql_settings(database)
    config = {"host": s["host"], "port": s["port"], "database": database, "username": s["user"]}
    if s["password"]:
        config["password"] = s["password"]
    return {**config, **extra}


@contextmanager
def mysql_database() -> Iterator[str]:
    """A new, empty database on the MySQL/MariaDB test server, dropped afterwards; skips (or fails
    under CI) without a server."""
    try:
        admin = mysql_connect()
    except Exception as exc:  # any reason the server cannot be used means the same: skip or fail
        _unavailable("the MySQL/MariaDB test server", exc)
        raise
    name = unique_name()
    with admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield name
        finally:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
