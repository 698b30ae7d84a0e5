"""`make bench`'s script in its --quick form, so that it cannot rot (its figures are not tested)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_the_benchmark_runs_quick(repo_root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FERRY_BENCH_DATA": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "run.py"), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = [line for line in done.stdout.splitlines() if "->" in line]
    assert len(table) == 6, done.stdout
    assert all(re.search(r"\d+\.\d\d\s+[\d,]+\s+[\d,]+$", line) for line in table), done.stdout
    assert "memory stays flat" in done.stdout
    assert "Ferry vs DuckDB's own read_parquet" in done.stdout
    assert list(tmp_path.glob("*.parquet"))
