"""`make bench`: rows/s and peak memory of Ferry's data path, printed as a table. Figures, not a timed test.

Every case runs in a subprocess of its own (benchmarks/cases.py), so each peak-memory figure belongs
to one case. `--quick` runs tiny sizes, only to prove the script still works (tests run it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(
    0, str(HERE)
)  # so that `python benchmarks/run.py` finds its sibling modules from any directory

from data import parquet_file  # noqa: E402 - needs the path above

MB = 1024 * 1024
FLAT_MEMORY_RATIO = 1.3
"""Peak memory at 10x the rows may be at most this many times the smaller run's (flat, not growing)."""
FERRY_VS_DUCKDB_GOAL = 2.0
PEAK_RSS_GOAL_MB = 500


@dataclass(frozen=True, slots=True)
class Sizes:
    small: int
    large: int
    parquet: int


FULL = Sizes(small=500_000, large=5_000_000, parquet=2_000_000)
QUICK = Sizes(small=10_000, large=100_000, parquet=50_000)


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    rows: int
    seconds: float
    peak_rss_bytes: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def peak_mb(self) -> float:
        return self.peak_rss_bytes / MB


class CaseError(Exception):
    """A case crashed or moved the wrong number of rows."""


def measure(case: str, rows: int, label: str) -> Figure:
    """Runs one case in a fresh process and work directory; its rows must all arrive."""
    with tempfile.TemporaryDirectory(prefix="ferry-bench-") as workdir:
        done = subprocess.run(
            [sys.executable, str(HERE / "cases.py"), case, str(rows), workdir],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise CaseError(f"{label}: exit code {done.returncode}: {last}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rows"] != rows:
        raise CaseError(f"{label}: {result['rows']:,} rows arrived, {rows:,} expected")
    return Figure(label, rows, result["seconds"], result["peak_rss_bytes"])


def _row(figure: Figure) -> str:
    return (
        f"{figure.label:<50}{figure.rows:>11,}{figure.seconds:>9.2f}{figure.rows_per_second:>13,.0f}"
        f"{figure.peak_mb:>11,.0f}"
    )


def _header() -> str:
    return f"{'case':<50}{'rows':>11}{'seconds':>9}{'rows/s':>13}{'peak MB':>11}"


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def checks(figures: dict[str, Figure]) -> list[str]:
    """The goals, each as one line with the measured ratio; only for the cases that ran."""
    lines = []
    small, large = figures.get("sample-small"), figures.get("sample-large")
    if small and large:
        ratio = large.peak_rss_bytes / small.peak_rss_bytes
        lines.append(
            f"memory stays flat: peak at {large.rows:,} rows is {ratio:.2f}x the peak at {small.rows:,} "
            f"(goal <= {FLAT_MEMORY_RATIO}x): {_verdict(ratio <= FLAT_MEMORY_RATIO)}"
        )
    small, large = figures.get("files-small"), figures.get("files-large")
    if small and large:
        ratio = large.peak_rss_bytes / small.peak_rss_bytes
        lines.append(f"  the same without DuckDB (control, local-files): {ratio:.2f}x")
    ferry, native = figures.get("parquet-ferry"), figures.get("parquet-duckdb")
    if ferry and native:
        ratio = ferry.seconds / native.seconds
        lines.append(
            f"Ferry vs DuckDB's own read_parquet: {ratio:.2f}x the time "
            f"(goal <= {FERRY_VS_DUCKDB_GOAL}x): {_verdict(ratio <= FERRY_VS_DUCKDB_GOAL)}"
        )
    if ferry:
        lines.append(
            f"Ferry's peak memory on the Parquet file: {ferry.peak_mb:,.0f} MB "
            f"(goal < {PEAK_RSS_GOAL_MB} MB): {_verdict(ferry.peak_mb < PEAK_RSS_GOAL_MB)}"
        )
    return lines


def plan(sizes: Sizes) -> list[tuple[str, str, int, str]]:
    """(key, case, rows, label) for every case, in the order they run."""
    return [
        ("sample-small", "sample-data", sizes.small, "sample-data -> duckdb (purchases, full refresh)"),
        ("sample-large", "sample-data", sizes.large, "sample-data -> duckdb (purchases, full refresh)"),
        ("files-small", "sample-files", sizes.small, "control: sample-data -> local-files (parquet)"),
        ("files-large", "sample-files", sizes.large, "control: sample-data -> local-files (parquet)"),
        ("parquet-ferry", "parquet-ferry", sizes.parquet, "parquet -> duckdb, Ferry (file -> duckdb)"),
        ("parquet-duckdb", "parquet-duckdb", sizes.parquet, "parquet -> duckdb, DuckDB CTAS read_parquet"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks that the benchmark runs, measures nothing"
    )
    parser.add_argument(
        "--no-databases",
        action="store_true",
        help="skip benchmarks/databases.py (Postgres -> DuckDB / Postgres vs the floors and dlt, ~5 min)",
    )
    parser.add_argument(
        "--external",
        action="store_true",
        help="also run benchmarks/external.py (Airbyte connectors vs PyAirbyte; installs both, ~25 min)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    print(
        f"Ferry benchmarks{' (--quick: sizes too small for the figures to mean much)' if args.quick else ''}"
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"Parquet input: {parquet_file(sizes.parquet)} (made once, reused)\n")
    print(_header())
    figures: dict[str, Figure] = {}
    failures = []
    for key, case, rows, label in plan(sizes):
        try:
            figures[key] = measure(case, rows, label)
        except CaseError as exc:
            failures.append(str(exc))
            print(f"{label:<50}{rows:>11,}   failed")
            continue
        print(_row(figures[key]), flush=True)
    print()
    for line in checks(figures):
        print(line)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    if not args.no_databases:
        print("\nDatabase copies (benchmarks/databases.py)", flush=True)
        # --quick runs Ferry and the COPY pipe only: the peers' virtualenv takes minutes to build.
        quick = ["--quick", "--only", "ferry,copy", "--drop-source"] if args.quick else ["--repeat", "3"]
        databases = subprocess.run([sys.executable, str(HERE / "databases.py"), *quick], check=False)
        failures += ["database benchmark failed"] if databases.returncode else []
    if args.external and not args.quick:
        print("\nExternal connectors (benchmarks/external.py)", flush=True)
        external = subprocess.run([sys.executable, str(Path(__file__).with_name("external.py"))], check=False)
        failures += ["external benchmark failed"] if external.returncode else []
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
