"""SIGKILL of `ferry sync` in the middle of a 200,000-row table, then a second run: every row present,
no duplicate key in the append_dedup table, and the full refresh resumed from its checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from tests.dbs import pg_source_config, unique_name

from .helpers import Pg

ROWS = 200_000
FERRY = [sys.executable, "-c", "from ferry.cli.main import main; main()"]


def _pipeline(pg: Pg) -> str:
    source = pg_source_config(pg.database, schemas=[pg.schema], checkpoint_rows=20_000)
    return json.dumps(
        {
            "source": {"type": "postgres", "config": source},
            "destination": {"type": "duckdb", "config": {"path": "./warehouse.duckdb"}},
            "streams": [
                {
                    "name": "events",
                    "sync_mode": "incremental",
                    "destination_sync_mode": "append_dedup",
                    "cursor_field": ["updated_at"],
                },
                {"name": "snapshot", "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"},
            ],
        }
    )


def _sync(workdir: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FERRY_FAULT"}
    if fault:
        env["FERRY_FAULT"] = fault
    command = [*FERRY, "sync", "pipeline.yaml", "--quiet", "--commit-every", "0"]
    return subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _stats(workdir: Path, schema: str) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as con:
        out = {}
        for table in ("events", "snapshot"):
            row = con.execute(f'SELECT count(*), count(DISTINCT id) FROM "{schema}".{table}').fetchone()
            assert row is not None
            out[table] = (int(row[0]), int(row[1]))
        return out


@pytest.fixture(scope="module")
def big_tables(pg_db: str) -> Iterator[Pg]:
    pg = Pg(pg_db, unique_name("s"))
    pg.run(
        "CREATE TABLE events (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, body text)",
        # 50 rows share each cursor value, so checkpoints fall inside runs of equal values.
        f"INSERT INTO events SELECT i, timestamptz '2024-01-01 00:00+00' + (i / 50) * interval '1 second', "
        f"md5(i::text) FROM generate_series(1, {ROWS}) i",
        f"CREATE TABLE snapshot AS SELECT i AS id, md5(i::text) AS body FROM generate_series(1, {ROWS}) i",
        "ALTER TABLE snapshot ADD PRIMARY KEY (id)",
    )
    try:
        yield pg
    finally:
        pg.close()


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["batch:6", "commit:13"])
def test_killed_sync_resumes_without_losing_or_duplicating_rows(
    big_tables: Pg, tmp_path: Path, fault: str
) -> None:
    """batch:6 kills mid-`events` before a commit; commit:13 kills mid-`snapshot` after the destination
    committed a state that Ferry had not saved yet."""
    (tmp_path / "pipeline.yaml").write_text(_pipeline(big_tables))
    killed = _sync(tmp_path, fault)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    resumed = _sync(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    stats = _stats(tmp_path, big_tables.schema)
    assert stats["events"] == (ROWS, ROWS)  # append_dedup: every row, each key once
    rows, keys = stats["snapshot"]
    assert keys == ROWS  # overwrite: every row; at least once, so the rows of a state committed
    assert rows == ROWS if fault.startswith("batch") else rows >= ROWS  # but not saved may come twice
    if fault.startswith("batch"):
        _later_runs_read_boundary_and_changed_rows(big_tables, tmp_path)


def _later_runs_read_boundary_and_changed_rows(pg: Pg, workdir: Path) -> None:
    pg.run("UPDATE events SET updated_at = updated_at + interval '1 day', body = 'changed' WHERE id <= 10")
    assert _sync(workdir).returncode == 0
    assert _stats(workdir, pg.schema)["events"] == (ROWS, ROWS)
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as con:
        query = f"SELECT count(*) FROM \"{pg.schema}\".events WHERE body = 'changed'"
        assert con.execute(query).fetchone() == (10,)
