"""The source conformance suite: a test class that checks every connector rule on a source in one line.

    class TestSampleData(SourceConformance):
        connector = SampleDataSource
        config = {"count": 2500, "records_per_checkpoint": 1000}

A config that needs files overrides the classmethod `make_config(tmp_dir)`. Reads go through
`connector().read(config, catalog, state)` in-process; one test runs the connector's Airbyte CLI
(spec, check, discover, read) as a subprocess. Import this module only from tests: it needs pytest.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import importlib.metadata
import inspect
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest

from ferry.cdk.batching import RecordBatch, StreamTyper
from ferry.cdk.entrypoint import batch_to_records
from ferry.cdk.schema import CHANGES_COLUMN
from ferry.cdk.source import Source
from ferry.cdk.spec import validate_config
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConfiguredStream,
    ConnectionStatusValue,
    ConnectorSpecification,
    DestinationSyncMode,
    Message,
    ProtocolError,
    StateMessage,
    StateType,
    StreamDescriptor,
    StreamStatus,
    SyncMode,
    Type,
    decode,
    dumps,
    encode,
    to_obj,
)

SECRET_NAME = re.compile(r"passw(or)?d|token|secret|api_?key|credential|private_?key", re.IGNORECASE)
"""Config field names that must be marked `airbyte_secret` (Airbyte's own spec test has the same rule)."""

_SHOWN = 10  # problems listed in one assertion message


# --- one read, as the wire would carry it ------------------------------------------------------


@dataclass(slots=True)
class ReadRun:
    """Everything one read produced, in order, with record batches turned into JSON RECORD messages."""

    catalog: ConfiguredCatalog
    messages: list[Message]

    def of(self, stream: StreamDescriptor) -> list[Message]:
        """The stream's records, states (STREAM, or GLOBAL covering it) and statuses, in order."""
        return [m for m in self.messages if stream in _streams_of(m)]

    def records(self, stream: StreamDescriptor) -> list[dict[str, Any]]:
        return [m.record.data for m in self.of(stream) if m.record is not None]


def _streams_of(message: Message) -> tuple[StreamDescriptor, ...]:
    if message.record is not None:
        return (StreamDescriptor(message.record.stream, message.record.namespace),)
    state = message.state
    if state is not None and state.stream is not None:
        return (state.stream.stream_descriptor,)
    if state is not None and state.global_ is not None:
        return tuple(s.stream_descriptor for s in state.global_.stream_states)
    if message.trace is not None and message.trace.stream_status is not None:
        return (message.trace.stream_status.stream_descriptor,)
    return ()


def _as_on_the_wire(items: Iterable[Message | RecordBatch]) -> Iterator[Message]:
    for item in items:
        for message in batch_to_records(item) if isinstance(item, RecordBatch) else (item,):
            yield decode(encode(message))  # values exactly as a JSON reader sees them


def read_source(
    source: Source, config: Mapping[str, Any], catalog: ConfiguredCatalog, state: list[StateMessage]
) -> ReadRun:
    return ReadRun(catalog, list(_as_on_the_wire(source.read(config, catalog, state))))


def configure(catalog: Catalog, mode: SyncMode) -> ConfiguredCatalog:
    """Every stream that supports `mode`, configured for it with its default cursor."""
    streams = [s for s in catalog.streams if mode in s.supported_sync_modes]
    if mode is SyncMode.full_refresh:
        return ConfiguredCatalog([ConfiguredStream(s, mode, DestinationSyncMode.overwrite) for s in streams])
    return ConfiguredCatalog(
        [
            ConfiguredStream(s, mode, DestinationSyncMode.append, cursor_field=s.default_cursor_field)
            for s in streams
        ]
    )


# --- values, paths and cursors -----------------------------------------------------------------


def _value_at(data: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _in_schema(schema: Any, path: list[str]) -> bool:
    for key in path:
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        if not isinstance(properties, Mapping) or key not in properties:
            return False
        schema = properties[key]
    return bool(path)


def cursor_order(value: Any) -> tuple[int, Any]:
    """A sort key for cursor values: numbers by value, timestamps by instant, other text as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return (2, value)
        return (1, (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp())
    return (3, json.dumps(value, sort_keys=True, default=str))


def _latest(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present, key=cursor_order) if present else None


def _earlier(value: Any, than: Any) -> bool:
    return value is not None and than is not None and cursor_order(value) < cursor_order(than)


def _identity(data: dict[str, Any], key: list[list[str]] | None) -> str:
    picked = [_value_at(data, path) for path in key] if key else data
    return json.dumps(picked, sort_keys=True, default=str)


def _secret_looking_fields(schema: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(dotted path, property) for every scalar property whose name looks like a secret, at any depth."""
    if not isinstance(schema, Mapping):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        dotted = f"{path}.{name}" if path else name
        declared = prop.get("type", "string")
        types = set(declared if isinstance(declared, list) else [declared]) - {"null"}
        scalar = bool(types & {"string", "integer", "number"}) and "const" not in prop and "enum" not in prop
        if scalar and SECRET_NAME.search(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)):
            yield dotted, prop
        yield from _secret_looking_fields(prop, dotted)
    for key in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(key) or []:
            yield from _secret_looking_fields(option, path)
    yield from _secret_looking_fields(schema.get("items"), path)


# --- rules every read keeps --------------------------------------------------------------------


def _status(message: Message) -> StreamStatus | None:
    trace = message.trace
    return trace.stream_status.status if trace is not None and trace.stream_status is not None else None


def _stream_lifecycle_problems(d: StreamDescriptor, events: list[Message]) -> list[str]:
    statuses = [s for s in map(_status, events) if s is not None]
    kinds = [m.type for m in events]
    has_records = Type.RECORD in kinds
    expected = [StreamStatus.STARTED, *([StreamStatus.RUNNING] if has_records else []), StreamStatus.COMPLETE]
    if statuses != expected:
        return [f"{d}: statuses {[s.value for s in statuses]}, expected {[s.value for s in expected]}"]
    if _status(events[0]) is not StreamStatus.STARTED or _status(events[-1]) is not StreamStatus.COMPLETE:
        return [f"{d}: a record or state outside STARTED..COMPLETE"]
    if Type.STATE not in kinds:
        return [f"{d}: no state (every stream ends with one, an empty one when it read nothing)"]
    problems = []
    last_state = len(kinds) - 1 - kinds[::-1].index(Type.STATE)
    if has_records and len(kinds) - 1 - kinds[::-1].index(Type.RECORD) > last_state:
        problems.append(f"{d}: records after the stream's last state")
    if has_records and kinds.index(Type.RECORD) < [_status(m) for m in events].index(StreamStatus.RUNNING):
        problems.append(f"{d}: a record before RUNNING")
    return problems


def lifecycle_problems(run: ReadRun) -> list[str]:
    """Per configured stream: STARTED, RUNNING before the first record, COMPLETE last, a state after the
    last record, and nothing of the stream outside STARTED..COMPLETE."""
    return [
        p for c in run.catalog.streams for p in _stream_lifecycle_problems(c.descriptor, run.of(c.descriptor))
    ]


def count_problems(run: ReadRun) -> list[str]:
    """sourceStats.recordCount of every state equals the records of its scope since the previous state."""
    problems: list[str] = []
    pending: dict[StreamDescriptor, int] = {}
    for message in run.messages:
        if message.record is not None:
            d = StreamDescriptor(message.record.stream, message.record.namespace)
            pending[d] = pending.get(d, 0) + 1
        elif message.state is not None:
            state = message.state
            if state.state_type is StateType.GLOBAL:
                scope, expected = "GLOBAL", sum(pending.values())
                pending.clear()
            elif state.state_type is StateType.STREAM and state.stream is not None:
                scope, expected = (
                    str(state.stream.stream_descriptor),
                    pending.pop(state.stream.stream_descriptor, 0),
                )
            else:
                problems.append("a LEGACY state: sources emit STREAM or GLOBAL state")
                continue
            counted = state.source_stats.record_count if state.source_stats is not None else None
            if counted != expected:
                problems.append(
                    f"state of {scope}: sourceStats.recordCount {counted}, records since last {expected}"
                )
    return problems


def order_problems(configured: ConfiguredStream, events: list[Message]) -> list[str]:
    """No record after a state is earlier than the latest cursor of the records before that state."""
    cursor = configured.cursor or []
    problems: list[str] = []
    latest: Any = None
    covered: Any = None
    for message in events:
        if message.record is not None:
            value = _value_at(message.record.data, cursor)
            if _earlier(value, covered):
                problems.append(
                    f"{configured.descriptor}: cursor {value!r} after a state covering {covered!r}"
                )
            latest = _latest([latest, value])
        elif message.state is not None:
            covered = latest
    return problems


def _problems(problems: list[str]) -> str:
    more = f"\n... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    return "\n".join(problems[:_SHOWN]) + more


def _spread(items: list[int], most: int) -> list[int]:
    """At most `most` of `items`, evenly spaced, always with the first and the last."""
    if len(items) <= most:
        return items
    step = (len(items) - 1) / (most - 1)
    return sorted({items[round(i * step)] for i in range(most)})


# --- running the Airbyte CLI -------------------------------------------------------------------


def cli_command(connector: type[Source]) -> tuple[list[str], dict[str, str]]:
    """argv and environment that run `connector` with Airbyte's CLI: `ferry-connector source-NAME` when
    the connector is registered, else the kit's entrypoint on the class's module."""
    for entry in importlib.metadata.entry_points(group="ferry.sources"):
        if entry.value.split(":")[-1] == connector.__qualname__ and entry.load() is connector:
            script = Path(sys.executable).parent / "ferry-connector"
            program = str(script) if script.exists() else shutil.which("ferry-connector") or str(script)
            return [program, f"source-{entry.name}"], dict(os.environ)
    module = connector.__module__
    root = Path(inspect.getfile(connector)).resolve().parents[module.count(".")]
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    code = (
        f"import sys; from {module} import {connector.__qualname__} as C; "
        "from ferry.cdk.entrypoint import launch; sys.exit(launch(C()))"
    )
    return [sys.executable, "-c", code], {**os.environ, "PYTHONPATH": path}


def _reference_problems(lines: list[bytes]) -> list[str]:
    """Lines Airbyte's reference models reject (checked only where airbyte-protocol-models is installed)."""
    try:
        # Imported by name: the package ships no type information, and only dev installs have it.
        reference = importlib.import_module("airbyte_protocol.models")
    except ImportError:
        return []
    problems = []
    for line in lines:
        try:
            reference.AirbyteMessage.model_validate_json(line)
        except ValueError as exc:
            problems.append(f"{line[:200]!r}: {exc}")
    return problems


# --- the suite ---------------------------------------------------------------------------------


class SourceConformance:
    """Subclass in a test module, set `connector` and `config`, and pytest runs the whole suite."""

    connector: ClassVar[type[Source]]
    config: ClassVar[dict[str, Any]] = {}
    not_secret: ClassVar[frozenset[str]] = frozenset()
    """Dotted config paths that look like secrets but are not (e.g. "token_url")."""
    max_resumes: ClassVar[int] = 25
    """Incremental resumes per stream, spread over its states (the first and the last always among them)."""
    cli_timeout: ClassVar[float] = 180.0

    @classmethod
    def make_config(cls, tmp_dir: Path) -> dict[str, Any]:
        """The config to test with; override when it needs files (write them under `tmp_dir`)."""
        return copy.deepcopy(cls.config)

    @classmethod
    def state_cursor(cls, stream: ConfiguredStream, state: StateMessage) -> Any:
        """The cursor value a state keeps, when it keeps one under the cursor's name (most sources do);
        override for another layout. None: the state's cursor is not known."""
        blob = state.stream.stream_state if state.stream is not None else None
        cursor = stream.cursor
        return blob.get(cursor[-1]) if isinstance(blob, dict) and cursor else None

    # --- fixtures: one discover and one read of each kind per class ---

    @pytest.fixture(scope="class")
    @classmethod
    def source(cls) -> Source:
        return cls.connector()

    @pytest.fixture(scope="class")
    @classmethod
    def source_config(cls, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
        return cls.make_config(tmp_path_factory.mktemp(cls.connector.__name__))

    @pytest.fixture(scope="class")
    @classmethod
    def spec(cls, source: Source) -> ConnectorSpecification:
        return source.spec()

    @pytest.fixture(scope="class")
    @classmethod
    def catalog(cls, source: Source, source_config: dict[str, Any]) -> Catalog:
        return source.discover(source_config)

    @pytest.fixture(scope="class")
    @classmethod
    def full_refresh_run(cls, source: Source, source_config: dict[str, Any], catalog: Catalog) -> ReadRun:
        return read_source(source, source_config, configure(catalog, SyncMode.full_refresh), [])

    @pytest.fixture(scope="class")
    @classmethod
    def incremental_run(cls, source: Source, source_config: dict[str, Any], catalog: Catalog) -> ReadRun:
        configured = configure(catalog, SyncMode.incremental)
        if not configured.streams:
            pytest.skip("no stream supports incremental sync")
        return read_source(source, source_config, configured, [])

    @pytest.fixture(
        scope="class", params=[SyncMode.full_refresh, SyncMode.incremental], ids=lambda m: m.value
    )
    @classmethod
    def any_run(cls, request: pytest.FixtureRequest) -> ReadRun:
        run: ReadRun = request.getfixturevalue(f"{request.param.value}_run")
        return run

    # --- spec and check ---

    def test_spec_is_a_valid_json_schema(self, spec: ConnectorSpecification) -> None:
        schema = spec.connection_specification
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema.get("type") == "object", "the config schema's top level must be an object"

    def test_config_satisfies_spec(self, spec: ConnectorSpecification, source_config: dict[str, Any]) -> None:
        validate_config(spec.connection_specification, source_config, self.connector.name)

    def test_secret_looking_fields_are_marked_secret(self, spec: ConnectorSpecification) -> None:
        unmarked = [
            path
            for path, prop in _secret_looking_fields(spec.connection_specification)
            if not prop.get("airbyte_secret") and path not in self.not_secret
        ]
        assert unmarked == [], f"mark these airbyte_secret: true (or list them in not_secret): {unmarked}"

    def test_check_succeeds(self, source: Source, source_config: dict[str, Any]) -> None:
        source.check(source_config)

    # --- discover ---

    def test_discover_returns_uniquely_named_streams(self, catalog: Catalog) -> None:
        assert catalog.streams, "discover found no stream"
        names = [str(s.descriptor) for s in catalog.streams]
        assert all(s.name for s in catalog.streams), "a stream has an empty name"
        assert len(set(names)) == len(names), f"duplicate streams: {names}"

    def test_stream_schemas_are_valid_objects(self, catalog: Catalog) -> None:
        for stream in catalog.streams:
            jsonschema.Draft7Validator.check_schema(stream.json_schema)
            declared = stream.json_schema.get("type")
            top_is_object = declared == "object" or (isinstance(declared, list) and "object" in declared)
            assert top_is_object, f"{stream.name}: the schema's top level must be an object, not {declared!r}"

    def test_sync_modes_are_declared(self, catalog: Catalog) -> None:
        for stream in catalog.streams:
            modes = stream.supported_sync_modes
            assert modes, f"{stream.name}: no sync mode"
            assert len(set(modes)) == len(modes), f"{stream.name}: repeated sync modes {modes}"
            # Database sources offer incremental with a cursor the user picks; only a cursor the source
            # defines itself must be named.
            if stream.source_defined_cursor:
                assert stream.default_cursor_field, (
                    f"{stream.name}: source-defined cursor, but no default cursor field"
                )

    def test_cursor_and_primary_key_exist_in_schema(self, catalog: Catalog) -> None:
        missing = [
            f"{stream.name}: {path}"
            for stream in catalog.streams
            for path in [*([stream.default_cursor_field] if stream.default_cursor_field else [])]
            + (stream.source_defined_primary_key or [])
            if not _in_schema(stream.json_schema, path)
        ]
        assert missing == [], f"cursor / primary key paths not in the stream's schema: {missing}"

    # --- every read: full refresh and incremental ---

    def test_records_match_their_stream_schema(self, any_run: ReadRun) -> None:
        problems: list[str] = []
        for configured in any_run.catalog.streams:
            validator = jsonschema.Draft7Validator(configured.stream.json_schema)
            for i, data in enumerate(any_run.records(configured.descriptor)):
                problems += [
                    f"{configured.descriptor} record {i}: {e.message} at {list(e.absolute_path)}"
                    for e in validator.iter_errors(data)
                ]
                if len(problems) > _SHOWN:
                    break
        assert problems == [], _problems(problems)

    def test_records_fit_their_columns(self, any_run: ReadRun) -> None:
        """Every value converts to its column's type: a destination would NULL none of them."""
        problems: list[str] = []
        for configured in any_run.catalog.streams:
            rows = any_run.records(configured.descriptor)
            batch = StreamTyper(configured.stream.json_schema).from_rows(rows)
            if CHANGES_COLUMN in batch.schema.names:
                changes = batch.column(CHANGES_COLUMN).to_pylist()
                problems += [f"{configured.descriptor} record {i}: {c}" for i, c in enumerate(changes) if c]
        assert problems == [], _problems(problems)

    def test_only_configured_streams_are_read(self, any_run: ReadRun) -> None:
        configured = {c.descriptor for c in any_run.catalog.streams}
        strays = {d for m in any_run.messages for d in _streams_of(m)} - configured
        assert strays == set(), f"messages for streams not in the catalog: {strays}"

    def test_streams_have_statuses_and_end_with_a_state(self, any_run: ReadRun) -> None:
        problems = lifecycle_problems(any_run)
        assert problems == [], _problems(problems)

    def test_state_record_counts_match_records(self, any_run: ReadRun) -> None:
        problems = count_problems(any_run)
        assert problems == [], _problems(problems)

    def test_read_reports_no_error(self, any_run: ReadRun) -> None:
        errors = [m.trace.error.message for m in any_run.messages if m.trace is not None and m.trace.error]
        assert errors == []

    # --- incremental: order and resume ---

    def test_incremental_states_in_order(self, incremental_run: ReadRun) -> None:
        """Records after a state are not earlier than the cursor it covers; state cursors never go back."""
        problems: list[str] = []
        for configured in incremental_run.catalog.streams:
            events = incremental_run.of(configured.descriptor)
            problems += order_problems(configured, events)
            kept = [self.state_cursor(configured, m.state) for m in events if m.state is not None]
            kept = [k for k in kept if k is not None]
            problems += [
                f"{configured.descriptor}: state cursor {b!r} after {a!r}"
                for a, b in itertools.pairwise(kept)
                if _earlier(b, a)
            ]
        assert problems == [], _problems(problems)

    def test_incremental_resume_from_every_state(
        self, source: Source, source_config: dict[str, Any], incremental_run: ReadRun
    ) -> None:
        """Resuming from a state returns nothing earlier than the cursor it covers, and loses nothing that
        came after it in the first read."""
        problems: list[str] = []
        for configured in incremental_run.catalog.streams:
            events = incremental_run.of(configured.descriptor)
            positions = [i for i, m in enumerate(events) if m.state is not None]
            for i in _spread(positions, self.max_resumes):
                problems += self._resume_problems(source, source_config, configured, events, i)[0]
        assert problems == [], _problems(problems)

    def test_incremental_resume_from_final_state(
        self, source: Source, source_config: dict[str, Any], incremental_run: ReadRun
    ) -> None:
        """From the last state: no record earlier than it, and a new final state that is not earlier."""
        problems: list[str] = []
        for configured in incremental_run.catalog.streams:
            events = incremental_run.of(configured.descriptor)
            final = max(i for i, m in enumerate(events) if m.state is not None)
            found, run = self._resume_problems(source, source_config, configured, events, final)
            problems += found
            states = [m.state for m in run.of(configured.descriptor) if m.state is not None]
            before = events[final].state
            assert before is not None
            if states and _earlier(
                self.state_cursor(configured, states[-1]), self.state_cursor(configured, before)
            ):
                problems.append(
                    f"{configured.descriptor}: the state went back after resuming from the final one"
                )
        assert problems == [], _problems(problems)

    def _resume_problems(
        self,
        source: Source,
        config: dict[str, Any],
        configured: ConfiguredStream,
        events: list[Message],
        at: int,
    ) -> tuple[list[str], ReadRun]:
        state = events[at].state
        assert state is not None
        cursor = configured.cursor or []
        covered = _latest(_value_at(m.record.data, cursor) for m in events[:at] if m.record is not None)
        run = read_source(source, config, ConfiguredCatalog([configured]), [state])
        resumed = run.records(configured.descriptor)
        where = (
            f"{configured.descriptor} resumed from state #{sum(m.state is not None for m in events[:at]) + 1}"
        )
        problems = [f"{where}: {p}" for p in lifecycle_problems(run) + count_problems(run)]
        problems += [
            f"{where}: record with cursor {v!r} is earlier than the state's {covered!r}"
            for v in (_value_at(r, cursor) for r in resumed)
            if _earlier(v, covered)
        ][:_SHOWN]
        kept = {_identity(r, configured.key) for r in resumed}
        after = [m.record.data for m in events[at + 1 :] if m.record is not None]
        lost = [r for r in after if _identity(r, configured.key) not in kept]
        if lost:
            problems.append(
                f"{where}: {len(lost)} record(s) read after this state are missing, e.g. {lost[0]}"
            )
        return problems, run

    # --- the Airbyte CLI, as a subprocess ---

    def test_airbyte_cli(
        self,
        spec: ConnectorSpecification,
        catalog: Catalog,
        full_refresh_run: ReadRun,
        source_config: dict[str, Any],
        tmp_path: Path,
    ) -> None:
        """spec, check, discover and read through the CLI: every line is a message Airbyte accepts, and
        the answers match the in-process ones."""
        command, env = cli_command(self.connector)
        config_file, catalog_file = tmp_path / "config.json", tmp_path / "catalog.json"
        config_file.write_bytes(dumps(source_config))
        catalog_file.write_bytes(dumps(to_obj(full_refresh_run.catalog)))
        lines: list[bytes] = []

        def run(*args: str) -> list[Message]:
            done = subprocess.run(
                [*command, *args], capture_output=True, env=env, timeout=self.cli_timeout, check=False
            )
            output = [line for line in done.stdout.splitlines() if line.strip()]
            assert done.returncode == 0, (
                f"{args[0]} exited {done.returncode}: {done.stdout[-3000:]!r} {done.stderr[-3000:]!r}"
            )
            lines.extend(output)
            try:
                return [m for m in map(decode, output) if m.type is not Type.LOG]
            except ProtocolError as exc:
                raise AssertionError(
                    f"{args[0]} wrote a line that is not an Airbyte message: {exc}"
                ) from None

        assert [to_obj(m) for m in run("spec")] == [to_obj(Message(Type.SPEC, spec=spec))]
        statuses = [m.connection_status for m in run("check", "--config", str(config_file))]
        assert [s.status if s else None for s in statuses] == [ConnectionStatusValue.SUCCEEDED], statuses
        discovered = [m.catalog for m in run("discover", "--config", str(config_file))]
        assert [[str(s.descriptor) for s in c.streams] if c else None for c in discovered] == [
            [str(s.descriptor) for s in catalog.streams]
        ]
        cli_run = ReadRun(
            full_refresh_run.catalog,
            run("read", "--config", str(config_file), "--catalog", str(catalog_file)),
        )
        problems = lifecycle_problems(cli_run) + count_problems(cli_run) + _reference_problems(lines)
        assert problems == [], _problems(problems)
        for configured in cli_run.catalog.streams:
            d = configured.descriptor
            assert len(cli_run.records(d)) == len(full_refresh_run.records(d)), f"{d}: record counts differ"
