"""Database copies: Ferry against the floors and dlt, seconds, rows/s and peak memory, printed (figures, not a test).

A 2,000,000-row, 12-column table (bigint key, int, numeric(12,2), text, varchar, bool, timestamptz,
date, jsonb, uuid, float8, timestamp) on the local PostgreSQL server is copied with full refresh

- Postgres -> DuckDB by Ferry (`postgres` source, `duckdb` destination), by DuckDB's own postgres
  extension (`CREATE TABLE ... AS SELECT * FROM pg.public.bench`: the floor) and by dlt's
  `sql_database` source with its connectorx backend;
- Postgres -> Postgres (another database on the same server) by Ferry, by `psql -c "COPY ... TO STDOUT"
  | psql -c "COPY ... FROM STDIN"` (the floor) and by dlt (connectorx, loaded by COPY from CSV).

    python benchmarks/databases.py [--rows N] [--repeat K] [--quick] [--only ferry,copy,...] [--drop-source]

The peers run in their own virtualenv (benchmarks/.data/peers: dlt 1.31.0 with connectorx, and
duckdb 1.5.5 with `duckdb-extension-postgres` 1.5.5 from PyPI, since `INSTALL postgres` cannot
download here). Every case runs in a fresh process; its clock covers the copy only (not interpreter
start-up or imports), its peak is the larger of the process's own high-water mark and its children's
(psql). Each case's rows are counted in the destination afterwards and must all be there. With
`--repeat K` every case runs K times and the fastest run is shown (the machine is shared and noisy).
The source table is made once (SQL generate_series, deterministic values) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".data" / "peers"
PEER_PACKAGES = [
    "dlt[postgres,duckdb,sql_database]==1.31.0",
    "connectorx==0.4.6",
    "duckdb==1.5.5",
    "duckdb-extension-postgres==1.5.5",
]
TABLE = "bench"
SOURCE_DB = TARGET_DB = ""
"""Set by main() and by --case from the row count: one source database per size, kept between runs."""
MB = 1024 * 1024
FULL, QUICK = 2_000_000, 20_000

FLOOR_RATIO_GOAL = 2.0
"""Ferry may take at most this many times the floor's time."""
PEER_SPEEDUP_GOAL = 1.5
"""Ferry should be at least this many times faster than dlt."""
PEAK_RSS_GOAL_MB = 400


# -- the server and the source table ---------------------------------------------------------------


