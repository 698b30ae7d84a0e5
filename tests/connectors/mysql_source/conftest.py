"""Fixtures for the mysql source tests: a database of their own on the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.dbs import mysql_database


@pytest.fixture(scope="module")
def mysql_db() -> Iterator[str]:
    """A database of this test module, dropped when the module is done."""
    with mysql_database() as name:
        yield name
