"""`make demo`'s script, run for real on a fresh output directory, so that it cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import summary


@pytest.mark.slow
def test_the_demo_syncs_twice_and_shows_the_counts(repo_root: Path, venv_bin: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FERRY_BIN": str(venv_bin), "DEMO_OUT": str(tmp_path / "out")}
    done = subprocess.run(
        ["bash", str(repo_root / "examples" / "demo" / "run.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    # Sync 1 reads everything, sync 2 only the 20,000 new purchases and users (products are reloaded).
    first, second = out.split("==> Sync 2")
    assert summary(first) == {
        "purchases": (100_000, 100_000),
        "users": (100_000, 100_000),
        "products": (1000, 1000),
    }
    assert summary(second) == {
        "purchases": (20_000, 20_000),
        "users": (20_000, 20_000),
        "products": (1000, 1000),
    }
    for table, rows in (("purchases", "120,000"), ("users", "120,000"), ("products", "1,000")):
        assert re.search(rf"^\s+{table}\s+{rows}\s+{rows}\s+{rows}$", out, flags=re.MULTILINE), out
    assert "nothing lost, nothing duplicated" in out
    for column in ("_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta", "_airbyte_generation_id"):
        assert column in out
    assert (tmp_path / "out" / "shop.duckdb").is_file()
