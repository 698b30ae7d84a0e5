"""Benchmark (run on purpose, not a test): a 2,000,000-row, 12-column MariaDB table read to Arrow by the
mysql source, and synced into DuckDB through the engine. Prints rows/s and peak RSS of each, measured
in a fresh process each.

    .venv/bin/python -m tests.connectors.mysql_source.bench_mysql [rows]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.dbs import mysql_database, mysql_source_config

from ferry.cdk import RecordBatch
from ferry.connectors.sources.mysql import MySQLSource
from ferry.engine import MemoryStateStore, StreamSelection
from ferry.protocol import ConfiguredCatalog, ConfiguredStream, DestinationSyncMode, SyncMode

from .helpers import execute, sync_to_duckdb

TABLE = """CREATE TABLE bench (
  id BIGINT PRIMARY KEY, qty INT NOT NULL, amount DECIMAL(12,2), note TEXT, label VARCHAR(64),
  active BOOL, created_at TIMESTAMP(6) NULL, day DATE, payload JSON, uid CHAR(36), score DOUBLE,
  updated_at DATETIME(6))"""
FILL = """INSERT INTO bench SELECT seq, seq % 1000, seq * 1.25, CONCAT('note number ', seq, ' with text'),
  CONCAT('label-', seq % 97), seq % 2, FROM_UNIXTIME(1600000000 + seq),
  DATE_ADD('2020-01-01', INTERVAL seq % 3000 DAY), JSON_OBJECT('k', seq, 'tag', 'x'), UUID(), seq / 7,
  TIMESTAMPADD(SECOND, seq, '2021-01-01 00:00:00') FROM seq_1_to_{rows}"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(what: str, rows: int, seconds: float) -> None:
    rate = rows / seconds
    print(f"{what:<15} {rows:>9,} rows {seconds:6.2f} s {rate:>10,.0f} rows/s peak RSS {peak_mb():5.0f} MB")


def read_to_arrow(database: str) -> None:
    config = mysql_source_config(database)
    source = MySQLSource()
    (stream,) = source.discover(config).streams
    catalog = ConfiguredCatalog(
        [ConfiguredStream(stream, SyncMode.full_refresh, DestinationSyncMode.overwrite)]
    )
    started, rows = time.perf_counter(), 0
    for item in source.read(config, catalog):
        if isinstance(item, RecordBatch):
            rows += item.num_rows
    seconds = time.perf_counter() - started
    report("read to Arrow", rows, seconds)


def sync_into_duckdb(database: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        overwrite = [StreamSelection("bench", None, SyncMode.full_refresh, DestinationSyncMode.overwrite)]
        path = Path(folder) / "w.duckdb"
        result = sync_to_duckdb(mysql_source_config(database), path, overwrite, MemoryStateStore())
        seconds = time.perf_counter() - started
        rows = result.records_committed
    report("sync to DuckDB", rows, seconds)


def main() -> None:
    if len(sys.argv) > 2:  # a child process: one measurement
        {"read": read_to_arrow, "sync": sync_into_duckdb}[sys.argv[1]](sys.argv[2])
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    with mysql_database() as database:
        execute(database, TABLE, FILL.format(rows=rows))
        for what in ("read", "sync"):
            subprocess.run(
                [sys.executable, "-m", "tests.connectors.mysql_source.bench_mysql", what, database],
                check=True,
            )


if __name__ == "__main__":
    main()
