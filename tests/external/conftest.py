"""Fixtures for external connectors: a private Ferry data directory, airbyte-source-faker installed once per
session from PyPI, and command: references to the protocol-speaking test program."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from tests.cli.conftest import Ferry

FAKE = Path(__file__).resolve().parent / "fake_connector.py"
FAKER = "pypi:airbyte-source-faker==7.2.1"


def fake(role: str) -> str:
    """The command: reference that runs the fake connector as `role` (source or destination)."""
    return f"command:{sys.executable} {FAKE} {role}"


@pytest.fixture(scope="session")
def ferry_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """FERRY_HOME for the whole session, in this process and in every `ferry` it starts. It is shared by
    pytest-xdist's workers (their temp folders have one parent): the install lock lets one install."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    home = root / "ferry-home"
    home.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FERRY_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def faker_install(ferry_home: Path) -> Any:
    """airbyte-source-faker 7.2.1 in a managed virtualenv (pip's cache makes later sessions quick)."""
    from ferry.engine.installs import ensure_installed

    return ensure_installed("airbyte-source-faker", "7.2.1")


@pytest.fixture
def ferry_cli(tmp_path: Path, ferry_home: Path) -> Ferry:
    return Ferry(tmp_path)


def write_pipeline(directory: Path, pipeline: dict[str, Any], name: str = "pipeline.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    return path


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(sql).fetchall()


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}
