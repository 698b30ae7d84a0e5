"""SIGKILL of `ferry sync` at many points, then a second run: every source row present, no duplicate keys.

Kill points: while batches are in flight (not committed), right after the destination committed a
state but before Ferry saved it, halfway through writing the state file, right after saving, and at
random instants. These tests are never skipped.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

COUNT = 40_000
PER_CHECKPOINT = 4_000
FERRY = [sys.executable, "-c", "from ferry.cli.main import main; main()"]

PIPELINE = f"""
source:
  type: sample-data
  config: {{count: {COUNT}, seed: 7, records_per_checkpoint: {PER_CHECKPOINT}}}
destination:
  type: duckdb
  config: {{path: ./warehouse.duckdb}}
streams:
  - {{name: purchases, sync_mode: incremental, destination_sync_mode: append_dedup}}
  - {{name: users, sync_mode: full_refresh, destination_sync_mode: overwrite}}
  - {{name: products, sync_mode: incremental, destination_sync_mode: append}}
"""


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


def table_stats(workdir: Path) -> dict[str, tuple[int, int]]:
    """(rows, distinct ids) per table."""
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as con:
        return {
            t: con.execute(f'SELECT count(*), count(DISTINCT id) FROM main."{t}"').fetchone()  # type: ignore[misc]
            for t in ("purchases", "users", "products")
        }


def assert_complete(workdir: Path, products: int) -> None:
    stats = table_stats(workdir)
    assert stats["purchases"] == (COUNT, COUNT), stats  # dedup: every row, no duplicate key
    assert stats["users"] == (COUNT, COUNT), stats  # overwrite: the whole new generation
    rows, distinct = stats["products"]
    assert distinct == products and rows >= products, stats  # append: every row, duplicates allowed


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> int:
    """An uninterrupted sync: how many products exist."""
    workdir = tmp_path_factory.mktemp("reference")
    (workdir / "pipeline.yaml").write_text(PIPELINE)
    done = sync(workdir)
    assert done.returncode == 0, done.stderr
    stats = table_stats(workdir)
    assert stats["purchases"] == (COUNT, COUNT)
    return stats["products"][1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault", ["batch:3", "batch:17", "commit:1", "commit:6", "state_written:4", "saved:5"]
)
def test_kill_at_a_fault_point_then_resume(tmp_path: Path, reference: int, fault: str) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    killed = sync(tmp_path, fault)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    resumed = sync(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_complete(tmp_path, reference)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_at_a_random_instant_then_resume(tmp_path: Path, reference: int, seed: int) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    rng = random.Random(seed)
    proc = subprocess.Popen(
        [*FERRY, "sync", "pipeline.yaml", "--quiet", "--commit-every", "10000"],  # coalesced checkpoints
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(rng.uniform(0.8, 2.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    resumed = sync(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_complete(tmp_path, reference)


@pytest.mark.slow
def test_killed_overwrite_leaves_the_previous_generation_whole(tmp_path: Path, reference: int) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    assert sync(tmp_path).returncode == 0
    before = table_stats(tmp_path)["users"]
    assert sync(tmp_path, "batch:5").returncode == -signal.SIGKILL
    assert table_stats(tmp_path)["users"] == before  # readers still see the old, complete table
    assert sync(tmp_path).returncode == 0
    assert_complete(tmp_path, reference)
