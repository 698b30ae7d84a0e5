"""The engine's delivery rules, each shown with a source and a destination whose behaviour is scripted."""

from __future__ import annotations

import time
from typing import Any

from ferry.engine import InProcessDestination, InProcessSource, MemoryStateStore, Sync, configure_catalog
from ferry.engine.catalog import StreamSelection
from ferry.errors import CountMismatchError, InternalError
from ferry.protocol import DestinationSyncMode, StreamDescriptor, SyncMode
from tests.engine.scripted import Faults, MemoryDestination, ScriptedSource, rows

USERS = StreamDescriptor("users")


def run(source: ScriptedSource, dest: MemoryDestination, store: MemoryStateStore, **kw: Any) -> Any:
    selections = kw.pop("selections", None)
    kw.setdefault("commit_rows", 0)  # forward every state: these tests look at each checkpoint
    runner_s = InProcessSource(source, {})
    runner_d = InProcessDestination(dest, {})
    catalog = configure_catalog(runner_s.discover(), selections, runner_d.supported_sync_modes)
    return Sync(runner_s, runner_d, catalog, store, **kw).run()


def saved_position(store: MemoryStateStore, stream: str = "users") -> Any:
    entry = store.load().streams.get(StreamDescriptor(stream))
    return None if entry is None or entry.state is None else entry.state["position"]


def test_states_are_saved_as_the_destination_commits_them() -> None:
    script = [rows(0, 10), "checkpoint", rows(10, 20), "checkpoint"]
    store, dest = MemoryStateStore(), MemoryDestination()
    result = run(ScriptedSource({"users": script}), dest, store)
    assert result.succeeded, result.error
    assert len(dest.tables["users"].committed) == 20
    assert result.streams[USERS].committed == 20
    assert result.streams[USERS].states == 2
    assert saved_position(store) == 4


def test_state_is_not_saved_when_the_destination_fails_to_commit_it() -> None:
    script = [rows(0, 10), "checkpoint", rows(10, 20), "checkpoint", rows(20, 30), "checkpoint"]
    store = MemoryStateStore()
    dest = MemoryDestination(Faults(fail_at_commit=2))
    result = run(ScriptedSource({"users": script}), dest, store)
    assert not result.succeeded
    assert "disk full" in str(result.error)
    # Only the first checkpoint was committed and echoed: the saved state is the first one.
    assert saved_position(store) == 2
    assert len(dest.tables["users"].committed) == 10


def test_a_destination_that_loses_a_row_fails_the_sync_and_its_state_is_not_saved() -> None:
    script = [rows(0, 10), "checkpoint", rows(10, 20), "checkpoint"]
    store = MemoryStateStore()
    result = run(ScriptedSource({"users": script}), MemoryDestination(Faults(drop_rows_at_commit=2)), store)
    assert isinstance(result.error, CountMismatchError)
    assert "Ferry sent 10 records, the destination committed 9" in str(result.error)
    assert saved_position(store) == 2


def test_a_source_whose_count_disagrees_fails_the_sync() -> None:
    from ferry.cdk import source as source_kit

    class Lying(ScriptedSource):
        def read(self, config: Any, catalog: Any, state: Any = ()) -> Any:
            for item in super().read(config, catalog, state):
                if getattr(item, "state", None) is not None and item.state.source_stats is not None:
                    item.state.source_stats.record_count = 999.0
                yield item

    assert source_kit  # the kit sets sourceStats; this source overwrites them with a wrong number
    store = MemoryStateStore()
    result = run(Lying({"users": [rows(0, 10), "checkpoint"]}), MemoryDestination(), store)
    assert isinstance(result.error, CountMismatchError)
    assert "source reported 999" in str(result.error)
    assert saved_position(store) is None


def test_states_echoed_out_of_order_fail_the_sync() -> None:
    script = [rows(0, 5), "checkpoint", rows(5, 10), "checkpoint"]
    store = MemoryStateStore()
    result = run(ScriptedSource({"users": script}), MemoryDestination(Faults(reverse_echo=True)), store)
    assert isinstance(result.error, InternalError)
    assert "out of order" in str(result.error)
    assert saved_position(store) is None


def test_a_destination_that_never_echoes_fails_the_sync() -> None:
    store = MemoryStateStore()
    result = run(
        ScriptedSource({"users": [rows(0, 5), "checkpoint"]}),
        MemoryDestination(Faults(skip_echo=True)),
        store,
    )
    assert isinstance(result.error, InternalError)
    assert "without acknowledging 1 state" in str(result.error)
    assert saved_position(store) is None


def test_source_failure_keeps_committed_state_and_the_next_run_resumes() -> None:
    boom = RuntimeError("connection reset by peer")
    script: list[Any] = [rows(0, 10), "checkpoint", boom, rows(10, 20), "checkpoint"]
    store, dest = MemoryStateStore(), MemoryDestination()
    first = run(ScriptedSource({"users": script}), dest, store)
    assert not first.succeeded
    assert "connection reset by peer" in str(first.error)
    assert saved_position(store) == 2
    script[2] = rows(0, 0)  # the fault is gone on the next attempt
    second = run(ScriptedSource({"users": script}), dest, store)
    assert second.succeeded, second.error
    ids = sorted(r["id"] for r in dest.tables["users"].committed)
    assert ids == list(range(20))  # nothing lost, nothing read twice (resumed at position 2)


