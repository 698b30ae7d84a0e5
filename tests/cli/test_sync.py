"""`ferry sync` end to end: sample-data -> DuckDB, run twice with the state carried, and --full-refresh."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from tests.cli.conftest import Ferry, shop_pipeline, summary, write_pipeline


def table_stats(database: Path, table: str) -> tuple[int, int, int]:
    """(rows, distinct ids, highest _airbyte_generation_id) of a table, wherever its schema."""
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        assert found is not None, f"table {table} missing"
        stats = con.execute(
            f'SELECT count(*), count(DISTINCT id), max(_airbyte_generation_id) FROM "{found[0]}"."{table}"'
        ).fetchone()
    assert stats is not None
    return int(stats[0]), int(stats[1]), int(stats[2])


def test_second_sync_reads_only_the_new_rows(ferry: Ferry, tmp_path: Path) -> None:
    database = tmp_path / "out" / "shop.duckdb"
    pipeline = write_pipeline(tmp_path, shop_pipeline(database, count="${SHOP_COUNT}"))

    first = ferry("sync", pipeline, env={"SHOP_COUNT": "2000"})
    assert first.code == 0, first.stderr
    assert first.stderr == ""
    assert re.search(r"sync #1 succeeded in [\d.]+s", first.stdout)
    assert summary(first.stdout) == {
        "purchases": (2000, 2000),
        "users": (2000, 2000),
        "products": (1000, 1000),
    }
    assert (
        f"State saved to {tmp_path / '.ferry' / 'pipeline.state.json'}: the next sync continues"
        in first.stdout
    )
    assert (tmp_path / ".ferry" / "pipeline.state.json").is_file()

    second = ferry("sync", pipeline, env={"SHOP_COUNT": "2600"})
    assert second.code == 0, second.stderr
    assert "sync #2 succeeded" in second.stdout
    # Only rows past the saved cursors are read; the full-refresh stream is read whole again.
    assert summary(second.stdout) == {"purchases": (600, 600), "users": (600, 600), "products": (1000, 1000)}
    assert table_stats(database, "purchases")[:2] == (2600, 2600)
    assert table_stats(database, "users")[:2] == (2600, 2600)
    assert table_stats(database, "products")[:2] == (1000, 1000)

    unchanged = ferry("sync", pipeline, env={"SHOP_COUNT": "2600"})
    assert unchanged.code == 0, unchanged.stderr
    assert summary(unchanged.stdout)["purchases"] == (0, 0)
    assert table_stats(database, "purchases")[:2] == (2600, 2600)


def test_full_refresh_reloads_every_stream(ferry: Ferry, tmp_path: Path) -> None:
    database = tmp_path / "shop.duckdb"
    state = tmp_path / "somewhere" / "state.json"
    pipeline = write_pipeline(tmp_path, shop_pipeline(database, count=1500))
    assert ferry("sync", pipeline, "--state", state).code == 0
    assert state.is_file()
    _, _, generation = table_stats(database, "purchases")

    again = ferry("sync", pipeline, "--state", state, "--full-refresh")

    assert again.code == 0, again.stderr
    assert summary(again.stdout) == {
        "purchases": (1500, 1500),
        "users": (1500, 1500),
        "products": (1000, 1000),
    }
    rows, ids, new_generation = table_stats(database, "purchases")
    assert (rows, ids) == (1500, 1500)  # replaced, not appended
    assert new_generation > generation
    # The refresh saved fresh cursors: the next plain sync has nothing new to read.
    after = ferry("sync", pipeline, "--state", state)
    assert summary(after.stdout)["purchases"] == (0, 0)


def test_a_plug_in_source_syncs_like_a_built_in(
    ferry: Ferry, tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    listed = ferry("connectors", "list", env=plugin_env)
    assert "test-orders" in listed.stdout
    database = tmp_path / "orders.duckdb"
    stream = {
        "name": "orders",
        "sync_mode": "incremental",
        "destination_sync_mode": "append_dedup",
        "primary_key": "id",
    }
    pipeline = {
        "source": {"type": "test-orders", "config": {"rows": "${ORDERS}"}},
        "destination": {"type": "duckdb", "config": {"path": str(database)}},
        "streams": [stream],
    }
    path = write_pipeline(tmp_path, pipeline)

    first = ferry("sync", path, env={**plugin_env, "ORDERS": "3"})
    second = ferry("sync", path, env={**plugin_env, "ORDERS": "5"})

    assert first.code == second.code == 0, first.stderr + second.stderr
    assert summary(first.stdout) == {"orders": (3, 3)}
    assert summary(second.stdout) == {"orders": (2, 2)}
    assert table_stats(database, "orders")[:2] == (5, 5)
