"""`make bench`'s script in its --quick form, so that it cannot rot (its figures are not tested)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.dbs import pg_connect, pg_database, unique_name


def test_the_benchmark_runs_quick(repo_root: Path, tmp_path: Path) -> None:
    with pg_database():
        pass  # the database copies need the Postgres server: without one this skips (fails under CI)
    prefix = unique_name("ferry_tb")
    env = {**os.environ, "FERRY_BENCH_DATA": str(tmp_path), "FERRY_BENCH_DB_PREFIX": prefix}
    done = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "run.py"), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    core, databases = done.stdout.split("Database copies")
    table = [line for line in core.splitlines() if "->" in line]
    assert len(table) == 6, done.stdout
    assert all(re.search(r"\d+\.\d\d\s+[\d,]+\s+[\d,]+$", line) for line in table), done.stdout
    assert "memory stays flat" in done.stdout
    assert "Ferry vs DuckDB's own read_parquet" in done.stdout
    assert list(tmp_path.glob("*.parquet"))
    copies = [line for line in databases.splitlines() if re.search(r"\d+\.\d\d\s+[\d,]+\s+[\d,]+$", line)]
    assert [line.split("  ")[0] for line in copies] == [
        "Ferry postgres -> duckdb",
        "Ferry postgres -> postgres",
        "floor: psql COPY TO STDOUT | COPY FROM STDIN",
    ], databases
    assert "Ferry postgres -> postgres vs the COPY pipe" in databases
    with pg_connect("postgres") as con:  # --drop-source removed what the run made
        left = con.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s", [prefix + "%"]
        ).fetchone()
    assert left == (0,)
