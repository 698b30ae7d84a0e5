"""One table or view as a stream: resumable full refresh by keyset chunks, and incremental reads by a
user-chosen cursor with an inclusive lower bound.

Reads, and why:
- Full refresh of a table with a chunk key (its primary key, else a unique index over NOT NULL
  columns): `ORDER BY key LIMIT n` chunks, each starting after the last key read, a checkpoint after
  each. A crash resumes mid-table; every chunk is a short statement under the statement timeout.
- Full refresh without a chunk key (views, keyless tables): one pass without checkpoints until the
  end, so a crash restarts the table. The statement timeout does not apply to that pass.
- Incremental with a chunk key: chunks ordered by (cursor, key) from `cursor >= state`, so ties on
  the cursor never straddle a chunk; a checkpoint after each chunk.
- Incremental without a chunk key: one pass ordered by the cursor, a checkpoint every n rows.
Rows whose cursor is NULL are not read by incremental syncs (no lower bound can include them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ferry.cdk import Checkpoint, ReadContext, Stream, StreamItem
from ferry.connectors.sources.mysql import state as states
from ferry.connectors.sources.mysql.connection import Server, connectorx_url
from ferry.connectors.sources.mysql.discovery import TableInfo
from ferry.connectors.sources.mysql.keys import CURSOR_KINDS, KEY_KINDS, Orderable, after, kind_of
from ferry.connectors.sources.mysql.queries import Select, in_session
from ferry.connectors.sources.mysql.reader import Batch, run
from ferry.connectors.sources.mysql.spec import CONNECTOR, Settings
from ferry.connectors.sources.mysql.types import ColumnPlan, plan_for
from ferry.errors import ConfigError
from ferry.protocol import SyncMode

DEFAULT_CURSOR_NAMES = ("updated_at", "modified_at", "last_modified", "last_updated", "updated", "modified")
MAX_BATCH_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class ReadEnv:
    """What every stream of one source needs to run its statements."""

    settings: Settings
    server: Server

    def url(self, database: str) -> str:
        return connectorx_url(self.settings, self.server, database)


def _orderables(table: TableInfo, names: tuple[str, ...], kinds: frozenset[str]) -> list[Orderable] | None:
    out = []
    for name in names:
        column = table.column(name)
        kind = kind_of(column) if column is not None else None
        if kind not in kinds:
            return None
        out.append(Orderable(name, str(kind)))
    return out


class MySQLStream(Stream):
    """A table or view of one database (the stream's namespace)."""

    def __init__(self, table: TableInfo, env: ReadEnv) -> None:
        self.table = table
        self.env = env
        self.name = table.name
        self.database: str = table.database
        self.namespace = table.database
        self.primary_key = [[c] for c in table.primary_key] or None
        self.plans: tuple[ColumnPlan, ...] = tuple(
            plan_for(c, env.settings.unsigned_bigint_as) for c in table.columns
        )
        self.chunk_key: list[Orderable] = next(
            (o for o in (_orderables(table, k, KEY_KINDS) for k in table.unique_keys) if o), []
        )
        self.resumable = bool(self.chunk_key)
        self.cursor_field = self._default_cursor()

    def _default_cursor(self) -> list[str] | None:
        for wanted in DEFAULT_CURSOR_NAMES:
            column = next((c for c in self.table.columns if c.name.lower() == wanted), None)
            if column is not None and kind_of(column) in CURSOR_KINDS - {"string"}:
                return [column.name]
        return None

    def supported_sync_modes(self) -> list[SyncMode]:
        # The cursor is the user's choice: any column that can order a read makes the table incremental.
        if any(kind_of(c) in CURSOR_KINDS for c in self.table.columns):
            return [SyncMode.full_refresh, SyncMode.incremental]
        return [SyncMode.full_refresh]

    def json_schema(self) -> dict[str, Any]:
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {plan.name: plan.prop for plan in self.plans},
        }

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        state = ctx.state or None
        if ctx.incremental:
            yield from self._incremental(self._cursor(ctx.cursor_field), state)
        elif self.chunk_key:
            yield from self._chunked_full_refresh(state)
        else:
            yield from self._single_pass_full_refresh(state)

    # --- full refresh -------------------------------------------------------------------------

    def _chunked_full_refresh(self, state: dict[str, Any] | None) -> Iterator[StreamItem]:
        names = [o.name for o in self.chunk_key]
        position = states.resume_after(state, names)
        emitted = False
        for batch_rows, last in self._chunks(self.chunk_key, (), position):
            if batch_rows is not None:
                yield batch_rows
                continue
            position = (
                [o.state_value(v) for o, v in zip(self.chunk_key, last, strict=True)] if last else position
            )
            if last or not emitted:
                yield Checkpoint(states.full_refresh_state(names, position))
                emitted = True

    def _single_pass_full_refresh(self, state: dict[str, Any] | None) -> Iterator[StreamItem]:
        if not states.finished_without_key(state):
            for batch in self._run(Select(self.database, self.name, self.plans), timed=False):
                yield batch.data
        yield Checkpoint(states.full_refresh_state([], None))

    # --- incremental --------------------------------------------------------------------------

    def _cursor(self, cursor_field: list[str] | None) -> Orderable:
        if not cursor_field or len(cursor_field) != 1:
            raise ConfigError(
                f"stream '{self.namespace}.{self.name}' needs one top-level cursor column, "
                f"got {cursor_field}",
                hint="Set cursor_field to a column such as updated_at.",
                connector=CONNECTOR,
                stream=self.name,
            )
        found = _orderables(self.table, (cursor_field[0],), CURSOR_KINDS)
        if found is None:
            usable = [c.name for c in self.table.columns if kind_of(c) in CURSOR_KINDS]
            raise ConfigError(
                f"column '{cursor_field[0]}' of '{self.namespace}.{self.name}' cannot be a cursor",
                hint=f"Use a number, date, time or short text column: {', '.join(usable) or 'none'}.",
                connector=CONNECTOR,
                stream=self.name,
                field=cursor_field[0],
            )
        return found[0]

    def _incremental(self, cursor: Orderable, state: dict[str, Any] | None) -> Iterator[StreamItem]:
        low = states.lower_bound(state, cursor.name)
        bounds = [f"{cursor.sql} IS NOT NULL"]
        if low is not None:
            bounds.append(f"{cursor.sql} >= {cursor.literal(low)}")
        latest = low
        emitted = False
        items = (
            self._chunks([cursor, *self.chunk_key], tuple(bounds), None)
            if self.chunk_key
            else self._checkpointed_pass(cursor, tuple(bounds))
        )
        for batch_rows, last in items:
            if batch_rows is not None:
                yield batch_rows
            elif last:
                latest = cursor.state_value(last[0])
                yield Checkpoint(states.incremental_state(cursor.name, latest))
                emitted = True
        if not emitted:
            yield Checkpoint(states.incremental_state(cursor.name, latest))

    def _checkpointed_pass(self, cursor: Orderable, bounds: tuple[str, ...]) -> Iterator[tuple[Any, Any]]:
        """One pass ordered by the cursor; a checkpoint marker after every n rows and at the end."""
        select = Select(self.database, self.name, self.plans, (cursor,), bounds)
        pending, last = 0, None
        for batch in self._run(select, timed=False):
            yield batch.data, None
            pending, last = pending + batch.data.num_rows, batch.last
            if pending >= self.env.settings.records_per_checkpoint:
                yield None, last
                pending = 0
        if pending:
            yield None, last

    # --- keyset chunks ------------------------------------------------------------------------

    def _chunks(
        self, order: list[Orderable], bounds: tuple[str, ...], start: list[Any] | None
    ) -> Iterator[tuple[Any, Any]]:
        """(batch, None) for each batch and (None, raw order values of the chunk's last row) after each
        chunk, `ORDER BY order LIMIT n` at a time, starting after `start` (state values)."""
        size = self.env.settings.records_per_checkpoint
        position: list[Any] | None = start
        while True:
            where = bounds + ((after(order, position),) if position is not None else ())
            select = Select(self.database, self.name, self.plans, tuple(order), where, size)
            rows, last = 0, None
            for batch in self._run(select, timed=True):
                yield batch.data, None
                rows, last = rows + batch.data.num_rows, batch.last
            yield None, last
            if last is None or rows < size:
                return
            position = [o.state_value(v) for o, v in zip(order, last, strict=True)]

    def _run(self, select: Select, *, timed: bool) -> Iterator[Batch]:
        settings = self.env.settings
        timeout = settings.statement_timeout_seconds if timed else 0
        sql = in_session(select.sql(), self.env.server, timeout)
        batch_rows = min(settings.records_per_checkpoint, MAX_BATCH_ROWS)
        doing = f"reading {self.namespace}.{self.name}"
        return run(self.env.url(self.database), sql, select, settings, batch_rows=batch_rows, doing=doing)
