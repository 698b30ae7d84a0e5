"""Sample data into PostgreSQL through the engine, through `ferry sync` killed and resumed, and through the
Airbyte CLI `ferry-connector destination-postgres write`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ferry.connectors.destinations.postgres import PostgresDestination
from ferry.connectors.sources.sample_data import SampleDataSource
from ferry.engine import (
    InProcessDestination,
    InProcessSource,
    MemoryStateStore,
    StreamSelection,
    Sync,
    configure_catalog,
)
from ferry.protocol import DestinationSyncMode, SyncMode, Type, dumps, loads, message_from_obj, to_obj
from ferry.protocol.builders import record_message

from .helpers import DEDUP, T0, Pg, catalog, configured, counts, state

FERRY = [sys.executable, "-c", "from ferry.cli.main import main; main()"]
COUNT = 20_000
PER_CHECKPOINT = 2_000

SELECTIONS = [
    StreamSelection(
        "purchases", sync_mode=SyncMode.incremental, destination_sync_mode=DestinationSyncMode.append_dedup
    ),
    StreamSelection(
        "users", sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite
    ),
    StreamSelection(
        "products", sync_mode=SyncMode.incremental, destination_sync_mode=DestinationSyncMode.append
    ),
]


def _stats(pg: Pg) -> dict[str, tuple[int, int]]:
    """(rows, distinct ids) per table."""
    return {
        t: pg.query(f"SELECT count(*), count(DISTINCT id) FROM {{s}}.{t}")[0]
        for t in ("purchases", "users", "products")
    }


def test_sample_data_through_the_engine(pg: Pg) -> None:
    source = InProcessSource(SampleDataSource(), {"count": 3000, "seed": 3, "records_per_checkpoint": 1000})
    destination = InProcessDestination(PostgresDestination(), pg.config)
    cat = configure_catalog(source.discover(), SELECTIONS, destination.supported_sync_modes)
    store = MemoryStateStore()
    result = Sync(source, destination, cat, store).run()
    assert result.succeeded, result.error
    stats = _stats(pg)
    assert stats["purchases"] == (3000, 3000)
    assert stats["users"] == (3000, 3000)
    products = stats["products"][0]
    assert products == stats["products"][1] > 0
    assert result.records_committed == 6000 + products
    types = pg.column_types("users")
    assert (types["address"], types["birth_date"], types["created_at"]) == (
        "jsonb",
        "date",
        "timestamp with time zone",
    )
    # a second sync: dedup keeps one row per key, overwrite replaces, append adds
    again = Sync(source, destination, cat, store).run()
    assert again.succeeded, again.error
    assert _stats(pg)["purchases"] == (3000, 3000)
    assert _stats(pg)["users"] == (3000, 3000)


def _pipeline(pg: Pg) -> str:
    config = json.dumps(pg.config)
    return f"""
source:
  type: sample-data
  config: {{count: {COUNT}, seed: 7, records_per_checkpoint: {PER_CHECKPOINT}}}
destination:
  type: postgres
  config: {config}
streams:
  - {{name: purchases, sync_mode: incremental, destination_sync_mode: append_dedup}}
  - {{name: users, sync_mode: full_refresh, destination_sync_mode: overwrite}}
  - {{name: products, sync_mode: incremental, destination_sync_mode: append}}
"""


def _ferry_sync(workdir: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
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
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["batch:7", "commit:3"])
def test_ferry_sync_killed_then_resumed_loses_nothing(pg: Pg, tmp_path: Path, fault: str) -> None:
    (tmp_path / "pipeline.yaml").write_text(_pipeline(pg))
    killed = _ferry_sync(tmp_path, fault)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    if fault.startswith("commit"):
        committed = pg.query(
            "SELECT (SELECT count(*) FROM {s}.purchases) + (SELECT count(*) FROM {s}.products)"
        )
        assert committed[0][0] > 0  # states were committed before the kill
        assert "users" not in pg.tables()  # the overwrite is still staged
    resumed = _ferry_sync(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    stats = _stats(pg)
    assert stats["purchases"] == (COUNT, COUNT)  # dedup: every row, no duplicate key
    assert stats["users"] == (COUNT, COUNT)  # overwrite: the whole new generation
    rows, distinct = stats["products"]
    assert distinct > 0
    assert rows >= distinct  # append: every row, duplicates allowed
    assert pg.tables() >= {"purchases", "users", "products"}
    assert "users_ferry_staging" not in pg.tables()


def test_airbyte_cli_write_reads_json_lines_and_echoes_states(pg: Pg, tmp_path: Path, venv_bin: Path) -> None:
    s = configured(mode=DEDUP)
    (tmp_path / "config.json").write_text(json.dumps(pg.config))
    (tmp_path / "catalog.json").write_bytes(dumps(to_obj(catalog(s))))
    lines: list[Any] = [
        record_message("users", {"id": i % 3, "name": f"n{i}\u0000", "updated": i}, emitted_at=T0)
        for i in range(10)
    ]
    lines.insert(5, state(s, 5))
    lines.append(state(s, 10))
    done = subprocess.run(
        [
            str(venv_bin / "ferry-connector"),
            "destination-postgres",
            "write",
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        input=b"".join(dumps(to_obj(m)) + b"\n" for m in lines),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = [message_from_obj(loads(line)) for line in done.stdout.splitlines() if line.strip()]
    assert counts([m for m in out if m.type is Type.STATE]) == [5.0, 5.0]
    assert pg.users() == [(0, "n9", 9), (1, "n7", 7), (2, "n8", 8)]
