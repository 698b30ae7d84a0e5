"""Fixtures for the postgres source tests: one database per session, one schema per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.dbs import pg_database, unique_name

from .helpers import Pg


@pytest.fixture(scope="session")
def pg_db() -> Iterator[str]:
    with pg_database() as name:
        yield name


@pytest.fixture
def pg(pg_db: str) -> Iterator[Pg]:
    helper = Pg(pg_db, unique_name("s"))
    try:
        yield helper
    finally:
        helper.close()