def pg_settings(database: str) -> dict[str, Any]:
    """The benchmark server, from the same FERRY_TEST_PG_* variables the tests use."""
    return {
        "host": os.environ.get("FERRY_TEST_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("FERRY_TEST_PG_PORT", "5432")),
        "user": os.environ.get("FERRY_TEST_PG_USER", "postgres"),
        "password": os.environ.get("FERRY_TEST_PG_PASSWORD", ""),
        "dbname": database,
    }


def _libpq(database: str) -> str:
    s = pg_settings(database)
    dsn = f"host={s['host']} port={s['port']} user={s['user']} dbname={database}"
    return dsn + (f" password={s['password']}" if s["password"] else "")


def _url(database: str, driver: str = "postgresql") -> str:
    s = pg_settings(database)
    # dlt insists on a password; a trust-auth server ignores the placeholder.
    auth = f"{s['user']}:{s['password'] or 'trust'}"
    return f"{driver}://{auth}@{s['host']}:{s['port']}/{database}"


def _connect(database: str) -> Any:
    import psycopg

    return psycopg.connect(**pg_settings(database), autocommit=True, connect_timeout=5)


TABLE_SQL = f"""
CREATE TABLE {TABLE} (
    id          bigint PRIMARY KEY,
    account_id  integer NOT NULL,
    amount      numeric(12, 2),
    name        text,
    code        varchar(16),
    active      boolean,
    created_at  timestamptz,
    day         date,
    attrs       jsonb,
    ref         uuid,
    score       double precision,
    updated_at  timestamp
)"""

FILL_SQL = f"""
INSERT INTO {TABLE}
SELECT i,
       (i % 100000)::int,
       ((i * 7919) % 10000000) / 100.0,
       'customer ' || md5(i::text),
       'C' || (i % 997),
       i % 3 = 0,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second',
       date '2020-01-01' + (i % 2000)::int,
       jsonb_build_object('kind', i % 10, 'tags', jsonb_build_array('a', 'b'), 'score', i % 1000),
       md5(i::text)::uuid,
       (i % 100000) / 7.0,
       timestamp '2024-01-01 00:00:00' + i * interval '1 minute'
FROM generate_series(1::bigint, ROWS) AS i"""


def _recreate_database(name: str) -> None:
    with _connect("postgres") as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')


def ensure_source(rows: int) -> None:
    """The source table with exactly `rows` rows; made (and analysed) only when it is not there yet."""
    try:
        with _connect(SOURCE_DB) as con:
            found = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        if found and found[0] == rows:
            return
    except Exception:  # a missing database or table just means: make it
        pass
    print(f"making {SOURCE_DB}.{TABLE} with {rows:,} rows ...", flush=True)
    _recreate_database(SOURCE_DB)
    with _connect(SOURCE_DB) as con:
        con.execute(TABLE_SQL)
        con.execute(FILL_SQL.replace("ROWS", str(int(rows))))
        con.execute(f"VACUUM ANALYZE {TABLE}")


def count_in_postgres(database: str, table: str, schema: str = "public") -> int:
    with _connect(database) as con:
        row = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
    return int(row[0]) if row else 0


def count_in_duckdb(path: Path, table: str) -> int:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        if row is None:
            return 0
        counted = con.execute(f'SELECT count(*) FROM "{row[0]}"."{table}"').fetchone()
        return int(counted[0]) if counted else 0
    finally:
        con.close()


# -- the cases (each runs in a fresh process: `databases.py --case NAME WORKDIR`) -------------------


def _ferry(destination: str, destination_config: dict[str, Any]) -> int:
    from cases import ferry_sync  # a sibling module: the same engine run as `make bench`'s other cases

    s = pg_settings(SOURCE_DB)
    source_config = {
        "host": s["host"],
        "port": s["port"],
        "database": SOURCE_DB,
        "username": s["user"],
        "schemas": ["public"],
        **({"password": s["password"]} if s["password"] else {}),
    }
    return ferry_sync("postgres", source_config, destination_config, TABLE, destination, namespace="public")


def case_ferry_duckdb(workdir: Path) -> tuple[float, int]:
    path = workdir / "ferry.duckdb"
    started = time.perf_counter()
    _ferry("duckdb", {"path": str(path)})
    seconds = time.perf_counter() - started
    return seconds, count_in_duckdb(path, TABLE)


def case_ferry_postgres(workdir: Path) -> tuple[float, int]:
    s = pg_settings(TARGET_DB)
    config = {"host": s["host"], "port": s["port"], "database": TARGET_DB, "username": s["user"]}
    config.update({"password": s["password"]} if s["password"] else {})
    started = time.perf_counter()
    _ferry("postgres", config)
    seconds = time.perf_counter() - started
    return seconds, count_in_postgres(TARGET_DB, TABLE)


def case_copy_pipe(workdir: Path) -> tuple[float, int]:
    """psql | psql, text COPY: what the server itself moves, the floor for Postgres -> Postgres.

    The target table has the source's columns but no primary key, like the tables Ferry's overwrite
    and DuckDB's CTAS make: the floor is the data movement alone, not an index build.
    """
    with _connect(TARGET_DB) as con:
        con.execute(f"DROP TABLE IF EXISTS {TABLE}")
        con.execute(TABLE_SQL.replace(" PRIMARY KEY", ""))
    out = f"COPY {TABLE} TO STDOUT"
    into = f"COPY {TABLE} FROM STDIN"
    pipe = f"psql -X -q -d '{_libpq(SOURCE_DB)}' -c '{out}' | psql -X -q -d '{_libpq(TARGET_DB)}' -c '{into}'"
    started = time.perf_counter()
    subprocess.run(["bash", "-o", "pipefail", "-c", pipe], check=True)
    seconds = time.perf_counter() - started
    return seconds, count_in_postgres(TARGET_DB, TABLE)


def _duckdb_postgres_extension() -> Path:
    import duckdb
    import duckdb_extension_postgres  # type: ignore[import-not-found]

    root = Path(duckdb_extension_postgres.__file__).parent / "extensions"
    path = root / f"v{duckdb.__version__}" / "postgres.duckdb_extension"
    if not path.exists():
        raise SystemExit(f"error: no postgres extension for duckdb {duckdb.__version__} under {root}")
    return path


def case_duckdb_extension(workdir: Path) -> tuple[float, int]:
    """DuckDB's postgres extension, CREATE TABLE AS SELECT: the floor for Postgres -> DuckDB."""
    import duckdb

    path = workdir / "native.duckdb"
    # The wheel names the file after the alias; DuckDB finds the entry point by the file's name.
    extension = workdir / "postgres_scanner.duckdb_extension"
    extension.symlink_to(_duckdb_postgres_extension())
    con = duckdb.connect(str(path))
    con.execute(f"LOAD '{extension}'")
    started = time.perf_counter()
    con.execute(f"ATTACH '{_libpq(SOURCE_DB)}' AS pg (TYPE postgres, READ_ONLY)")
    con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM pg.public.{TABLE}")
    seconds = time.perf_counter() - started
    con.close()
    return seconds, count_in_duckdb(path, TABLE)


def _dlt_run(workdir: Path, destination: Any, **run: Any) -> float:
    import dlt
    from dlt.sources.sql_database import sql_table

    os.environ["DLT_DATA_DIR"] = str(workdir / "dlt-data")
    table = sql_table(
        credentials=_url(SOURCE_DB, "postgresql+psycopg2"),
        table=TABLE,
        schema="public",
        backend="connectorx",
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=str(workdir / "pipelines"),
        destination=destination,
        dataset_name="bench_data",
    )
    started = time.perf_counter()
    pipeline.run(table, write_disposition="replace", **run)
    return time.perf_counter() - started


def case_dlt_duckdb(workdir: Path) -> tuple[float, int]:
    import dlt

    path = workdir / "dlt.duckdb"
    seconds = _dlt_run(workdir, dlt.destinations.duckdb(str(path)))
    return seconds, count_in_duckdb(path, TABLE)


def case_dlt_postgres(workdir: Path) -> tuple[float, int]:
    import dlt

    destination = dlt.destinations.postgres(_url(TARGET_DB))
    seconds = _dlt_run(workdir, destination, loader_file_format="csv")
    return seconds, count_in_postgres(TARGET_DB, TABLE, schema="bench_data")


@dataclass(frozen=True, slots=True)
class Case:
    key: str
    label: str
    run: Any
    group: str
    """ferry, copy, extension or dlt: what --only picks, and which interpreter runs it."""
    target: str
    """duckdb or postgres: a postgres case gets a fresh target database."""

    @property
    def peer(self) -> bool:
        return self.group in {"extension", "dlt"}


CASES = [
    Case("ferry-duckdb", "Ferry postgres -> duckdb", case_ferry_duckdb, "ferry", "duckdb"),
    Case("extension", "floor: DuckDB postgres extension, CTAS", case_duckdb_extension, "extension", "duckdb"),
    Case("dlt-duckdb", "dlt sql_database (connectorx) -> duckdb", case_dlt_duckdb, "dlt", "duckdb"),
    Case("ferry-postgres", "Ferry postgres -> postgres", case_ferry_postgres, "ferry", "postgres"),
    Case("copy-pipe", "floor: psql COPY TO STDOUT | COPY FROM STDIN", case_copy_pipe, "copy", "postgres"),
    Case(
        "dlt-postgres",
        "dlt sql_database (connectorx) -> postgres (csv)",
        case_dlt_postgres,
        "dlt",
        "postgres",
    ),
]
BY_KEY = {case.key: case for case in CASES}


def use_databases(rows: int) -> None:
    """One source database per size (FERRY_BENCH_DB_PREFIX lets parallel runs keep apart)."""
    global SOURCE_DB, TARGET_DB
    prefix = os.environ.get("FERRY_BENCH_DB_PREFIX", "ferry_bench")
    SOURCE_DB, TARGET_DB = f"{prefix}_src_{rows}", f"{prefix}_dst_{rows}"


def run_case(key: str, rows: int, workdir: Path) -> None:
    use_databases(rows)
    if BY_KEY[key].group == "ferry":
        # Imported before the clock starts, as the peers import theirs: start-up is not the copy.
        import adbc_driver_postgresql.dbapi  # noqa: F401
        import duckdb  # noqa: F401

        import ferry.connectors.destinations.duckdb
        import ferry.connectors.destinations.postgres
        import ferry.connectors.sources.postgres
        import ferry.engine  # noqa: F401
    seconds, rows = BY_KEY[key].run(workdir)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss": max(own, children)}))


# -- the driver --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    case: Case
    rows: int
    seconds: float
    peak_rss: int

    @property
    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        return (
            f"{self.case.label:<52}{self.rows:>11,}{self.seconds:>9.2f}{rate:>13,.0f}"
            f"{self.peak_rss / MB:>10,.0f}"
        )


HEADER = f"{'case':<52}{'rows':>11}{'seconds':>9}{'rows/s':>13}{'peak MB':>10}"


def ensure_peers() -> Path:
    """The peers' virtualenv, made on first use and reused (its packages pinned above)."""
    python = PEERS / "bin" / "python"
    marker = PEERS / ".installed"
    if marker.exists() and marker.read_text() == "\n".join(PEER_PACKAGES):
        return python
    print(f"installing the peers into {PEERS} (once) ...", flush=True)
    if PEERS.exists():
        shutil.rmtree(PEERS)
    subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "psycopg[binary]>=3.1", *PEER_PACKAGES], check=True)
    marker.write_text("\n".join(PEER_PACKAGES))
    return python