def test_dict_records_are_typed_into_arrow_with_reasons_for_bad_values() -> None:
    script: list[Any] = [
        {"id": 1, "updated_at": "2024-01-01T00:00:00Z", "name": "a"},
        {"id": "not a number", "updated_at": "2024-02-30T00:00:00Z", "name": 7},
        "checkpoint",
    ]
    dest = MemoryDestination()
    result = run(ScriptedSource({"users": script}), dest, MemoryStateStore())
    assert result.succeeded, result.error
    first, second = dest.tables["users"].committed
    assert first["id"] == 1 and first["name"] == "a"
    assert second["id"] is None and second["updated_at"] is None and second["name"] == "7"
    reasons = {(c["field"], c["reason"]) for c in second["_ferry_changes"]}
    assert reasons == {
        ("id", "DESTINATION_SERIALIZATION_ERROR"),
        ("updated_at", "DESTINATION_SERIALIZATION_ERROR"),
    }


def test_full_refresh_overwrite_gets_a_new_generation_each_sync_and_resumes_an_unfinished_one() -> None:
    selections = [
        StreamSelection(
            "users", sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite
        )
    ]
    script: list[Any] = [rows(0, 5), "checkpoint", RuntimeError("boom"), rows(5, 10), "checkpoint"]
    store, dest = MemoryStateStore(), MemoryDestination()
    started = int(time.time())
    assert not run(ScriptedSource({"users": script}), dest, store, selections=selections).succeeded
    first = dest.catalogs[-1].streams[0]
    generation = first.generation_id
    assert generation is not None and generation >= started
    assert (first.minimum_generation_id, first.sync_id) == (generation, 1)
    script[2] = rows(0, 0)
    assert run(ScriptedSource({"users": script}), dest, store, selections=selections).succeeded
    resumed = dest.catalogs[-1].streams[0]
    assert (resumed.generation_id, resumed.minimum_generation_id, resumed.sync_id) == (
        generation,
        generation,
        2,
    )
    assert dest.completed == ["users"]
    assert saved_position(store) is None  # a finished full refresh starts over next time
    assert run(ScriptedSource({"users": script}), dest, store, selections=selections).succeeded
    assert dest.catalogs[-1].streams[0].generation_id == generation + 1


def test_a_lost_state_store_never_reuses_a_generation_id() -> None:
    """Generation ids identify a table's generations; starting over with an empty state store (a deleted
    state file, another pipeline into the same table) must not hand out an id already used, or an
    overwrite would resume the old generation's table instead of replacing it."""
    selections = [
        StreamSelection(
            "users", sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite
        )
    ]
    script: list[Any] = [rows(0, 5), "checkpoint"]
    dest = MemoryDestination()
    assert run(ScriptedSource({"users": script}), dest, MemoryStateStore(), selections=selections).succeeded
    before = dest.catalogs[-1].streams[0].generation_id
    time.sleep(1.05)
    assert run(ScriptedSource({"users": script}), dest, MemoryStateStore(), selections=selections).succeeded
    after = dest.catalogs[-1].streams[0].generation_id
    assert before is not None and after is not None and after > before


def test_full_refresh_flag_reloads_incremental_streams_as_a_replacing_generation() -> None:
    script: list[Any] = [rows(0, 5), "checkpoint"]
    store, dest = MemoryStateStore(), MemoryDestination()
    assert run(ScriptedSource({"users": script}), dest, store).succeeded
    incremental = dest.catalogs[-1].streams[0]
    assert incremental.destination_sync_mode is DestinationSyncMode.append_dedup
    assert incremental.minimum_generation_id == 0
    assert run(ScriptedSource({"users": script}), dest, store, full_refresh=True).succeeded
    refreshed = dest.catalogs[-1].streams[0]
    assert refreshed.destination_sync_mode is DestinationSyncMode.overwrite_dedup
    assert refreshed.generation_id == refreshed.minimum_generation_id
    assert (refreshed.generation_id or 0) > (incremental.generation_id or 0)
    assert len(dest.tables["users"].committed) == 10  # read again from the start
    assert saved_position(store) == 2  # the incremental position is kept after the refresh


def test_global_state_is_saved_whole_and_handed_back_to_the_source() -> None:
    from ferry.cdk.source import Source

    seen: list[Any] = []

    class GlobalSource(ScriptedSource):
        def read(self, config: Any, catalog: Any, state: Any = ()) -> Any:
            from ferry.protocol import Message, Type

            seen.append(list(state))
            yield from Source.read(self, config, catalog, state)  # records and stream states of the kit
            from tests.engine.scripted import global_state

            yield Message(Type.STATE, state=global_state(7, ["users"]))

    store = MemoryStateStore()
    source = GlobalSource({"users": [rows(0, 3), "checkpoint"]})
    result = run(source, MemoryDestination(), store)
    assert result.succeeded, result.error
    saved = store.load()
    assert saved.shared_state == {"lsn": 7}
    run(source, MemoryDestination(), store)
    handed = seen[-1]
    assert len(handed) == 1 and handed[0].global_.shared_state == {"lsn": 7}


def test_frequent_states_are_coalesced_but_every_source_count_is_checked() -> None:
    script: list[Any] = []
    for i in range(10):
        script += [rows(i * 10, i * 10 + 10), "checkpoint"]
    store, dest = MemoryStateStore(), MemoryDestination()
    result = run(ScriptedSource({"users": script}), dest, store, commit_rows=35)
    assert result.succeeded, result.error
    # 100 rows, a state every 10: the destination commits after 40, 80 and at the end, not 10 times.
    assert result.streams[USERS].states == 3
    assert result.streams[USERS].committed == 100
    assert saved_position(store) == 20
