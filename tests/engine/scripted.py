"""Connectors for engine tests: a source that follows a script, a destination whose faults are chosen.

They exercise the engine's rules (what is saved, what is counted, what fails); the built-in
connectors are tested against the same rules with real DuckDB files elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ferry.cdk import Checkpoint, Destination, ReadContext, RecordBatch, Source, Stream, StreamItem, Writer
from ferry.protocol import (
    ConfiguredCatalog,
    ConnectorSpecification,
    Message,
    StateMessage,
    StateType,
    StreamDescriptor,
    Type,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
        "name": {"type": ["null", "string"]},
    },
}


class ScriptedStream(Stream):
    cursor_field: list[str] | None = ["updated_at"]
    primary_key: list[list[str]] | None = [["id"]]
    resumable = True

    def __init__(self, name: str, script: list[Any]) -> None:
        self.name = name
        self.script = script

    def json_schema(self) -> dict[str, Any]:
        return SCHEMA

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        start = (ctx.state or {}).get("position", 0)
        for position, item in enumerate(self.script):
            if position < start:
                continue
            if isinstance(item, BaseException):
                raise item
            if item == "checkpoint":
                yield Checkpoint({"position": position + 1})
            else:
                yield item


class ScriptedSource(Source):
    name = "scripted"

    def __init__(self, scripts: dict[str, list[Any]]) -> None:
        self.scripts = scripts

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(connection_specification={"type": "object"})

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [ScriptedStream(name, script) for name, script in self.scripts.items()]


def rows(start: int, stop: int, day: int = 1) -> pa.RecordBatch:
    ids = list(range(start, stop))
    return pa.RecordBatch.from_pydict(
        {
            "id": ids,
            "updated_at": [f"2024-01-{day:02d}T00:00:{i % 60:02d}Z" for i in ids],
            "name": [f"n{i}" for i in ids],
        }
    )


@dataclass
class Faults:
    drop_rows_at_commit: int | None = None  # commit one row fewer than received at this commit number
    fail_at_commit: int | None = None  # raise instead of committing at this commit number
    skip_echo: bool = False
    reverse_echo: bool = False


@dataclass
class Table:
    committed: list[dict[str, Any]] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)


class MemoryWriter(Writer):
    def __init__(
        self, dest: MemoryDestination, config: Mapping[str, Any], catalog: ConfiguredCatalog
    ) -> None:
        super().__init__(config, catalog)
        self.dest = dest
        self.pending: list[tuple[StreamDescriptor, dict[str, Any]]] = []
        self.commits = 0

    def write(self, batch: RecordBatch) -> None:
        self.pending.extend((batch.stream, r) for r in batch.data.to_pylist())

    def commit(self) -> dict[StreamDescriptor, int]:
        self.commits += 1
        faults = self.dest.faults
        if faults.fail_at_commit == self.commits:
            raise RuntimeError("disk full (injected)")
        if faults.drop_rows_at_commit == self.commits and self.pending:
            self.pending.pop()
        counts: dict[StreamDescriptor, int] = {}
        for stream, row in self.pending:
            self.dest.tables.setdefault(stream.name, Table()).committed.append(row)
            counts[stream] = counts.get(stream, 0) + 1
        self.pending.clear()
        return counts

    def complete(self, stream: StreamDescriptor) -> None:
        self.dest.completed.append(stream.name)


class MemoryDestination(Destination):
    name = "memory"

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.tables: dict[str, Table] = {}
        self.completed: list[str] = []
        self.catalogs: list[ConfiguredCatalog] = []

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(connection_specification={"type": "object"})

    def check(self, config: Mapping[str, Any]) -> None:
        pass

    def writer(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> Writer:
        self.catalogs.append(catalog)
        return MemoryWriter(self, config, catalog)

    def write(
        self, config: Mapping[str, Any], catalog: ConfiguredCatalog, messages: Any
    ) -> Iterator[Message]:
        echoed = super().write(config, catalog, messages)
        if self.faults.skip_echo:
            for _ in echoed:
                pass
            return
        if self.faults.reverse_echo:
            held: list[Message] = []
            for message in echoed:
                held.append(message)
                if len(held) == 2:
                    yield from reversed(held)
                    held.clear()
            yield from held
            return
        yield from echoed


def global_state(position: int, streams: list[str]) -> StateMessage:
    from ferry.protocol import GlobalState, StreamState

    return StateMessage(
        type=StateType.GLOBAL,
        global_=GlobalState(
            [StreamState(StreamDescriptor(s), {"position": position}) for s in streams],
            shared_state={"lsn": position},
        ),
    )


def message_types(messages: list[Message]) -> list[Type]:
    return [m.type for m in messages]
