"""SIGKILL `ferry sync` mid-table while it copies MariaDB tables into DuckDB, then run it again: every
row is there, and no key is duplicated in the append_dedup table or in the resumed overwrite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from tests.dbs import mysql_source_config

from .helpers import execute

ORDERS = 200_000
ITEMS = 60_000
PER_CHECKPOINT = 20_000
FERRY = [sys.executable, "-c", "from ferry.cli.main import main; main()"]


@pytest.fixture(scope="module")
def pipeline(mysql_db: str) -> str:
    execute(
        mysql_db,
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, amount DECIMAL(10,2), updated_at DATETIME NOT NULL)",
        # Ties on the cursor across chunk boundaries: 1000 rows per second of updated_at.
        f"INSERT INTO orders SELECT seq, seq / 100, TIMESTAMPADD(SECOND, seq DIV 1000, '2024-01-01') "
        f"FROM seq_1_to_{ORDERS}",
        "CREATE TABLE items (sku VARCHAR(12) PRIMARY KEY, qty INT)",
        f"INSERT INTO items SELECT CONCAT('sku-', LPAD(seq, 7, '0')), seq FROM seq_1_to_{ITEMS}",
    )
    config = mysql_source_config(mysql_db, records_per_checkpoint=PER_CHECKPOINT)
    return (
        f"source:\n  type: mysql\n  config: {json.dumps(config)}\n"
        "destination:\n  type: duckdb\n  config: {path: ./warehouse.duckdb}\n"
        "streams:\n"
        "  - {name: orders, sync_mode: incremental, destination_sync_mode: append_dedup, "
        "cursor_field: [updated_at], primary_key: [[id]]}\n"
        "  - {name: items, sync_mode: full_refresh, destination_sync_mode: overwrite}\n"
    )


def sync(workdir: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FERRY_FAULT"}
    if fault:
        env["FERRY_FAULT"] = fault
    return subprocess.run(
        [*FERRY, "sync", "pipeline.yaml", "--quiet", "--commit-every", "0"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stats(workdir: Path, database: str) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as con:
        return {
            table: con.execute(
                f'SELECT count(*), count(DISTINCT {key}) FROM "{database}"."{table}"'
            ).fetchone()
            for table, key in (("orders", "id"), ("items", "sku"))
        }  # type: ignore[misc]


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["batch:4", "batch:13"])
def test_killed_sync_resumes_without_losing_or_duplicating_rows(
    tmp_path: Path, mysql_db: str, pipeline: str, fault: str
) -> None:
    (tmp_path / "pipeline.yaml").write_text(pipeline)
    killed = sync(tmp_path, fault)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    resumed = sync(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert stats(tmp_path, mysql_db) == {"orders": (ORDERS, ORDERS), "items": (ITEMS, ITEMS)}
