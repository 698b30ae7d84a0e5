"""Runs the real `ferry` console script as a subprocess, and writes the pipeline files tests use."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def messages(self) -> list[dict[str, Any]]:
        """stdout as Airbyte messages, one JSON object a line."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


class Ferry:
    """`ferry ARGS...` in a directory, as a user would type it (no terminal, so no live progress)."""

    def __init__(self, cwd: Path) -> None:
        script = Path(sys.executable).parent / "ferry"
        # The installed console script when there is one; otherwise its entry point through this interpreter.
        self.command = (
            [str(script)]
            if script.exists()
            else [sys.executable, "-c", "from ferry.cli.main import main; main()"]
        )
        self.cwd = cwd

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None) -> Run:
        inherited = {k: v for k, v in os.environ.items() if k != "FERRY_DEBUG"}
        environ = {**inherited, "COLUMNS": "200", **(env or {})}
        done = subprocess.run(
            [*self.command, *map(str, args)],
            cwd=self.cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def ferry(tmp_path: Path) -> Ferry:
    return Ferry(tmp_path)


@pytest.fixture
def plugin_env(tmp_path: Path, repo_root: Path) -> dict[str, str]:
    """The environment of a process in which the `test-orders` plug-in source is installed."""
    from tests.cli import plugin

    site = tmp_path / "site"
    plugin.install(site)
    path = os.pathsep.join(p for p in (str(site), str(repo_root), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


def write_pipeline(directory: Path, pipeline: dict[str, Any], name: str = "pipeline.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    return path


def write_json(directory: Path, name: str, value: Any) -> Path:
    path = directory / name
    path.write_text(json.dumps(value))
    return path


def shop_pipeline(database: Path, count: int | str = 2000) -> dict[str, Any]:
    """sample-data -> duckdb with purchases and users incremental + dedup, products full refresh."""
    return {
        "source": {"type": "sample-data", "config": {"count": count, "records_per_checkpoint": 1000}},
        "destination": {"type": "duckdb", "config": {"path": str(database)}},
        "streams": [
            {
                "name": "purchases",
                "sync_mode": "incremental",
                "destination_sync_mode": "append_dedup",
                "cursor_field": ["updated_at"],
                "primary_key": [["id"]],
            },
            {"name": "users", "sync_mode": "incremental", "destination_sync_mode": "append_dedup"},
            {"name": "products", "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"},
        ],
    }


_SUMMARY_ROW = re.compile(r"^(\S+)\s+(\w+ \+ \w+)\s+([\d,]+)\s+([\d,]+)\s+(\d+)$", flags=re.MULTILINE)


def summary(stdout: str) -> dict[str, tuple[int, int]]:
    """stream -> (records read, committed), from the summary table `ferry sync` prints."""
    return {
        m[1]: (int(m[3].replace(",", "")), int(m[4].replace(",", ""))) for m in _SUMMARY_ROW.finditer(stdout)
    }
