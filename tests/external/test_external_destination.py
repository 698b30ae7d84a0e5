"""An external destination (fake_connector.py, a real subprocess) receives records as JSON lines and echoes
states; Ferry saves only the states it echoed, checks their order and counts, and sends the COMPLETE
stream statuses after a successful source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ferry.engine.catalog import StreamSelection
from ferry.errors import ConnectorError, InternalError
from ferry.protocol import DestinationSyncMode, SyncMode
from tests.external.conftest import fake
from tests.external.helpers import make_sync, run_sync

SAMPLE = {"count": 40, "records_per_checkpoint": 15}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def to_fake(tmp_path: Path, **destination: Any) -> Any:
    out = tmp_path / "out.jsonl"
    return run_sync(
        tmp_path,
        SAMPLE,
        source_ref="sample-data",
        destination_ref=fake("destination"),
        destination={"path": str(out), **destination},
    )


def test_an_external_destination_gets_records_states_and_complete_statuses(tmp_path: Path) -> None:
    run = to_fake(tmp_path)
    assert run.result.succeeded, run.result.error
    out = tmp_path / "out.jsonl"
    records = lines(out)
    assert len(records) == 3 * 40
    users = [r["data"] for r in records if r["stream"] == "users"]
    assert isinstance(users[0]["address"], dict)  # objects stay objects across the JSON boundary
    assert isinstance(users[0]["tags"], list)
    assert {c.committed for c in run.result.streams.values()} == {40}
    assert run.saved("users") is not None
    statuses = (tmp_path / "out.jsonl.statuses").read_text().split()
    assert statuses == [w for s in ("users", "products", "purchases") for w in (s, "COMPLETE")]


def test_states_echoed_without_the_ferry_id_are_checked_by_order(tmp_path: Path) -> None:
    run = to_fake(tmp_path, drop_ids=True)
    assert run.result.succeeded, run.result.error
    assert sum(c.states for c in run.result.streams.values()) >= 9


def test_only_acknowledged_states_are_saved(tmp_path: Path) -> None:
    run = to_fake(tmp_path, ack_limit=2)
    error = run.result.error
    assert isinstance(error, InternalError)
    assert "without acknowledging" in str(error)
    state = json.loads((tmp_path / "state.json").read_text())
    saved = {s["stream_descriptor"]["name"]: s["state"] for s in state["streams"] if s["state"] is not None}
    # sample-data reads users first: its first two checkpoints are the only ones the destination echoed.
    assert list(saved) == ["users"]
    committed = sum(c.committed for c in run.result.streams.values())
    assert committed == 30


def test_states_echoed_out_of_order_fail_the_sync_and_are_not_saved(tmp_path: Path) -> None:
    run = to_fake(tmp_path, reverse_acks=True)
    assert isinstance(run.result.error, InternalError)
    assert "out of order" in str(run.result.error)
    assert run.saved("users") is None


def test_a_destination_exiting_non_zero_fails_the_sync(tmp_path: Path) -> None:
    # Even after it echoed every state: the exit code is part of the answer.
    run = to_fake(tmp_path, exit_code=5)
    assert isinstance(run.result.error, ConnectorError)
    assert "destination" in str(run.result.error)
    assert "exited with code 5" in str(run.result.error)


def test_overwrite_dedup_never_reaches_an_external_connector(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    selection = StreamSelection(
        "items", sync_mode=SyncMode.incremental, destination_sync_mode=DestinationSyncMode.append_dedup
    )
    echo = tmp_path / "source-saw.json"
    sync, _, _ = make_sync(
        tmp_path,
        {"records": 4, "per_state": 2, "echo_config_to": str(echo)},
        destination_ref=fake("destination"),
        destination={"path": str(out)},
        selections=[selection],
    )
    sync.full_refresh = True  # an incremental dedup stream reloaded: the engine plans overwrite_dedup
    result = sync.run()
    assert result.succeeded, result.error
    destination_catalog = json.loads(Path(f"{out}.catalog.json").read_text())
    source_catalog = json.loads(echo.read_text())["catalog"]
    assert [s["destination_sync_mode"] for s in destination_catalog["streams"]] == ["overwrite"]
    assert "overwrite_dedup" not in json.dumps(source_catalog)
    assert (
        destination_catalog["streams"][0]["generation_id"]
        == destination_catalog["streams"][0]["minimum_generation_id"]
    )
