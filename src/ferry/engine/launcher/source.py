"""An external source run as a subprocess (`read --config --catalog [--state]`), behind SourceRunner.

Its stdout is read line by line. RECORD lines take a fast path (one orjson parse, no message
objects) into per-stream JSON batchers that yield typed Arrow batches; everything else is decoded
into messages, and lines that are not protocol messages become log lines. stderr becomes log lines
too. A non-zero exit, an ERROR trace or a kill fails the read, after the records it covered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson

from ferry.cdk import SourceOutput, StreamTyper
from ferry.engine.launcher.batches import JsonBatcher
from ferry.engine.launcher.catalogs import for_source
from ferry.engine.launcher.commands import ConnectorCommands, SpecStore, decode_line, stderr_message
from ferry.engine.launcher.control import ConfigCallback
from ferry.engine.launcher.failures import failure
from ferry.engine.launcher.limits import Limits
from ferry.engine.launcher.process import ConnectorProcess
from ferry.engine.launcher.programs import Program
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConnectionStatus,
    ConnectorSpecification,
    ErrorTrace,
    Level,
    Message,
    ProtocolError,
    StateMessage,
    StateType,
    StreamDescriptor,
    SyncMode,
    TraceType,
    Type,
    log_message,
    message_from_obj,
    stream_state_message,
    to_obj,
)

_RECORD_PREFIX = b'{"type":"RECORD",'
_PLAIN_RECORD = b'{"type":"RECORD","record":{"stream":"'
_Key = tuple[str, str | None]


class SubprocessSource:
    """A source that is a program speaking the Airbyte protocol (an install, a command, an image)."""

    def __init__(
        self,
        program: Program,
        config: Mapping[str, Any],
        *,
        limits: Limits | None = None,
        spec_store: SpecStore | None = None,
        on_config_change: ConfigCallback | None = None,
        spec: ConnectorSpecification | None = None,
        batch_rows: int = 10_000,
        validate: bool = True,
    ) -> None:
        self.commands = ConnectorCommands(
            program,
            "source",
            config,
            limits=limits or Limits(),
            spec_store=spec_store,
            on_config_change=on_config_change,
            spec=spec,
        )
        self.name = program.name
        self.batch_rows = batch_rows
        if validate:
            self.commands.validate()

    @property
    def config(self) -> dict[str, Any]:
        return self.commands.config

    def spec(self) -> ConnectorSpecification:
        return self.commands.spec()

    def check(self) -> ConnectionStatus:
        return self.commands.check()

    def discover(self) -> Catalog:
        return self.commands.discover()

    def stop(self) -> None:
        self.commands.stop()

    def read(self, catalog: ConfiguredCatalog, state: Sequence[StateMessage]) -> Iterator[SourceOutput]:
        files: dict[str, Any] = {"config.json": self.config, "catalog.json": to_obj(for_source(catalog))}
        args = ["read", "--config", "{config.json}", "--catalog", "{catalog.json}"]
        if state:
            files["state.json"] = _state_file(state)
            args += ["--state", "{state.json}"]
        with self.commands.process(args, files) as proc:
            yield from _Reader(self, catalog, proc).run()


def _state_file(state: Sequence[StateMessage]) -> Any:
    """A STREAM/GLOBAL state is a JSON array of state payloads; a LEGACY one is its bare blob (1.5.5)."""
    if len(state) == 1 and state[0].state_type is StateType.LEGACY:
        return state[0].data
    return [to_obj(s) for s in state]


class _Reader:
    """One read: stdout lines in, typed batches and messages out, judged at the end."""

    def __init__(self, source: SubprocessSource, catalog: ConfiguredCatalog, proc: ConnectorProcess) -> None:
        self.source = source
        self.catalog = catalog
        self.proc = proc
        self.batchers: dict[_Key, JsonBatcher] = {
            (s.stream.name, s.stream.namespace): JsonBatcher(
                s.descriptor, StreamTyper(s.stream.json_schema), source.batch_rows
            )
            for s in catalog.streams
        }
        self.plain: dict[bytes, JsonBatcher] = {}
        self._full: list[JsonBatcher] = []
        self.errors: list[ErrorTrace] = []
        self.stated: set[StreamDescriptor] = set()
        self.global_state = False

    def run(self) -> Iterator[SourceOutput]:
        self.plain = {
            orjson.dumps(name)[1:-1]: batcher
            for (name, namespace), batcher in self.batchers.items()
            if namespace is None
        }
        proc = self.proc
        for chunk in proc.chunks():
            if self._whole_chunk(chunk):  # the fastest path: a chunk of one stream's plain records
                yield from self._ready()
                continue
            for line in chunk.split(b"\n"):
                if line:
                    yield from self._line(line)
            if proc.has_stderr:
                yield from self._stderr()
            yield from self._ready()
        yield from self._finish()

    def _whole_chunk(self, chunk: bytes) -> bool:
        """Hand the chunk to its stream's batcher when every line in it is a plain record of that stream."""
        start = len(_PLAIN_RECORD)
        end = chunk.find(b'","data":', start) if chunk.startswith(_PLAIN_RECORD) else -1
        batcher = self.plain.get(chunk[start:end]) if end > 0 else None
        if batcher is None or not chunk.endswith(b"\n"):
            return False
        rows = chunk.count(b"\n")
        if chunk.count(b"\n" + chunk[: end + 9]) != rows - 1 or b'"namespace"' in chunk or b'"meta"' in chunk:
            return False
        if batcher.add_lines(chunk, rows):
            self._full.append(batcher)
        return True

    def _ready(self) -> Iterator[SourceOutput]:
        while self._full:
            yield from self._full.pop(0).flush()

    def _line(self, line: bytes) -> Iterator[SourceOutput]:
        if line.startswith(_PLAIN_RECORD):
            # A plain line of a known stream is kept as bytes for Arrow to parse.
            start = len(_PLAIN_RECORD)
            end = line.find(b'","data":', start)
            batcher = self.plain.get(line[start:end]) if end > 0 else None
            if batcher is not None and b'"namespace"' not in line and b'"meta"' not in line:
                if batcher.add_line(line):
                    yield from batcher.flush()
                return
        if line.startswith(_RECORD_PREFIX):
            yield from self._record_line(line)
        else:
            yield from self._handle(decode_line(line), len(line))

    def _record_line(self, line: bytes) -> Iterator[SourceOutput]:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        record = obj.get("record") if type(obj) is dict and len(obj) == 2 else None
        if type(record) is dict and "meta" not in record:
            key: Any = (record.get("stream"), record.get("namespace"))
            batcher = self.batchers.get(key)
            data, emitted_at = record.get("data"), record.get("emitted_at")
            if batcher is None and type(key[0]) is str:
                return  # a stream outside the configured catalog is ignored (protocol rule)
            if batcher is not None and type(data) is dict and type(emitted_at) is int:
                if batcher.add(data, emitted_at, len(line)):
                    yield from batcher.flush()
                return
        yield from self._handle(self._from_obj(obj, line), len(line))

    def _from_obj(self, obj: Any, line: bytes) -> Message:
        try:
            return message_from_obj(obj)
        except ProtocolError as exc:
            text = line.decode("utf-8", errors="replace").rstrip()
            return log_message(Level.WARN, f"not a valid Airbyte message ({exc}): {text[:500]}")

    def _handle(self, message: Message, size: int) -> Iterator[SourceOutput]:
        kind = message.type
        if kind is Type.RECORD and message.record is not None:
            yield from self._record(message, size)
        elif kind is Type.STATE and message.state is not None:
            yield from self._flush()
            self._note_state(message.state)
            yield message
        elif kind is Type.TRACE and message.trace is not None:
            if message.trace.type is TraceType.ERROR and message.trace.error is not None:
                self.errors.append(message.trace.error)
            yield message
        elif kind is Type.LOG:
            yield message
        elif kind is Type.CONTROL and message.control is not None:
            yield log_message(Level.INFO, self.source.commands.updates.apply(message.control))

    def _record(self, message: Message, size: int) -> Iterator[SourceOutput]:
        record = message.record
        assert record is not None
        batcher = self.batchers.get((record.stream, record.namespace))
        if batcher is None:
            return
        changes = [
            {"field": c.field, "change": c.change.value, "reason": c.reason.value}
            for c in (record.meta.changes or [] if record.meta else [])
        ]
        full = (
            batcher.add_with_changes(record.data, record.emitted_at, size, changes)
            if changes
            else batcher.add(record.data, record.emitted_at, size)
        )
        if full:
            yield from batcher.flush()

    def _flush(self) -> Iterator[SourceOutput]:
        for batcher in self.batchers.values():
            yield from batcher.flush()

    def _note_state(self, state: StateMessage) -> None:
        if state.state_type is StateType.STREAM and state.stream is not None:
            self.stated.add(state.stream.stream_descriptor)
        else:
            self.global_state = True

    def _stderr(self) -> Iterator[SourceOutput]:
        for text in self.proc.stderr_lines():
            yield stderr_message(text)

    def _finish(self) -> Iterator[SourceOutput]:
        """After stdout closed: judge the exit; only a successful read delivers its last records."""
        commands = self.source.commands
        error = failure(commands.outcome(self.proc, self.errors), commands.limits)
        yield from self._stderr()
        if error is not None:
            raise error
        yield from self._flush()
        yield from self._missing_states()

    def _missing_states(self) -> Iterator[SourceOutput]:
        """An empty state for each full-refresh stream the source never checkpointed (airbyte-compat 2.4),
        so the destination commits and counts it like every other stream."""
        if self.global_state:
            return
        for stream in self.catalog.streams:
            if stream.sync_mode is SyncMode.full_refresh and stream.descriptor not in self.stated:
                yield stream_state_message(stream.descriptor, {})
