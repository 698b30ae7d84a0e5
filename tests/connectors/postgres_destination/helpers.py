"""Helpers shared by the Postgres destination tests: catalogs, batches, running the destination, queries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.dbs import pg_connect, pg_settings

from ferry.cdk.batching import RecordBatch, StreamTyper
from ferry.connectors.destinations.postgres import PostgresDestination
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    Message,
    Stream,
    SyncMode,
)
from ferry.protocol.builders import stream_state_message

APPEND = DestinationSyncMode.append
OVERWRITE = DestinationSyncMode.overwrite
DEDUP = DestinationSyncMode.append_dedup
OVERWRITE_DEDUP = DestinationSyncMode.overwrite_dedup
T0 = 1_700_000_000_000  # an emitted_at, epoch ms

USERS = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "updated": {"type": ["null", "integer"]},
    },
}
CDC_USERS = {
    "type": "object",
    "properties": {
        **USERS["properties"],
        "_ab_cdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
    },
}


def props(**kinds: Any) -> dict[str, Any]:
    return {"type": "object", "properties": dict(kinds)}


def configured(
    name: str = "users",
    schema: dict[str, Any] | None = None,
    mode: DestinationSyncMode = APPEND,
    *,
    namespace: str | None = None,
    key: list[list[str]] | None = None,
    cursor: list[str] | None = None,
    generation: int | None = None,
    minimum: int | None = None,
    sync_id: int | None = 1,
) -> ConfiguredStream:
    schema = schema or USERS
    stream = Stream(name, schema, [SyncMode.full_refresh, SyncMode.incremental], namespace=namespace)
    if mode in (DEDUP, OVERWRITE_DEDUP) and key is None:
        key = [["id"]]
    if mode in (DEDUP, OVERWRITE_DEDUP) and cursor is None and "updated" in schema["properties"]:
        cursor = ["updated"]
    if minimum is None and mode in (OVERWRITE, OVERWRITE_DEDUP):
        minimum = generation
    return ConfiguredStream(
        stream,
        SyncMode.incremental,
        mode,
        cursor_field=cursor,
        primary_key=key,
        generation_id=generation,
        minimum_generation_id=minimum,
        sync_id=sync_id,
    )


def catalog(*streams: ConfiguredStream) -> ConfiguredCatalog:
    return ConfiguredCatalog(list(streams))


def batch(stream: ConfiguredStream, rows: list[dict[str, Any]], emitted_at: int = T0) -> RecordBatch:
    return RecordBatch(stream.descriptor, StreamTyper(stream.stream.json_schema).from_rows(rows), emitted_at)


def state(stream: ConfiguredStream, value: Any = None) -> Message:
    return stream_state_message(stream.descriptor, {"cursor": value})


def counts(out: list[Message]) -> list[float | None]:
    return [m.state.destination_stats.record_count for m in out if m.state and m.state.destination_stats]


class Pg:
    """One test's schema: the destination config for it and queries against it."""

    def __init__(self, database: str, schema: str) -> None:
        self.database = database
        self.schema = schema
        self._con = pg_connect(database)

    @property
    def config(self) -> dict[str, Any]:
        s = pg_settings(self.database)
        config = {"host": s["host"], "port": s["port"], "database": s["dbname"], "username": s["user"]}
        if s["password"]:
            config["password"] = s["password"]
        return {**config, "schema": self.schema}

    def run(self, cat: ConfiguredCatalog, messages: Iterable[Any], **config: Any) -> list[Message]:
        return list(PostgresDestination().write({**self.config, **config}, cat, messages))

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """`sql` with `{s}` standing for the test's (quoted) schema."""
        cur = self._con.execute(sql.replace("{s}", f'"{self.schema}"'), params or [])
        return list(cur.fetchall()) if cur.description is not None else []

    def users(self, table: str = "users") -> list[tuple[Any, ...]]:
        return self.query(f'SELECT id, name, updated FROM {{s}}."{table}" ORDER BY id NULLS FIRST, name')

    def column_types(self, table: str, schema: str | None = None) -> dict[str, str]:
        rows = self.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            [schema or self.schema, table],
        )
        return dict(rows)

    def tables(self, schema: str | None = None) -> set[str]:
        rows = self.query("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema or self.schema])
        return {r[0] for r in rows}

    def close(self) -> None:
        self._con.close()
