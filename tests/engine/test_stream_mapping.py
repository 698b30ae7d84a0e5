"""Namespace definition and stream prefix: where streams land, and that state and counts stay the source's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ferry.cdk import Stream as CdkStream
from ferry.connectors.destinations.duckdb import DuckDBDestination
from ferry.connectors.sources.sample_data import SampleDataSource
from ferry.engine import InProcessDestination, InProcessSource, MemoryStateStore, Sync, configure_catalog
from ferry.engine.mapping import NamespaceDefinition, StreamMapping
from ferry.errors import ConfigError
from ferry.protocol import Catalog, Stream, StreamDescriptor, SyncMode
from tests.engine.scripted import SCHEMA, MemoryDestination, ScriptedSource, rows

CUSTOM = NamespaceDefinition.custom_format
SAMPLE_STREAMS = ("users", "products", "purchases")


def sample_sync(
    warehouse: Path, store: MemoryStateStore, count: int, mapping: StreamMapping, **kw: Any
) -> Any:
    source = InProcessSource(SampleDataSource(), {"count": count, "records_per_checkpoint": 40})
    destination = InProcessDestination(DuckDBDestination(), {"path": str(warehouse)})
    catalog = configure_catalog(source.discover(), None, destination.supported_sync_modes)
    return Sync(source, destination, catalog, store, mapping=mapping, commit_rows=0, **kw).run()


def tables(warehouse: Path) -> dict[tuple[str, str], int]:
    """(schema, table) -> rows, for every table outside DuckDB's own schemas."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')"
        ).fetchall()
        return {
            (schema, name): con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]  # type: ignore[index]
            for schema, name in found
        }


@pytest.mark.parametrize(
    ("definition", "fmt", "source_namespace", "expected"),
    [
        (NamespaceDefinition.source, None, "public", "public"),
        (NamespaceDefinition.source, None, None, None),
        (NamespaceDefinition.destination, None, "public", None),
        (CUSTOM, "raw_${SOURCE_NAMESPACE}", "public", "raw_public"),
        (CUSTOM, "raw_${SOURCE_NAMESPACE}", None, "raw_"),
        (CUSTOM, "${SOURCE_NAMESPACE}", None, None),  # an empty result means the destination's default
        (CUSTOM, "${SOURCE_NAMESPACE}_${SOURCE_NAMESPACE}", "a", "a_a"),
        (CUSTOM, "fixed", "public", "fixed"),
    ],
)
def test_namespace_rules_follow_airbyte(
    definition: NamespaceDefinition, fmt: str | None, source_namespace: str | None, expected: str | None
) -> None:
    mapping = StreamMapping(definition, fmt, prefix="p_")
    assert mapping.destination_of(StreamDescriptor("users", source_namespace)) == StreamDescriptor(
        "p_users", expected
    )


def test_two_streams_landing_in_one_destination_stream_is_a_config_error_naming_both() -> None:
    mapping = StreamMapping(NamespaceDefinition.destination)
    with pytest.raises(ConfigError, match=r"'shop\.users' and 'crm\.users' would both be written to 'users'"):
        mapping.bind([StreamDescriptor("users", "shop"), StreamDescriptor("users", "crm")])
    # With the source's namespaces they stay apart.
    StreamMapping().bind([StreamDescriptor("users", "shop"), StreamDescriptor("users", "crm")])


def test_a_sync_with_colliding_streams_fails_before_any_data_moves() -> None:
    stream = Stream("users", SCHEMA, [SyncMode.full_refresh], namespace="shop")
    other = Stream("users", SCHEMA, [SyncMode.full_refresh], namespace="crm")
    catalog = configure_catalog(Catalog([stream, other]), None)
    dest = MemoryDestination()
    source = InProcessSource(ScriptedSource({}), {})
    result = Sync(
        source,
        InProcessDestination(dest, {}),
        catalog,
        MemoryStateStore(),
        mapping=StreamMapping(NamespaceDefinition.destination),
    ).run()
    assert isinstance(result.error, ConfigError)
    assert "shop.users" in str(result.error)
    assert "crm.users" in str(result.error)
    assert dest.catalogs == []


