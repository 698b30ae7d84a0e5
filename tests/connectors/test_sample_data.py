"""The sample-data source: determinism, counts, incremental and resumable reads, schemas, errors, CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jsonschema
import pyarrow as pa
import pytest

from ferry.cdk import RecordBatch, StreamTyper
from ferry.cdk.entrypoint import batch_to_records
from ferry.cdk.schema import arrow_schema, kind_of
from ferry.connectors import registry
from ferry.connectors.sources import sample_data
from ferry.connectors.sources.sample_data import SampleDataSource
from ferry.errors import ConfigError
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    StreamDescriptor,
    SyncMode,
    Type,
    dumps,
    loads,
    stream_state_message,
    to_obj,
)

SOURCE = SampleDataSource()
STREAMS = ("users", "products", "purchases")
FULL, INCREMENTAL = SyncMode.full_refresh, SyncMode.incremental


@dataclass
class Read:
    """What one read of one stream returned: its rows, and each state with the rows read before it."""

    batches: list[pa.RecordBatch] = field(default_factory=list)
    states: list[tuple[int, dict[str, Any], float | None]] = field(default_factory=list)
    record_batches: list[RecordBatch] = field(default_factory=list)

    @property
    def table(self) -> pa.Table:
        return pa.Table.from_batches(self.batches)

    @property
    def ids(self) -> list[int]:
        return [cast(int, i) for b in self.batches for i in b.column("id").to_pylist()]

    @property
    def rows(self) -> int:
        return sum(b.num_rows for b in self.batches)


def configured(name: str, mode: SyncMode, config: dict[str, Any] | None = None) -> ConfiguredCatalog:
    stream = next(s for s in SOURCE.discover(config or {}).streams if s.name == name)
    destination_mode = (
        DestinationSyncMode.append_dedup if mode is INCREMENTAL else DestinationSyncMode.overwrite
    )
    return ConfiguredCatalog([ConfiguredStream(stream, mode, destination_mode)])


def read(
    config: dict[str, Any],
    name: str = "purchases",
    mode: SyncMode = FULL,
    state: dict[str, Any] | None = None,
) -> Read:
    states = [] if state is None else [stream_state_message(StreamDescriptor(name), state).state]
    out = Read()
    for item in SOURCE.read(config, configured(name, mode, config), [s for s in states if s is not None]):
        if isinstance(item, RecordBatch):
            out.batches.append(item.data)
            out.record_batches.append(item)
        elif item.type is Type.STATE and item.state is not None and item.state.stream is not None:
            stats = item.state.source_stats
            count = stats.record_count if stats is not None else None
            out.states.append((out.rows, item.state.stream.stream_state or {}, count))
    return out


def ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def as_json(batch: RecordBatch) -> list[dict[str, Any]]:
    """Records exactly as they leave the process: through the JSON boundary and back."""
    return [loads(dumps(to_obj(m)))["record"]["data"] for m in batch_to_records(batch)]


# --- surface ----------------------------------------------------------------------------------


def test_package_exports_the_source_and_registry_finds_it() -> None:
    assert sample_data.__all__ == ["SampleDataSource"]
    assert SampleDataSource.name == "sample-data"
    assert isinstance(registry.source("sample-data"), SampleDataSource)


def test_spec_documents_fields_and_defaults() -> None:
    spec = SOURCE.spec()
    props = spec.connection_specification["properties"]
    assert set(props) == {"count", "seed", "records_per_checkpoint"}
    assert (props["count"]["default"], props["count"]["minimum"]) == (1000, 0)
    assert "min(count, 1000)" in props["count"]["description"]
    assert props["seed"]["default"] == 0
    assert (props["records_per_checkpoint"]["default"], props["records_per_checkpoint"]["minimum"]) == (
        10_000,
        1,
    )
    assert spec.supports_incremental is True


def test_discover_declares_keys_cursor_and_modes() -> None:
    catalog = SOURCE.discover({})
    assert [s.name for s in catalog.streams] == list(STREAMS)
    for stream in catalog.streams:
        assert stream.source_defined_primary_key == [["id"]]
        assert stream.default_cursor_field == ["updated_at"]
        assert stream.source_defined_cursor is True
        assert stream.is_resumable is True
        assert stream.supported_sync_modes == [FULL, INCREMENTAL]


# --- what is generated ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, (0, 0, 0)), (25, (25, 25, 25)), (1500, (1500, 1000, 1500))],
)
def test_rows_per_stream(count: int, expected: tuple[int, int, int]) -> None:
    got = tuple(read({"count": count}, name).rows for name in STREAMS)
    assert got == expected


def test_default_count_is_1000() -> None:
    assert read({}, "users").rows == 1000


@pytest.mark.parametrize("name", STREAMS)
def test_same_config_gives_byte_identical_data(name: str) -> None:
    config = {"count": 10_250, "seed": 7}
    first, second = read(config, name).table, read(config, name).table
    assert ipc_bytes(first) == ipc_bytes(second)
    assert not read({"count": 10_250, "seed": 8}, name).table.equals(first)


@pytest.mark.parametrize("name", ["users", "purchases"])
def test_row_i_does_not_depend_on_count(name: str) -> None:
    small = read({"count": 10, "seed": 3}, name).table
    large = read({"count": 20_005, "seed": 3}, name).table
    medium = read({"count": 10_003, "seed": 3}, name).table
    assert large.slice(0, 10).equals(small)
    assert large.slice(0, 10_003).equals(medium)


def test_each_block_is_drawn_from_its_own_generator() -> None:
    users = read({"count": 20_020}, "users").table
    names = cast(list[str], users.column("email").to_pylist())
    heads = [
        [n.split("@")[0].rstrip("0123456789") for n in names[start : start + 20]]
        for start in (0, 10_000, 20_000)
    ]
    assert heads[0] != heads[1] != heads[2] != heads[0]


@pytest.mark.parametrize("name", STREAMS)
def test_ids_are_consecutive_and_cursor_strictly_increases(name: str) -> None:
    table = read({"count": 12_000}, name).table
    ids = table.column("id").to_pylist()
    assert ids == list(range(1, len(ids) + 1))
    cursor = cast(list[int], table.column("updated_at").cast(pa.int64()).to_pylist())
    assert all(a < b for a, b in itertools.pairwise(cursor))
    created = cast(list[int], table.column("created_at").cast(pa.int64()).to_pylist())
    assert all(c <= u for c, u in zip(created, cursor, strict=True))
    assert table.column("updated_at").type == pa.timestamp("us", tz="UTC")


def test_purchases_refer_to_existing_users_and_products_at_catalogue_prices() -> None:
    count = 3000
    products = read({"count": count}, "products").table
    purchases = read({"count": count}, "purchases").table.to_pylist()
    price = dict(zip(products.column("id").to_pylist(), products.column("price").to_pylist(), strict=True))
    for row in purchases:
        assert 1 <= row["user_id"] <= count
        assert row["unit_price"] == price[row["product_id"]]
        assert row["total"] == round(row["unit_price"] * row["quantity"], 2)
        assert (row["delivered_on"] is not None) == (row["status"] in ("delivered", "returned"))


def test_nested_and_nullable_columns_hold_real_values_and_nulls() -> None:
    users = read({"count": 2000}, "users").table
    assert pa.types.is_struct(users.column("address").type)
    assert pa.types.is_list(users.column("tags").type)
    assert 0 < users.column("address").null_count < 2000
    assert 0 < users.column("birth_date").null_count < 2000
    rows = users.to_pylist()
    assert any(len(r["tags"]) >= 2 for r in rows)
    assert all(len(set(r["tags"])) == len(r["tags"]) for r in rows)
    assert all(r["email"].endswith(f"{r['id']}@" + r["email"].split("@")[1]) for r in rows)
    purchases = read({"count": 2000}, "purchases").table
    assert 0 < purchases.column("coupon_code").null_count < 2000
    assert 0 < purchases.column("delivered_on").null_count < 2000


@pytest.mark.parametrize("name", STREAMS)
def test_batches_already_have_the_types_the_engine_wants(name: str) -> None:
    # The engine types every batch with StreamTyper; for this source that must be a no-op (no copies).
    stream = next(s for s in SOURCE.discover({}).streams if s.name == name)
    batch = read({"count": 100}, name).batches[0]
    typed = StreamTyper(stream.json_schema).conform(batch)
    assert typed.schema.equals(batch.schema)
    assert typed.equals(batch)


def _assert_describes(prop: dict[str, Any], dtype: pa.DataType) -> None:
    """The JSON property and the Arrow type say the same thing, level by level."""
    assert "null" in prop["type"]
    if pa.types.is_struct(dtype):
        assert prop["type"] == ["null", "object"]
        children = {dtype.field(i).name: dtype.field(i).type for i in range(dtype.num_fields)}
        assert set(prop["properties"]) == set(children)
        for name, child in children.items():
            _assert_describes(prop["properties"][name], child)
    elif pa.types.is_list(dtype):
        assert prop["type"] == ["null", "array"]
        _assert_describes(prop["items"], dtype.value_type)
    else:
        assert arrow_schema({"properties": {"c": prop}}).field("c").type == dtype, (prop, dtype)
        assert kind_of(prop).value != "json"


@pytest.mark.parametrize("name", STREAMS)
def test_json_schema_describes_the_arrow_types_exactly(name: str) -> None:
    stream = next(s for s in SOURCE.discover({}).streams if s.name == name)
    batch = read({"count": 50}, name).batches[0]
    assert list(stream.json_schema["properties"]) == batch.schema.names
    for arrow_field in batch.schema:
        _assert_describes(stream.json_schema["properties"][arrow_field.name], arrow_field.type)


@pytest.mark.parametrize("name", STREAMS)
def test_records_validate_against_the_stream_schema(name: str) -> None:
    stream = next(s for s in SOURCE.discover({}).streams if s.name == name)
    validator = jsonschema.Draft7Validator(
        stream.json_schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    batch = read({"count": 300}, name).record_batches[0]
    records = as_json(batch)
    assert len(records) == 300
    for record in records:
        validator.validate(record)
        for key in ("created_at", "updated_at"):
            assert dt.datetime.fromisoformat(record[key]).utcoffset() == dt.timedelta(0)
    if name == "users":
        nested = [r for r in records if r["address"] is not None]
        assert nested
        assert set(nested[0]["address"]) == {"street", "city", "postal_code", "country"}
        assert any(r["address"] is None for r in records)


def test_a_wrong_record_fails_the_schema() -> None:
    stream = next(s for s in SOURCE.discover({}).streams if s.name == "users")
    record = as_json(read({"count": 1}, "users").record_batches[0])[0]
    record["address"] = {"street": 12}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(record, stream.json_schema)


# --- incremental --------------------------------------------------------------------------------


def _cursor_of(table: pa.Table, row: int) -> str:
    value: dt.datetime = table.column("updated_at")[row].as_py()
    return value.isoformat()


@pytest.mark.parametrize("name", STREAMS)
def test_incremental_from_a_state_returns_only_newer_rows(name: str) -> None:
    config = {"count": 400}
    everything = read(config, name, INCREMENTAL).table
    state = {"updated_at": _cursor_of(everything, 136)}  # id 137
    newer = read(config, name, INCREMENTAL, state)
    assert newer.ids == list(range(138, 401))
    assert newer.table.equals(everything.slice(137))


def test_incremental_state_between_two_rows_starts_at_the_next_one() -> None:
    everything = read({"count": 100}, "users", INCREMENTAL).table
    between = everything.column("updated_at")[41].as_py() + dt.timedelta(microseconds=1)
    assert read({"count": 100}, "users", INCREMENTAL, {"updated_at": between.isoformat()}).ids[0] == 43
    naive_utc = everything.column("updated_at")[41].as_py().replace(tzinfo=None).isoformat()
    assert read({"count": 100}, "users", INCREMENTAL, {"updated_at": naive_utc}).ids[0] == 43


def test_incremental_state_anywhere_between_two_rows() -> None:
    # Cursors half way between neighbours land on either side of a row's time slot: both must work.
    config = {"count": 200}
    table = read(config, "purchases", INCREMENTAL).table
    cursor = cast(list[dt.datetime], table.column("updated_at").to_pylist())
    for i in range(1, 200, 4):
        middle = cursor[i - 1] + (cursor[i] - cursor[i - 1]) / 2
        assert read(config, "purchases", INCREMENTAL, {"updated_at": middle.isoformat()}).ids[0] == i + 1


def test_incremental_state_across_a_block_boundary() -> None:
    config = {"count": 10_010}
    everything = read(config, "purchases", INCREMENTAL).table
    for row in (9_998, 9_999, 10_000):
        newer = read(config, "purchases", INCREMENTAL, {"updated_at": _cursor_of(everything, row)})
        assert newer.ids == list(range(row + 2, 10_011))


def test_incremental_state_before_the_first_or_after_the_last_row() -> None:
    early = read({"count": 30}, "users", INCREMENTAL, {"updated_at": "2001-01-01T00:00:00Z"})
    assert early.ids == list(range(1, 31))
    late_state = {"updated_at": "2999-01-01T00:00:00+00:00"}
    late = read({"count": 30}, "users", INCREMENTAL, late_state)
    assert late.rows == 0
    assert late.states == [(0, late_state, 0.0)]


def test_incremental_checkpoints_carry_the_cursor_of_their_last_row() -> None:
    result = read({"count": 30, "records_per_checkpoint": 7}, "purchases", INCREMENTAL)
    table = result.table
    assert [(rows, count) for rows, _, count in result.states] == [(7, 7), (14, 7), (21, 7), (28, 7), (30, 2)]
    for rows, state, _ in result.states:
        assert state == {"updated_at": _cursor_of(table, rows - 1)}


def test_growing_the_count_returns_only_the_new_rows() -> None:
    first = read({"count": 50, "seed": 5}, "users", INCREMENTAL)
    state = first.states[-1][1]
    grown = read({"count": 12_000, "seed": 5}, "users", INCREMENTAL, state)
    assert grown.ids == list(range(51, 12_001))
    fresh = read({"count": 12_000, "seed": 5}, "users", INCREMENTAL).table
    assert pa.concat_tables([first.table, grown.table]).equals(fresh)


# --- resumable full refresh -------------------------------------------------------------------


@pytest.mark.parametrize(("count", "every"), [(35, 10), (10_021, 5_000)])
def test_full_refresh_resumes_from_every_checkpoint(count: int, every: int) -> None:
    config = {"count": count, "records_per_checkpoint": every, "seed": 11}
    whole = read(config, "purchases")
    table = whole.table
    expected = [(n, {"next_id": n + 1}) for n in [*range(every, count, every), count]]
    assert [(rows, state) for rows, state, _ in whole.states] == expected
    for rows, state, _ in whole.states:
        rest = read(config, "purchases", FULL, state)
        assert rest.table.equals(table.slice(rows)) if rest.rows else rows == count
        assert rest.states[-1][1] == {"next_id": count + 1}


def test_full_refresh_of_nothing_ends_on_a_state() -> None:
    assert read({"count": 0}, "users").states == [(0, {"next_id": 1}, 0.0)]


def test_full_refresh_ignores_an_incremental_state() -> None:
    assert read({"count": 5}, "users", FULL, {"updated_at": "2999-01-01T00:00:00Z"}).ids == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("mode", "state", "key"),
    [
        (INCREMENTAL, {"updated_at": "yesterday"}, "updated_at"),
        (INCREMENTAL, {"updated_at": 17}, "updated_at"),
        (FULL, {"next_id": "3"}, "next_id"),
        (FULL, {"next_id": 0}, "next_id"),
    ],
)
def test_a_broken_state_is_a_config_error_naming_it(mode: SyncMode, state: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        read({"count": 5}, "users", mode, state)
    assert raised.value.field == key
    assert key in str(raised.value)
    assert raised.value.stream == "users"


def test_reading_is_lazy_block_by_block() -> None:
    # A billion rows: only blocks that are pulled are generated, each at most one block long.
    items = SOURCE.read({"count": 1_000_000_000}, configured("purchases", FULL))
    batches = [i for i in itertools.islice(items, 12) if isinstance(i, RecordBatch)]
    assert batches
    assert all(b.num_rows <= 10_000 for b in batches)
    assert batches[-1].data.column("id")[-1].as_py() <= 10_000 * len(batches)


# --- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field_name"),
    [
        ({"count": -1}, "count"),
        ({"count": "ten"}, "count"),
        ({"count": 1.5}, "count"),
        ({"seed": -3}, "seed"),
        ({"records_per_checkpoint": 0}, "records_per_checkpoint"),
        ({"cuont": 5}, "cuont"),
    ],
)
def test_bad_config_is_a_config_error_naming_the_field(config: dict[str, Any], field_name: str) -> None:
    with pytest.raises(ConfigError) as raised:
        list(SOURCE.read(config, configured("users", FULL)))
    assert field_name in str(raised.value)
    with pytest.raises(ConfigError):
        SOURCE.check(config)


# --- the Airbyte CLI, as a real subprocess -----------------------------------------------------


def _run(venv_bin: Path, *args: str) -> list[dict[str, Any]]:
    command = [str(venv_bin / "ferry-connector"), "source-sample-data", *args]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_cli_spec_check_discover_read(tmp_path: Path, venv_bin: Path) -> None:
    config = {"count": 120, "seed": 9, "records_per_checkpoint": 50}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "bad.json").write_text(json.dumps({"count": -1}))
    cfg, bad = str(tmp_path / "config.json"), str(tmp_path / "bad.json")

    [spec] = _run(venv_bin, "spec")
    assert spec["spec"]["connectionSpecification"]["properties"]["count"]["default"] == 1000
    assert _run(venv_bin, "check", "--config", cfg)[-1]["connectionStatus"]["status"] == "SUCCEEDED"
    failed = _run(venv_bin, "check", "--config", bad)[-1]["connectionStatus"]
    assert failed["status"] == "FAILED"
    assert "count" in failed["message"]

    [catalog] = [m for m in _run(venv_bin, "discover", "--config", cfg) if m["type"] == "CATALOG"]
    streams = {s["name"]: s for s in catalog["catalog"]["streams"]}
    configured_catalog = {
        "streams": [
            {"stream": streams["users"], "sync_mode": "incremental", "destination_sync_mode": "append_dedup"}
        ]
    }
    (tmp_path / "catalog.json").write_text(json.dumps(configured_catalog))
    everything = read(config, "users", INCREMENTAL)
    state = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "users"}, "stream_state": everything.states[0][1]},
        }
    ]
    (tmp_path / "state.json").write_text(json.dumps(state))

    out = _run(
        venv_bin,
        "read",
        "--config",
        cfg,
        "--catalog",
        str(tmp_path / "catalog.json"),
        "--state",
        str(tmp_path / "state.json"),
    )
    records = [m["record"]["data"] for m in out if m["type"] == "RECORD"]
    states = [m["state"] for m in out if m["type"] == "STATE"]
    assert [r["id"] for r in records] == list(range(51, 121))
    expected = [r for b in everything.record_batches for r in as_json(b)][50:]
    assert records == expected
    assert [s["stream"]["stream_state"] for s in states] == [everything.states[1][1], everything.states[2][1]]
    assert [s["sourceStats"]["recordCount"] for s in states] == [50.0, 20.0]
