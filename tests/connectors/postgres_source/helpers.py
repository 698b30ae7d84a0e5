"""Helpers for the postgres source tests: a schema of one's own, and reads that keep batches and states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from tests.dbs import pg_connect, pg_source_config

from ferry.cdk.batching import RecordBatch
from ferry.cdk.schema import CHANGES_COLUMN
from ferry.connectors.sources.postgres import PostgresSource
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    Message,
    StateMessage,
    StateType,
    StreamState,
    SyncMode,
)


@dataclass(slots=True)
class Read:
    """One read of one stream: its rows (Arrow, in order) and its states, each with the rows before it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    states: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(rows read before the state, the state)."""
    changes: list[Any] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def column(self, name: str) -> list[Any]:
        return [r[name] for r in self.rows]


class Pg:
    """A schema of its own in the test database, and the source config that reads only it."""

    def __init__(self, database: str, schema: str) -> None:
        self.database = database
        self.schema = schema
        self.con = pg_connect(database)
        self.con.execute(f'CREATE SCHEMA "{schema}"')
        self.con.execute(f'SET search_path TO "{schema}"')

    def run(self, *statements: str) -> None:
        for statement in statements:
            self.con.execute(statement)

    def config(self, **extra: Any) -> dict[str, Any]:
        return pg_source_config(self.database, schemas=[self.schema], **extra)

    def close(self) -> None:
        self.con.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        self.con.close()


def configured(
    config: dict[str, Any], name: str, mode: SyncMode = SyncMode.full_refresh, cursor: str | None = None
) -> ConfiguredStream:
    catalog = PostgresSource().discover(config)
    stream = next(s for s in catalog.streams if s.name == name)
    destination = (
        DestinationSyncMode.overwrite if mode is SyncMode.full_refresh else DestinationSyncMode.append
    )
    return ConfiguredStream(stream, mode, destination, cursor_field=[cursor] if cursor else None)


def state_message(stream: ConfiguredStream, state: dict[str, Any]) -> StateMessage:
    return StateMessage(StateType.STREAM, stream=StreamState(stream.descriptor, state))


def read(config: dict[str, Any], stream: ConfiguredStream, state: dict[str, Any] | None = None) -> Read:
    out = Read()
    states = [state_message(stream, state)] if state is not None else []
    for item in PostgresSource().read(config, ConfiguredCatalog([stream]), states):
        if isinstance(item, RecordBatch):
            data: pa.RecordBatch = item.data
            if CHANGES_COLUMN in data.schema.names:
                out.changes += data.column(CHANGES_COLUMN).to_pylist()
                data = data.drop_columns([CHANGES_COLUMN])
            else:
                out.changes += [None] * data.num_rows
            out.rows += data.to_pylist()
        else:
            out.messages.append(item)
            if item.state is not None and item.state.stream is not None:
                out.states.append((len(out.rows), item.state.stream.stream_state or {}))
    return out
