"""One table or view of the database as a stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ferry.cdk.source import ReadContext, Stream, StreamItem
from ferry.connectors.sources.postgres.catalog import HEAP_KINDS, TableInfo
from ferry.connectors.sources.postgres.config import PgConfig
from ferry.connectors.sources.postgres.connection import SessionPool
from ferry.connectors.sources.postgres.reading import TableReader
from ferry.connectors.sources.postgres.types import CURSOR_HANDLINGS
from ferry.protocol import SyncMode


class PostgresStream(Stream):
    """A table or view; the user picks the cursor, the primary key comes from the table."""

    def __init__(self, table: TableInfo, cfg: PgConfig, sessions: SessionPool) -> None:
        self.table = table
        self.cfg = cfg
        self._sessions = sessions
        self.name = table.name
        self.namespace = table.schema
        self.primary_key = [[name] for name in table.primary_key] or None
        # Pages by primary key, or by ctid where there is none; a view can only be read again whole.
        self.resumable = bool(table.primary_key) or table.kind in HEAP_KINDS

    def json_schema(self) -> dict[str, Any]:
        properties = {c.name: c.json_schema for c in self.table.columns}
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": properties,
        }

    def supported_sync_modes(self) -> list[SyncMode]:
        if any(c.handling in CURSOR_HANDLINGS for c in self.table.columns):
            return [SyncMode.full_refresh, SyncMode.incremental]
        return [SyncMode.full_refresh]

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        finished = False
        try:
            session = self._sessions.get()
            session.set_timeout(self.cfg.statement_timeout)  # a previous stream may have lifted it
            reader = TableReader(session, self.table, self.cfg, ctx.logger)
            if ctx.incremental:
                yield from reader.incremental(ctx.cursor_field, ctx.state)
            else:
                yield from reader.full_refresh(ctx.state)
            finished = True
        finally:
            if not finished:
                # Stopped mid-query or mid-snapshot: the session's state is unknown, so it is not reused.
                self._sessions.discard()
