"""Bad pipeline files and bad stream choices get clear errors that name what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferry.engine.catalog import StreamSelection, configure_catalog
from ferry.engine.pipeline import interpolate, load_pipeline, state_path_for
from ferry.errors import ConfigError
from ferry.protocol import Catalog, DestinationSyncMode, Stream, SyncMode

STREAM = Stream(
    name="orders",
    json_schema={
        "type": "object",
        "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"}},
    },
    supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental],
)
NO_KEY = Stream(
    name="events",
    json_schema={"type": "object", "properties": {"ts": {}}},
    supported_sync_modes=[SyncMode.full_refresh],
)
CATALOG = Catalog([STREAM, NO_KEY])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


def test_a_valid_pipeline_loads_with_short_forms(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
source: {type: sample-data, config: {count: 10}}
destination: {type: duckdb, config: {path: ./w.duckdb}}
streams:
  - name: orders
    sync_mode: incremental
    destination_sync_mode: append_dedup
    cursor_field: updated_at
    primary_key: id
""",
    )
    pipeline = load_pipeline(path)
    (selection,) = pipeline.selections() or []
    assert selection.cursor_field == ["updated_at"]
    assert selection.primary_key == [["id"]]
    assert state_path_for(path) == tmp_path / ".ferry" / "pipeline.state.json"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("destination: {type: duckdb}\n", "missing required key 'source'"),
        ("source: {type: x}\ndestination: {type: duckdb}\nschedul: hourly\n", "unknown key 'schedul'"),
        ("source: {type: x, confg: {}}\ndestination: {type: duckdb}\n", "unknown key 'source.confg'"),
        (
            "source: {type: x}\ndestination: {type: duckdb}\nstreams: [{name: a, sync_mode: sometimes}]\n",
            "'streams.0.sync_mode' is invalid",
        ),
        ("source: [1, 2]\n", "'source' is invalid"),
        ("- just\n- a list\n", "must be a mapping"),
        ("source: {type: x\n", "not valid YAML"),
    ],
)
def test_bad_pipeline_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="pipeline") as info:
        load_pipeline(write(tmp_path, text))
    assert message in str(info.value)


def test_missing_pipeline_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pipeline file not found"):
        load_pipeline(tmp_path / "nope.yaml")


def test_env_interpolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PASSWORD", "s3cr:et}")
    value = interpolate({"a": ["${PG_PASSWORD}", "x-${UNSET_VAR:-fallback}-y"], "n": 3})
    assert value == {"a": ["s3cr:et}", "x-fallback-y"], "n": 3}
    with pytest.raises(ConfigError, match="environment variable NOPE_NOT_SET is not set") as info:
        interpolate({"source": {"config": {"password": "${NOPE_NOT_SET}"}}})
    assert info.value.field == "source.config.password"


def test_default_selection_picks_the_best_mode() -> None:
    with_key = Stream(
        name="orders",
        json_schema=STREAM.json_schema,
        supported_sync_modes=STREAM.supported_sync_modes,
        default_cursor_field=["updated_at"],
        source_defined_primary_key=[["id"]],
    )
    catalog = configure_catalog(Catalog([with_key, NO_KEY]), None)
    modes = {s.stream.name: (s.sync_mode, s.destination_sync_mode) for s in catalog.streams}
    assert modes == {
        "orders": (SyncMode.incremental, DestinationSyncMode.append_dedup),
        "events": (SyncMode.full_refresh, DestinationSyncMode.overwrite),
    }


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (
            StreamSelection("nope"),
            "stream 'nope' does not exist in the source. Available streams: events, orders",
        ),
        (StreamSelection("orders", sync_mode=SyncMode.incremental), "incremental but has no cursor field"),
        (
            StreamSelection("orders", sync_mode=SyncMode.incremental, cursor_field=["modified"]),
            "cursor field 'modified' is not in",
        ),
        (
            StreamSelection(
                "orders", destination_sync_mode=DestinationSyncMode.append_dedup, cursor_field=["updated_at"]
            ),
            "uses append_dedup but has no primary key",
        ),
        (
            StreamSelection(
                "orders",
                destination_sync_mode=DestinationSyncMode.append_dedup,
                cursor_field=["updated_at"],
                primary_key=[["oid"]],
            ),
            "primary key field 'oid' is not in",
        ),
        (
            StreamSelection("events", sync_mode=SyncMode.incremental),
            "does not support sync_mode 'incremental'",
        ),
        (
            StreamSelection(
                "orders",
                sync_mode=SyncMode.incremental,
                cursor_field=["updated_at"],
                destination_sync_mode=DestinationSyncMode.overwrite,
            ),
            "incremental cannot be combined with destination_sync_mode 'overwrite'",
        ),
    ],
)
def test_bad_stream_choices_are_refused_before_anything_moves(
    selection: StreamSelection, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        configure_catalog(CATALOG, [selection])
    assert message in str(info.value)


def test_destination_modes_are_respected() -> None:
    only_append = [DestinationSyncMode.append]
    (events,) = configure_catalog(CATALOG, [StreamSelection("events")], only_append).streams
    assert events.destination_sync_mode is DestinationSyncMode.append  # the best mode this destination has
    with pytest.raises(ConfigError, match="the destination does not support 'overwrite'"):
        configure_catalog(
            CATALOG,
            [StreamSelection("events", destination_sync_mode=DestinationSyncMode.overwrite)],
            only_append,
        )


def test_source_defined_cursor_cannot_be_overridden() -> None:
    stream = Stream(
        name="s",
        json_schema=STREAM.json_schema,
        supported_sync_modes=STREAM.supported_sync_modes,
        source_defined_cursor=True,
        default_cursor_field=["updated_at"],
    )
    with pytest.raises(ConfigError, match="defines its own cursor"):
        configure_catalog(Catalog([stream]), [StreamSelection("s", cursor_field=["id"])])
