"""The pieces pages are made of: the stream table's choices, the SVG chart, log lines, display formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from ferry.connectors import registry
from ferry.engine.connectors import source_runner
from ferry.errors import ConfigError
from ferry.protocol import Catalog, DestinationSyncMode, Stream, SyncMode
from ferry.web import render, stream_rows
from ferry.web.chart import Point, sync_chart
from ferry.web.logs import level_of
from ferry.web.pages.jobs import highlight

FULL_ONLY = Stream(
    name="snapshots",
    json_schema={"type": "object", "properties": {"id": {"type": "integer"}, "doc": {"type": "object"}}},
    supported_sync_modes=[SyncMode.full_refresh],
)


def test_only_modes_both_ends_support_are_offered() -> None:
    users = source_runner("sample-data", {"count": 1}).discover().streams[0]
    duckdb_modes = registry.destination("duckdb").supported_sync_modes
    offered = [m.value for m in stream_rows.modes_for(users, duckdb_modes)]
    assert "incremental_deduped_history" in offered
    assert "incremental_update" not in offered
    assert [m.value for m in stream_rows.modes_for(FULL_ONLY, duckdb_modes)] == [
        "full_refresh_overwrite",
        "full_refresh_overwrite_deduped",
        "full_refresh_append",
    ]
    append_only = [m.value for m in stream_rows.modes_for(users, [DestinationSyncMode.append])]
    assert append_only == ["full_refresh_append", "incremental_append"]


def test_rows_show_source_defined_fields_fixed_and_parse_the_selection() -> None:
    catalog = Catalog([source_runner("sample-data", {"count": 1}).discover().streams[0], FULL_ONLY])
    modes = registry.destination("duckdb").supported_sync_modes
    users, snapshots = stream_rows.rows(catalog, modes, None)
    assert users.selected
    assert snapshots.selected
    assert users.cursor_fixed
    assert users.cursor == "updated_at"
    assert users.key_fixed
    assert users.key == ["id"]
    assert snapshots.fields == ["id"]  # an object cannot be a cursor or a key
    assert not snapshots.needs_cursor

    posted = {
        "s.0.selected": ["on"],
        "s.0.mode": ["incremental_deduped_history"],
        "s.0.cursor": ["email"],  # ignored: the source defines the cursor
        "s.1.selected": ["on"],
        "s.1.mode": ["full_refresh_overwrite_deduped"],
        "s.1.key": ["id"],
    }
    assert stream_rows.parse(catalog, posted) == [
        {"name": "users", "namespace": None, "syncMode": "incremental_deduped_history"},
        {
            "name": "snapshots",
            "namespace": None,
            "syncMode": "full_refresh_overwrite_deduped",
            "primaryKey": [["id"]],
        },
    ]
    shifted = {**posted, "s.0.name": ["snapshots"]}  # the form was shown for another catalog
    with pytest.raises(ConfigError, match="streams changed"):
        stream_rows.parse(catalog, shifted)
    only_second = stream_rows.rows(catalog, modes, [{"name": "snapshots", "syncMode": "full_refresh_append"}])
    assert [r.selected for r in only_second] == [False, True]
    assert only_second[1].mode == "full_refresh_append"


def test_chart_draws_a_bar_and_a_point_per_sync() -> None:
    assert sync_chart([]) == ""
    svg = sync_chart(
        [
            Point("Job 1", 120, 2.0, "succeeded"),
            Point("Job <2>", 0, 9.5, "failed"),
            Point("Job 3", 80, 1.0, "succeeded"),
        ]
    )
    assert svg.count("<rect") == 3
    assert svg.count("<circle") == 3
    assert "bar-failed" in svg
    assert "Job &lt;2&gt;" in svg
    assert "<2>" not in svg
    assert re.search(r'role="img" aria-labelledby="chart-title"', svg)


def test_log_levels_and_search_highlights() -> None:
    assert level_of("2024-05-01T10:00:00 ERROR the source failed") == "ERROR"
    assert level_of("  File 'x.py', line 3") is None
    assert level_of("ERROR without a stamp") is None
    marked = highlight("Beat <b>5</b> of BEAT", "beat")
    assert str(marked) == "<mark>Beat</mark> &lt;b&gt;5&lt;/b&gt; of <mark>BEAT</mark>"


def test_display_formats() -> None:
    assert render.duration(None) == "—"
    assert render.duration(3.21) == "3.2 s"
    assert render.duration(125) == "2 min 05 s"
    assert render.duration(3 * 3600 + 60) == "3 h 01 min"
    assert render.count(1234567) == "1,234,567"
    assert render.size(0) == "—"
    assert render.size(1_500_000) == "1.5 MB"
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert render.ago(now - timedelta(minutes=5), now) == "5 minutes ago"
    assert render.ago(now - timedelta(days=1, hours=2), now) == "1 day ago"
    assert render.ago(None) == "never"
