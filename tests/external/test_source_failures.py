"""An external source that misbehaves ends in a clear, classified failure, and no state is saved past the
data the destination committed. The source is a real subprocess (fake_connector.py); the destination a
real DuckDB file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ferry.engine import SyncCancelled
from ferry.engine.launcher import Limits, group_members
from ferry.errors import ConfigError, ConnectorError, TransientError
from ferry.protocol import FailureType, Level
from tests.external.conftest import query
from tests.external.helpers import make_sync, run_sync


def test_stray_lines_on_stdout_become_log_lines_and_the_sync_succeeds(tmp_path: Path) -> None:
    run = run_sync(tmp_path, {"records": 12, "per_state": 5, "stray_lines": True})
    assert run.result.succeeded, run.result.error
    counts = run.result.streams
    assert [(c.emitted, c.committed) for c in counts.values()] == [(12, 12)]
    logged = run.observer.text()
    assert "starting up (a plain line, not JSON)" in logged
    assert '{"type": "DEBUG", "message": "not an Airbyte message"}' in logged
    assert "progress: 9 records" in logged
    assert query(tmp_path / "warehouse.duckdb", "select count(*) from items")[0][0] == 12


def test_a_crash_mid_stream_fails_and_keeps_only_the_committed_state(tmp_path: Path) -> None:
    run = run_sync(tmp_path, {"records": 20, "per_state": 5, "crash_after": 7})
    error = run.result.error
    assert isinstance(error, ConnectorError)
    assert error.failure_type is FailureType.system_error
    assert "exited with code 3" in str(error)
    assert "connection reset by peer" in str(error)  # its last words on stderr
    assert run.saved() == {"position": 5}  # the one checkpoint the destination committed
    assert ("[stderr] RuntimeError: connection reset by peer") in run.observer.text()
    assert query(tmp_path / "warehouse.duckdb", "select count(*) from items")[0][0] == 5


def test_a_non_zero_exit_fails_the_attempt_even_after_every_record(tmp_path: Path) -> None:
    run = run_sync(tmp_path, {"records": 10, "per_state": 5, "exit_code": 2})
    assert not run.result.succeeded
    assert isinstance(run.result.error, ConnectorError)
    assert "exited with code 2" in str(run.result.error)
    # Its checkpoints were committed before it failed, so keeping them loses nothing.
    assert run.saved() == {"position": 10}


def test_an_error_trace_is_classified_by_its_failure_type(tmp_path: Path) -> None:
    run = run_sync(tmp_path, {"records": 4, "per_state": 2, "error_trace": True})
    error = run.result.error
    assert isinstance(error, ConfigError)
    assert "the API token expired" in str(error)
    assert "exited with code 1" in str(error)


def test_a_silent_source_is_killed_with_its_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "source.pid"
    source = {"records": 20, "per_state": 5, "hang_after": 6, "pid_file": str(pid_file)}
    started = time.monotonic()
    run = run_sync(tmp_path, source, limits=Limits(heartbeat=1.5, grace=1.0))
    assert time.monotonic() - started < 30
    error = run.result.error
    assert isinstance(error, TransientError)
    assert "produced no output for 1.5s" in str(error)
    assert group_members(int(pid_file.read_text())) == []  # the sleeping child went with it
    assert run.saved() == {"position": 5}


def test_a_source_running_past_the_timeout_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "source.pid"
    source = {"records": 20, "per_state": 5, "hang_after": 2, "pid_file": str(pid_file)}
    run = run_sync(tmp_path, source, limits=Limits(timeout=2.0, heartbeat=None, grace=1.0))
    assert isinstance(run.result.error, TransientError)
    assert "ran longer than the limit of 2s" in str(run.result.error)
    assert group_members(int(pid_file.read_text())) == []
    assert run.saved() is None  # nothing was committed


def test_cancel_kills_the_source_and_saves_nothing_new(tmp_path: Path) -> None:
    pid_file = tmp_path / "source.pid"
    source = {"records": 20, "per_state": 5, "hang_after": 7, "pid_file": str(pid_file)}
    sync, store, _ = make_sync(tmp_path, source)
    timer = threading.Timer(1.5, sync.cancel)
    timer.start()
    result = sync.run()
    timer.join()
    assert isinstance(result.error, SyncCancelled)
    assert group_members(int(pid_file.read_text())) == []
    assert store.load().streams[next(iter(result.streams))].state == {"position": 5}


def test_a_full_refresh_stream_without_states_gets_one_and_is_committed(tmp_path: Path) -> None:
    from ferry.engine.catalog import StreamSelection
    from ferry.protocol import DestinationSyncMode, SyncMode

    selection = StreamSelection(
        "items", sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite
    )
    run = run_sync(tmp_path, {"records": 3, "per_state": 100, "no_final_state": True}, selections=[selection])
    assert run.result.succeeded, run.result.error
    (counts,) = run.result.streams.values()
    assert (counts.emitted, counts.committed, counts.states) == (3, 3, 1)


def test_values_that_do_not_fit_become_null_with_a_reason(tmp_path: Path) -> None:
    run = run_sync(tmp_path, {"records": 6, "per_state": 3, "bad_values": True})
    assert run.result.succeeded, run.result.error
    rows = query(
        tmp_path / "warehouse.duckdb",
        "select id, updated_at is null, json_extract_string(_airbyte_meta, '$.changes[0].reason') "
        "from items order by id",
    )
    assert [(i, nulled) for i, nulled, _ in rows] == [(i, i % 2 == 0) for i in range(1, 7)]
    assert {reason for i, _, reason in rows if i % 2 == 0} == {"DESTINATION_SERIALIZATION_ERROR"}


def test_source_logs_reach_the_observer_with_their_levels(tmp_path: Path) -> None:
    run = run_sync(tmp_path, {"records": 2, "per_state": 5, "crash_after": 1})
    assert (Level.WARN, "[stderr] Traceback (most recent call last):") in run.observer.logs


def test_a_long_run_of_plain_records_takes_the_block_path_and_every_row_arrives(tmp_path: Path) -> None:
    run = run_sync(tmp_path, {"records": 30_000, "per_state": 12_000})
    assert run.result.succeeded, run.result.error
    (counts,) = run.result.streams.values()
    assert (counts.emitted, counts.committed, counts.states) == (30_000, 30_000, 3)
    database = tmp_path / "warehouse.duckdb"
    assert query(database, "select count(distinct id), min(id), max(id) from items")[0] == (30_000, 1, 30_000)
    assert query(database, "select count(*) from items where tags is null or updated_at is null")[0][0] == 0


def test_checkpoints_held_back_between_commits_are_kept_when_the_source_fails(tmp_path: Path) -> None:
    # Committing every 1,000 rows holds the checkpoints at 5 and 10 back; the crash still saves them.
    run = run_sync(tmp_path, {"records": 20, "per_state": 5, "crash_after": 12}, commit_rows=1_000)
    assert isinstance(run.result.error, ConnectorError)
    assert run.saved() == {"position": 10}