def test_prefix_and_custom_namespace_name_the_duckdb_tables(tmp_path: Path) -> None:
    warehouse, store = tmp_path / "w.duckdb", MemoryStateStore()
    mapping = StreamMapping(CUSTOM, "shop${SOURCE_NAMESPACE}", prefix="raw_")
    first = sample_sync(warehouse, store, 100, mapping)
    assert first.succeeded, first.error
    assert tables(warehouse) == {("shop", f"raw_{s}"): 100 for s in SAMPLE_STREAMS}
    # Counts, progress and the saved state are keyed by the source's streams.
    assert set(first.streams) == {StreamDescriptor(s) for s in SAMPLE_STREAMS}
    assert set(store.load().streams) == {StreamDescriptor(s) for s in SAMPLE_STREAMS}
    assert all(c.committed == 100 for c in first.streams.values())

    # The next incremental run reads only the rows added since (sample-data's count only adds rows).
    second = sample_sync(warehouse, store, 130, mapping)
    assert second.succeeded, second.error
    assert {str(d): c.emitted for d, c in second.streams.items()} == dict.fromkeys(SAMPLE_STREAMS, 30)
    assert tables(warehouse) == {("shop", f"raw_{s}"): 130 for s in SAMPLE_STREAMS}


def test_a_new_prefix_keeps_the_cursor(tmp_path: Path) -> None:
    warehouse, store = tmp_path / "w.duckdb", MemoryStateStore()
    assert sample_sync(warehouse, store, 50, StreamMapping(prefix="a_")).succeeded
    later = sample_sync(warehouse, store, 70, StreamMapping(NamespaceDefinition.destination, prefix="b_"))
    assert later.succeeded, later.error
    found = tables(warehouse)
    assert found[("main", "a_users")] == 50
    assert found[("main", "b_users")] == 20  # from the saved position on, not from the start


def test_the_destination_gets_mapped_names_and_echoes_are_mapped_back() -> None:
    script = [rows(0, 10), "checkpoint", rows(10, 15), "checkpoint"]
    source = InProcessSource(NamespacedSource("app", {"users": script}), {})
    dest, store = MemoryDestination(), MemoryStateStore()
    catalog = configure_catalog(source.discover(), None)
    mapping = StreamMapping(CUSTOM, "lake_${SOURCE_NAMESPACE}", prefix="x_")
    result = Sync(
        source, InProcessDestination(dest, {}), catalog, store, mapping=mapping, commit_rows=0
    ).run()
    assert result.succeeded, result.error
    (sent,) = dest.catalogs
    assert [s.descriptor for s in sent.streams] == [StreamDescriptor("x_users", "lake_app")]
    assert len(dest.tables["x_users"].committed) == 15
    assert dest.completed == ["x_users"]
    source_stream = StreamDescriptor("users", "app")
    assert result.streams[source_stream].committed == 15
    assert result.streams[source_stream].states == 2
    assert store.load().streams[source_stream].state == {"position": 4}
    # The next run resumes from the saved position: the source got its state under its own name.
    script.extend([rows(15, 18), "checkpoint"])
    again = Sync(source, InProcessDestination(dest, {}), catalog, store, mapping=mapping, commit_rows=0).run()
    assert again.succeeded, again.error
    assert again.streams[source_stream].emitted == 3


def test_bytes_are_counted_and_all_committed_when_the_sync_succeeds(tmp_path: Path) -> None:
    result = sample_sync(tmp_path / "w.duckdb", MemoryStateStore(), 200, StreamMapping(prefix="p_"))
    assert result.succeeded, result.error
    for counts in result.streams.values():
        assert counts.bytes_emitted > 0
        assert counts.bytes_committed == counts.bytes_emitted


class NamespacedSource(ScriptedSource):
    """The scripted source with its streams in a namespace."""

    def __init__(self, namespace: str, scripts: dict[str, list[Any]]) -> None:
        super().__init__(scripts)
        self.namespace = namespace

    def streams(self, config: Mapping[str, Any]) -> list[CdkStream]:
        streams = super().streams(config)
        for stream in streams:
            stream.namespace = self.namespace
        return streams


def test_a_pipeline_file_names_its_streams(tmp_path: Path) -> None:
    from ferry.engine.pipeline import load_pipeline

    path = tmp_path / "p.yaml"
    base = "source: {type: sample-data}\ndestination: {type: duckdb}\n"
    path.write_text(
        base + "namespace_definition: custom_format\nnamespace_format: raw_${SOURCE_NAMESPACE}\nprefix: s_\n"
    )
    # ${SOURCE_NAMESPACE} is the format's own placeholder, not an environment variable.
    assert load_pipeline(path).mapping() == StreamMapping(CUSTOM, "raw_${SOURCE_NAMESPACE}", "s_")
    path.write_text(base)
    assert load_pipeline(path).mapping().is_identity
    path.write_text(base + "namespace_definition: custom_format\n")
    with pytest.raises(ConfigError, match="custom_format needs a namespace_format"):
        load_pipeline(path)
