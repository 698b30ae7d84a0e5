"""One measured benchmark case, run in a process of its own so that its peak memory is its own.

`python benchmarks/cases.py CASE ROWS WORKDIR` prints one JSON line: rows, seconds, peak_rss_bytes.
The clock covers the data movement only (not interpreter start-up or imports); the peak covers the
whole process, which is what a user's machine has to hold.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Case = Callable[[int, Path], int]
"""Runs a case over `rows` rows in a work directory and returns the rows that arrived."""


def sample_data_to_duckdb(rows: int, workdir: Path) -> int:
    """sample-data purchases -> DuckDB, full refresh + overwrite, through Ferry's engine."""
    return ferry_sync(
        "sample-data",
        {"count": rows},
        {"path": str(workdir / "sample.duckdb")},
        "purchases",
    )


def sample_data_to_files(rows: int, workdir: Path) -> int:
    """The same stream -> Parquet files: the engine without DuckDB, to tell whose memory grows."""
    return ferry_sync(
        "sample-data",
        {"count": rows},
        {"path": str(workdir / "files")},
        "purchases",
        destination="local-files",
    )


def parquet_to_duckdb_with_ferry(rows: int, workdir: Path) -> int:
    """A Parquet file -> DuckDB through Ferry's `file` source and `duckdb` destination."""
    from data import parquet_file

    path = parquet_file(rows)
    return ferry_sync(
        "file",
        {"streams": [{"name": "events", "path": str(path), "format": "parquet"}]},
        {"path": str(workdir / "ferry.duckdb")},
        "events",
    )


def parquet_to_duckdb_natively(rows: int, workdir: Path) -> int:
    """The same Parquet file loaded by DuckDB itself: CREATE TABLE ... AS SELECT * FROM read_parquet(...)."""
    import duckdb

    from data import parquet_file

    path = parquet_file(rows)
    con = duckdb.connect(str(workdir / "native.duckdb"))
    con.execute("CREATE TABLE events AS SELECT * FROM read_parquet(?)", [str(path)])
    result = con.execute("SELECT count(*) FROM events").fetchone()
    con.close()
    return int(result[0]) if result else 0


def ferry_sync(
    source: str,
    source_config: dict[str, Any],
    destination_config: dict[str, Any],
    stream: str,
    destination: str = "duckdb",
    *,
    namespace: str | None = None,
) -> int:
    """Full refresh + overwrite of one stream through Ferry's engine; returns the rows committed."""
    from ferry.connectors import registry
    from ferry.engine import (
        InProcessDestination,
        InProcessSource,
        MemoryStateStore,
        StreamSelection,
        Sync,
        configure_catalog,
    )
    from ferry.protocol import DestinationSyncMode, SyncMode

    src = InProcessSource(registry.source(source), source_config)
    dst = InProcessDestination(registry.destination(destination), destination_config)
    selection = StreamSelection(
        stream,
        namespace=namespace,
        sync_mode=SyncMode.full_refresh,
        destination_sync_mode=DestinationSyncMode.overwrite,
    )
    catalog = configure_catalog(src.discover(), [selection], dst.supported_sync_modes)
    result = Sync(src, dst, catalog, MemoryStateStore()).run()
    if result.error is not None:
        raise SystemExit(f"error: the sync failed: {result.error}")
    return result.records_committed


CASES: dict[str, Case] = {
    "sample-data": sample_data_to_duckdb,
    "sample-files": sample_data_to_files,
    "parquet-ferry": parquet_to_duckdb_with_ferry,
    "parquet-duckdb": parquet_to_duckdb_natively,
}


def peak_rss_bytes() -> int:
    """This process's high-water mark of resident memory (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux kibibytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def main(argv: list[str]) -> None:
    name, rows, workdir = argv[0], int(argv[1]), Path(argv[2])
    case = CASES[name]
    # Imported before the clock starts: start-up time is not what the rows/s figure is about.
    import duckdb  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import ferry.engine  # noqa: F401

    started = time.perf_counter()
    arrived = case(rows, workdir)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": arrived, "seconds": seconds, "peak_rss_bytes": peak_rss_bytes()}))


if __name__ == "__main__":
    main(sys.argv[1:])
