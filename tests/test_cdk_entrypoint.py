"""The Airbyte CLI the kit gives every connector: commands, output, exit codes and input-file errors."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ferry.cdk import (
    Checkpoint,
    Destination,
    ReadContext,
    RecordBatch,
    Source,
    Stream,
    StreamItem,
    StreamTyper,
    Writer,
)
from ferry.cdk.entrypoint import batch_to_records, launch
from ferry.errors import ConfigError, TransientError
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    ConnectionStatusValue,
    ConnectorSpecification,
    FailureType,
    Message,
    StreamDescriptor,
    StreamStatus,
    SyncMode,
    Type,
    decode,
    dumps,
    encode,
    record_message,
    stream_state_message,
    to_obj,
)

# --- a tiny source and destination --------------------------------------------------------------

SPEC = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 0},
        "fail_at": {"type": "integer"},
        "check_error": {"type": "string", "enum": ["config", "transient"]},
    },
}


class Numbers(Stream):
    name = "numbers"
    primary_key = [["n"]]
    cursor_field = ["n"]
    source_defined_cursor = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.count = config.get("count", 5)
        self.fail_at = config.get("fail_at")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"n": {"type": "integer"}, "square": {"type": "integer"}}}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        start = (ctx.state or {}).get("n", 0) + 1
        for n in range(start, self.count + 1):
            if n == self.fail_at:
                raise TransientError(f"connection lost at {n}")
            yield {"n": n, "square": n * n}
            if n % 2 == 0:
                yield Checkpoint({"n": n})
        yield Checkpoint({"n": self.count})


class Letters(Stream):
    """Yields an Arrow batch typed by the kit; one value does not fit and is NULLed with a reason."""

    name = "letters"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"letter": {"type": "string"}, "code": {"type": "integer"}}}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        rows = [{"letter": "a", "code": 97}, {"letter": "ß", "code": "not a number"}]
        yield StreamTyper(self.json_schema()).from_rows(rows)


class TinySource(Source):
    name = "tiny"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(SPEC, documentation_url="https://docs.example.com/tiny")

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [Numbers(config), Letters()]

    def check(self, config: Mapping[str, Any]) -> None:
        if config.get("check_error") == "config":
            raise ConfigError("the count is not allowed today", field="count")
        if config.get("check_error") == "transient":
            raise TransientError("the server is busy")


class _FileWriter(Writer):
    def __init__(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        super().__init__(config, catalog)
        self.pending: list[dict[str, Any]] = []

    def write(self, batch: RecordBatch) -> None:
        if self.config.get("fail"):
            raise TransientError("disk full")
        self.pending += [{"stream": batch.stream.name, **row} for row in batch.data.to_pylist()]

    def commit(self) -> None:
        with Path(self.config["path"]).open("a") as f:
            f.writelines(json.dumps(row) + "\n" for row in self.pending)
        self.pending = []


class TinyDestination(Destination):
    name = "tiny-files"

    def spec(self) -> ConnectorSpecification:
        props = {"path": {"type": "string"}, "fail": {"type": "boolean"}}
        return ConnectorSpecification({"type": "object", "required": ["path"], "properties": props})

    def check(self, config: Mapping[str, Any]) -> None:
        if not Path(config["path"]).parent.is_dir():
            raise ConfigError(f"folder of {config['path']} does not exist")

    def writer(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> Writer:
        return _FileWriter(config, catalog)


# --- running it ---------------------------------------------------------------------------------


class Files:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, content: Any) -> str:
        path = self.root / name
        path.write_bytes(content if isinstance(content, bytes) else dumps(content))
        return str(path)

    def catalog(
        self, mode: SyncMode = SyncMode.full_refresh, streams: tuple[str, ...] = ("numbers", "letters")
    ) -> str:
        discovered = TinySource().discover({}).streams
        configured = [ConfiguredStream(s, mode) for s in discovered if s.name in streams]
        return self.write("catalog.json", to_obj(ConfiguredCatalog(configured)))


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


def run(connector: Source | Destination, *argv: str, stdin: bytes = b"") -> tuple[int, list[Message]]:
    out = io.BytesIO()
    code = launch(connector, list(argv), stdin=io.BytesIO(stdin), stdout=out)
    raw = out.getvalue()
    assert raw == b"" or raw.endswith(b"\n")
    return code, [decode(line) for line in raw.splitlines()]


def _only(messages: list[Message], kind: Type) -> list[Message]:
    return [m for m in messages if m.type is kind]


def _error(messages: list[Message]) -> Any:
    errors = [m.trace.error for m in messages if m.trace is not None and m.trace.error is not None]
    assert errors, f"no ERROR trace in {messages}"
    return errors[-1]


# --- spec, check, discover ------------------------------------------------------------------------


def test_spec_prints_the_spec() -> None:
    code, messages = run(TinySource(), "spec")
    assert code == 0
    assert [to_obj(m) for m in messages] == [to_obj(Message(Type.SPEC, spec=TinySource().spec()))]


def test_check_succeeds(files: Files) -> None:
    code, messages = run(TinySource(), "check", "--config", files.write("config.json", {"count": 3}))
    assert code == 0
    (message,) = messages
    assert message.connection_status is not None
    assert message.connection_status.status is ConnectionStatusValue.SUCCEEDED


@pytest.mark.parametrize(
    ("config", "text"),
    [
        ({"count": "many"}, "config field 'count' is invalid"),
        ({"count": -1}, "config field 'count' is invalid"),
        ({"check_error": "config"}, "the count is not allowed today"),
    ],
)
def test_check_with_bad_config_reports_failed_and_exits_0(
    files: Files, config: dict[str, Any], text: str
) -> None:
    code, messages = run(TinySource(), "check", "--config", files.write("config.json", config))
    assert code == 0
    (message,) = messages
    assert message.connection_status is not None
    assert message.connection_status.status is ConnectionStatusValue.FAILED
    assert text in (message.connection_status.message or "")


def test_check_with_other_error_exits_1_with_trace(files: Files) -> None:
    code, messages = run(
        TinySource(), "check", "--config", files.write("config.json", {"check_error": "transient"})
    )
    assert code == 1
    assert [m.type for m in messages] == [Type.TRACE]
    error = _error(messages)
    assert error.failure_type is FailureType.transient_error
    assert error.message == "the server is busy."
    assert "TransientError" in (error.stack_trace or "")


def test_discover_prints_the_catalog(files: Files) -> None:
    code, messages = run(TinySource(), "discover", "--config", files.write("config.json", {}), "--debug")
    assert code == 0
    (message,) = messages
    assert message.catalog is not None
    numbers, letters = message.catalog.streams
    assert (numbers.name, letters.name) == ("numbers", "letters")
    assert numbers.supported_sync_modes == [SyncMode.full_refresh, SyncMode.incremental]
    assert numbers.default_cursor_field == ["n"]
    assert numbers.source_defined_primary_key == [["n"]]
    assert letters.supported_sync_modes == [SyncMode.full_refresh]


# --- read ---------------------------------------------------------------------------------------


def _statuses(messages: list[Message], stream: str) -> list[StreamStatus]:
    return [
        m.trace.stream_status.status
        for m in messages
        if m.trace is not None
        and m.trace.stream_status is not None
        and m.trace.stream_status.stream_descriptor.name == stream
    ]


def test_read_prints_records_states_and_statuses(files: Files) -> None:
    code, messages = run(
        TinySource(),
        "read",
        "--config",
        files.write("config.json", {"count": 5}),
        "--catalog",
        files.catalog(),
    )
    assert code == 0
    records = [m.record for m in messages if m.record is not None]
    assert [r.data for r in records if r.stream == "numbers"] == [
        {"n": n, "square": n * n} for n in range(1, 6)
    ]
    states = [
        (m.state.stream.stream_state, m.state.source_stats) for m in messages if m.state and m.state.stream
    ]
    assert [(s, c.record_count if c else None) for s, c in states] == [
        ({"n": 2}, 2.0),
        ({"n": 4}, 2.0),
        ({"n": 5}, 1.0),
        ({}, 2.0),  # letters: no checkpoint of its own, so the kit ends it with an empty state
    ]
    for stream in ("numbers", "letters"):
        assert _statuses(messages, stream) == [
            StreamStatus.STARTED,
            StreamStatus.RUNNING,
            StreamStatus.COMPLETE,
        ]


def test_read_turns_arrow_batches_into_records_with_changes(files: Files) -> None:
    code, messages = run(
        TinySource(),
        "read",
        "--config",
        files.write("config.json", {}),
        "--catalog",
        files.catalog(streams=("letters",)),
    )
    assert code == 0
    letters = [m.record for m in messages if m.record is not None]
    assert [r.data for r in letters] == [{"letter": "a", "code": 97}, {"letter": "ß", "code": None}]
    assert letters[0].meta is None
    assert letters[1].meta is not None
    assert letters[1].meta.changes is not None
    change = letters[1].meta.changes[0]
    assert (change.field, change.change.value, change.reason.value) == (
        "code",
        "NULLED",
        "DESTINATION_SERIALIZATION_ERROR",
    )


def test_batch_to_records_keeps_stream_namespace_and_time() -> None:
    batch = RecordBatch(
        StreamDescriptor("s", "ns"), pa.RecordBatch.from_pylist([{"a": 1}, {"a": None}]), 1234
    )
    assert [to_obj(m) for m in batch_to_records(batch)] == [
        to_obj(record_message("s", {"a": 1}, "ns", 1234)),
        to_obj(record_message("s", {"a": None}, "ns", 1234)),
    ]


@pytest.mark.parametrize(
    ("state", "first"),
    [
        (
            [
                {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": {"name": "numbers"}, "stream_state": {"n": 2}},
                }
            ],
            3,
        ),
        (
            [
                {
                    "type": "GLOBAL",
                    "global": {
                        "stream_states": [
                            {"stream_descriptor": {"name": "numbers"}, "stream_state": {"n": 4}}
                        ]
                    },
                }
            ],
            5,
        ),
        (None, 1),
        ([], 1),
        ({"numbers": {"n": 3}}, 1),  # a LEGACY blob is accepted; the kit's streams keep per-stream state
    ],
    ids=["stream", "global", "null", "empty", "legacy"],
)
def test_read_resumes_from_state_file(files: Files, state: Any, first: int) -> None:
    code, messages = run(
        TinySource(),
        "read",
        "--config",
        files.write("config.json", {"count": 5}),
        "--catalog",
        files.catalog(SyncMode.incremental, ("numbers",)),
        "--state",
        files.write("state.json", state),
    )
    assert code == 0
    assert [m.record.data["n"] for m in messages if m.record is not None] == list(range(first, 6))


def test_read_failure_exits_1_after_incomplete_status_and_error_trace(files: Files) -> None:
    code, messages = run(
        TinySource(),
        "read",
        "--config",
        files.write("config.json", {"count": 5, "fail_at": 4}),
        "--catalog",
        files.catalog(),
    )
    assert code == 1
    assert [m.record.data["n"] for m in messages if m.record is not None] == [1, 2, 3]
    assert _statuses(messages, "numbers") == [
        StreamStatus.STARTED,
        StreamStatus.RUNNING,
        StreamStatus.INCOMPLETE,
    ]
    errors = [m.trace.error for m in messages if m.trace is not None and m.trace.error is not None]
    assert errors[0].stream_descriptor == StreamDescriptor("numbers")
    assert all(
        e.failure_type is FailureType.transient_error and "connection lost at 4" in e.message for e in errors
    )
    last = messages[-1].trace
    assert last is not None
    assert last.error is not None, "the last line is the error"
    assert _statuses(messages, "letters") == [], "no stream starts after a failed one"


def test_read_of_unknown_stream_is_a_config_error(files: Files) -> None:
    catalog = {
        "streams": [
            {
                "stream": {"name": "nope", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "append",
            }
        ]
    }
    code, messages = run(
        TinySource(),
        "read",
        "--config",
        files.write("config.json", {}),
        "--catalog",
        files.write("c.json", catalog),
    )
    assert code == 1
    error = _error(messages)
    assert error.failure_type is FailureType.config_error
    assert "nope" in error.message
    assert "Available streams: letters, numbers." in error.message


# --- input files that are missing or wrong ------------------------------------------------------------


def _bad_inputs(files: Files) -> dict[str, tuple[list[str], str]]:
    config, catalog = files.write("config.json", {}), files.catalog()
    missing = str(files.root / "missing.json")
    return {
        "config-missing": (["--config", missing, "--catalog", catalog], f"config file not found: {missing}"),
        "catalog-missing": (["--config", config, "--catalog", missing], f"catalog file not found: {missing}"),
        "state-missing": (
            ["--config", config, "--catalog", catalog, "--state", missing],
            f"state file not found: {missing}",
        ),
        "config-is-a-folder": (["--config", str(files.root), "--catalog", catalog], "config file"),
        "config-not-json": (
            ["--config", files.write("bad.json", b"{count: 1"), "--catalog", catalog],
            "is not valid JSON",
        ),
        "config-not-object": (
            ["--config", files.write("list.json", [1]), "--catalog", catalog],
            "must hold a JSON object",
        ),
        "catalog-not-catalog": (
            ["--config", config, "--catalog", files.write("cat.json", {"streams": [{"name": "x"}]})],
            "is not a ConfiguredAirbyteCatalog: catalog.streams[0]: required field 'stream' is missing",
        ),
        "state-not-states": (
            ["--config", config, "--catalog", catalog, "--state", files.write("s.json", ["x"])],
            "is not a list of state messages",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "config-missing",
        "catalog-missing",
        "state-missing",
        "config-is-a-folder",
        "config-not-json",
        "config-not-object",
        "catalog-not-catalog",
        "state-not-states",
    ],
)
def test_bad_input_file_is_a_clear_config_error(files: Files, case: str) -> None:
    args, text = _bad_inputs(files)[case]
    code, messages = run(TinySource(), "read", *args)
    assert code == 1
    assert [m.type for m in messages] == [Type.TRACE]
    error = _error(messages)
    assert error.failure_type is FailureType.config_error
    assert text in error.message


def test_check_with_missing_config_file_reports_failed(files: Files) -> None:
    missing = str(files.root / "nope.json")
    code, messages = run(TinySource(), "check", "--config", missing)
    assert code == 0
    (message,) = messages
    assert message.connection_status is not None
    assert message.connection_status.status is ConnectionStatusValue.FAILED
    assert f"config file not found: {missing}" in (message.connection_status.message or "")


@pytest.mark.parametrize("argv", [["launch"], ["read"], ["write", "--config", "c", "--catalog", "k"], []])
def test_unknown_command_or_missing_argument_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        launch(TinySource(), argv, stdout=io.BytesIO())
    assert caught.value.code == 2


# --- write --------------------------------------------------------------------------------------


def _record(stream: str, data: dict[str, Any]) -> bytes:
    return encode(record_message(stream, data, emitted_at=1))


def _state(stream: str, n: int) -> bytes:
    return encode(stream_state_message(StreamDescriptor(stream), {"n": n}, record_count=2))


def test_write_commits_records_and_echoes_states_with_counts(files: Files) -> None:
    out = files.root / "out.jsonl"
    stdin = b"".join(
        [
            _record("numbers", {"n": 1, "square": 1}),
            b"this line is not a message\n",
            b"\n",
            _record("numbers", {"n": 2, "square": 4}),
            _record("elsewhere", {"x": 1}),  # not in the catalog: ignored
            _state("numbers", 2),
            _record("numbers", {"n": 3, "square": 9}),
            _state("numbers", 3),
        ]
    )
    code, messages = run(
        TinyDestination(),
        "write",
        "--config",
        files.write("config.json", {"path": str(out)}),
        "--catalog",
        files.catalog(streams=("numbers",)),
        stdin=stdin,
    )
    assert code == 0
    states = [m.state for m in messages if m.state is not None]
    assert [s.stream.stream_state if s.stream else None for s in states] == [{"n": 2}, {"n": 3}]
    assert [s.destination_stats.record_count if s.destination_stats else None for s in states] == [2.0, 1.0]
    assert [s.source_stats.record_count if s.source_stats else None for s in states] == [2.0, 2.0]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["n"] for r in rows] == [1, 2, 3]


def test_write_failure_exits_1_without_echoing_the_state(files: Files) -> None:
    out = files.root / "out.jsonl"
    code, messages = run(
        TinyDestination(),
        "write",
        "--config",
        files.write("config.json", {"path": str(out), "fail": True}),
        "--catalog",
        files.catalog(streams=("numbers",)),
        stdin=_record("numbers", {"n": 1, "square": 1}) + _state("numbers", 1),
    )
    assert code == 1
    assert _only(messages, Type.STATE) == []
    assert _error(messages).failure_type is FailureType.transient_error


def test_destination_check(files: Files) -> None:
    good = files.write("good.json", {"path": str(files.root / "x.jsonl")})
    bad = files.write("bad.json", {"path": str(files.root / "no" / "such" / "x.jsonl")})
    for config, expected in ((good, ConnectionStatusValue.SUCCEEDED), (bad, ConnectionStatusValue.FAILED)):
        code, messages = run(TinyDestination(), "check", "--config", config)
        assert code == 0
        assert [m.connection_status.status if m.connection_status else None for m in messages] == [expected]


# --- the real console script --------------------------------------------------------------------------


def test_ferry_connector_script_exit_codes(venv_bin: Path, tmp_path: Path) -> None:
    script = str(venv_bin / "ferry-connector")
    spec = subprocess.run(
        [script, "source-sample-data", "spec"], capture_output=True, timeout=60, check=False
    )
    assert spec.returncode == 0
    assert decode(spec.stdout.splitlines()[0]).type is Type.SPEC

    missing = str(tmp_path / "none.json")
    read = subprocess.run(
        [script, "source-sample-data", "read", "--config", missing, "--catalog", missing],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert read.returncode == 1
    last = decode(read.stdout.splitlines()[-1])
    assert last.trace is not None
    assert last.trace.error is not None
    assert last.trace.error.failure_type is FailureType.config_error

    unknown = subprocess.run([script, "source-nope", "spec"], capture_output=True, timeout=60, check=False)
    assert unknown.returncode == 2
    assert b"unknown source connector 'nope'" in unknown.stderr


def test_launch_leaves_the_root_logger_as_it_found_it() -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    root.setLevel(logging.ERROR)
    try:
        run(TinySource(), "spec")
        assert (root.level, list(root.handlers)) == (logging.ERROR, before[1])
    finally:
        root.setLevel(before[0])
