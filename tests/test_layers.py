"""The layering holds: import-linter's contracts pass, and importing the core loads no database driver."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DRIVERS = (
    "duckdb",
    "psycopg",
    "psycopg2",
    "psycopg_pool",
    "asyncpg",
    "pymysql",
    "MySQLdb",
    "mysql",
    "pyodbc",
    "sqlalchemy",
    "snowflake",
    "clickhouse_driver",
    "clickhouse_connect",
    "google.cloud.bigquery",
    "boto3",
    "botocore",
    "redis",
    "celery",
    "kafka",
    "confluent_kafka",
)


def test_import_linter_contracts_hold(venv_bin: Path, repo_root: Path) -> None:
    done = subprocess.run(
        [str(venv_bin / "lint-imports"), "--no-cache"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout
    assert "0 broken" in done.stdout


def _modules_after(statement: str) -> set[str]:
    """Top-level names of the modules loaded by `statement` in a fresh interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _loaded_drivers(modules: set[str]) -> list[str]:
    return [d for d in DRIVERS if d in modules]


@pytest.mark.parametrize("module", ["ferry", "ferry.protocol", "ferry.errors", "ferry.cdk"])
def test_core_imports_no_driver(module: str) -> None:
    assert _loaded_drivers(_modules_after(f"import {module}")) == []


def test_import_ferry_loads_only_the_standard_library() -> None:
    loaded = {name.split(".")[0] for name in _modules_after("import ferry")}
    outside = (
        loaded - set(sys.stdlib_module_names) - {"ferry", "__main__", "_distutils_hack", "sitecustomize"}
    )
    assert outside == set()


def test_protocol_needs_nothing_but_orjson() -> None:
    # The leaf layer: plain message types and one codec, no Arrow, no validation library.
    loaded = {name.split(".")[0] for name in _modules_after("import ferry.protocol")}
    outside = (
        loaded - set(sys.stdlib_module_names) - {"ferry", "__main__", "_distutils_hack", "sitecustomize"}
    )
    assert outside == {"orjson"}
