"""Acceptance: airbyte-source-faker from PyPI syncs users, products and purchases into DuckDB through
`ferry sync`, incrementally with dedup, twice, with its state carried from the first run to the second."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Ferry, summary
from tests.external.conftest import FAKER, query, write_pipeline

COUNT = 300
STREAMS = ("users", "products", "purchases")


def faker_pipeline(database: Path) -> dict[str, Any]:
    # always_updated: false makes faker honour its state: a second run has nothing new to emit.
    config = {"count": COUNT, "seed": 7, "always_updated": False, "parallelism": 1, "records_per_slice": 100}
    return {
        "source": {"type": FAKER, "config": config},
        "destination": {"type": "duckdb", "config": {"path": str(database)}},
        "streams": [
            {"name": name, "sync_mode": "incremental", "destination_sync_mode": "append_dedup"}
            for name in STREAMS
        ],
    }


@pytest.mark.slow
@pytest.mark.xdist_group("faker")
def test_faker_syncs_incrementally_into_duckdb_and_carries_its_state(
    ferry_cli: Ferry, tmp_path: Path, faker_install: Any
) -> None:
    database = tmp_path / "faker.duckdb"
    pipeline = write_pipeline(tmp_path, faker_pipeline(database))

    first = ferry_cli("sync", pipeline)
    assert first.code == 0, first.stderr
    counts = summary(first.stdout)
    assert counts["users"] == (COUNT, COUNT)
    assert counts["products"] == (100, 100)  # faker's fixed product list
    assert counts["purchases"][0] == counts["purchases"][1] > 0
    for stream in STREAMS:
        rows, keys = query(database, f"select count(*), count(distinct id) from {stream}")[0]
        assert rows == keys == counts[stream][1], stream
    (typed,) = query(database, "select typeof(updated_at), typeof(address) from users limit 1")
    assert typed == ("TIMESTAMP WITH TIME ZONE", "JSON")
    saved = json.loads((tmp_path / ".ferry" / "pipeline.state.json").read_text())
    users_state = next(s["state"] for s in saved["streams"] if s["stream_descriptor"]["name"] == "users")
    assert users_state["loop_offset"] == COUNT  # faker's own cursor, as it emitted it

    second = ferry_cli("sync", pipeline)
    assert second.code == 0, second.stderr
    # Given the first run's state, faker has nothing new; without it, it would emit every record again.
    assert summary(second.stdout) == dict.fromkeys(STREAMS, (0, 0))
    for stream in STREAMS:
        assert query(database, f"select count(*) from {stream}")[0][0] == counts[stream][1]
    assert "installing" not in second.stderr  # the managed install is reused