class CaseError(Exception):
    pass


def measure(case: Case, rows: int, python: str) -> Figure:
    if case.target == "postgres":
        _recreate_database(TARGET_DB)
    with tempfile.TemporaryDirectory(prefix="ferry-bench-db-") as workdir:
        done = subprocess.run(
            [python, str(Path(__file__).resolve()), "--case", case.key, str(rows), workdir],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise CaseError(f"{case.label}: exit code {done.returncode}: {last}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rows"] != rows:
        raise CaseError(f"{case.label}: {result['rows']:,} rows arrived, {rows:,} expected")
    return Figure(case, rows, result["seconds"], result["peak_rss"])


def checks(figures: dict[str, Figure]) -> list[str]:
    lines = []

    def ratio_line(what: str, ours: str, theirs: str, goal: str, ok: Any) -> None:
        if ours in figures and theirs in figures:
            ratio = figures[ours].seconds / figures[theirs].seconds
            lines.append(f"{what}: {ratio:.2f}x ({goal}): {'yes' if ok(ratio) else 'NO'}")

    ratio_line(
        "Ferry postgres -> duckdb vs the DuckDB extension",
        "ferry-duckdb",
        "extension",
        f"goal <= {FLOOR_RATIO_GOAL}x the time",
        lambda r: r <= FLOOR_RATIO_GOAL,
    )
    ratio_line(
        "Ferry postgres -> postgres vs the COPY pipe",
        "ferry-postgres",
        "copy-pipe",
        f"goal <= {FLOOR_RATIO_GOAL}x the time",
        lambda r: r <= FLOOR_RATIO_GOAL,
    )
    for target in ("duckdb", "postgres"):
        ours, theirs = f"ferry-{target}", f"dlt-{target}"
        if ours in figures and theirs in figures:
            speedup = figures[theirs].seconds / figures[ours].seconds
            ok = speedup >= PEER_SPEEDUP_GOAL
            lines.append(
                f"Ferry postgres -> {target} vs dlt: {speedup:.2f}x faster "
                f"(goal >= {PEER_SPEEDUP_GOAL}x): {'yes' if ok else 'NO'}"
            )
    for key in ("ferry-duckdb", "ferry-postgres"):
        if key in figures:
            peak = figures[key].peak_rss / MB
            lines.append(
                f"{figures[key].case.label} peak RSS: {peak:,.0f} MB "
                f"(goal < {PEAK_RSS_GOAL_MB} MB): {'yes' if peak < PEAK_RSS_GOAL_MB else 'NO'}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, help=f"rows in the source table (default {FULL:,})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} rows: proves the script runs")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest is shown")
    parser.add_argument(
        "--only", help="comma-separated groups to run: ferry, copy, extension, dlt (default: all)"
    )
    parser.add_argument(
        "--drop-source", action="store_true", help="drop the source database afterwards (default: keep it)"
    )
    parser.add_argument("--case", nargs=3, metavar=("NAME", "ROWS", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        run_case(args.case[0], int(args.case[1]), Path(args.case[2]))
        return 0
    rows = args.rows or (QUICK if args.quick else FULL)
    groups = set(args.only.split(",")) if args.only else {c.group for c in CASES}
    if unknown := groups - {c.group for c in CASES}:
        parser.error(f"unknown groups {sorted(unknown)}; choose from ferry, copy, extension, dlt")
    cases = [c for c in CASES if c.group in groups]
    use_databases(rows)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    ensure_source(rows)
    peer_python = str(ensure_peers()) if any(c.peer for c in cases) else ""
    print(
        f"\n{rows:,} rows x 12 columns from {SOURCE_DB}.public.{TABLE}, full refresh, best of {args.repeat}\n"
    )
    print(HEADER)
    figures: dict[str, Figure] = {}
    failures = []
    for case in cases:
        try:
            runs = [
                measure(case, rows, peer_python if case.peer else sys.executable) for _ in range(args.repeat)
            ]
        except CaseError as exc:
            failures.append(str(exc))
            print(f"{case.label:<52}{rows:>11,}   failed", flush=True)
            continue
        figures[case.key] = min(runs, key=lambda f: f.seconds)
        print(figures[case.key].line, flush=True)
    print()
    for line in checks(figures):
        print(line)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    with _connect("postgres") as con:
        con.execute(f'DROP DATABASE IF EXISTS "{TARGET_DB}" WITH (FORCE)')
        if args.drop_source:
            con.execute(f'DROP DATABASE IF EXISTS "{SOURCE_DB}" WITH (FORCE)')
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
