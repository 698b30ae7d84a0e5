"""The ways a table is read: by primary key pages, by ctid pages, by cursor, or in one pass.

Full refresh pages through a table with a primary key by keyset (`WHERE (pk) > (last) ORDER BY pk
LIMIT n`), and through a heap without one by ranges of ctid pages, so every query is a short
statement and a checkpoint lets a crashed sync resume mid-table. The pages of one read share one
REPEATABLE READ snapshot. A resumed read takes a new snapshot: by key it still misses nothing that
existed throughout, while by ctid a row moved by an UPDATE (or inserted into free space) before the
resume point in the meantime is not read again, as with any ctid-based resume (Airbyte's included).
Views and partitioned tables without a key are read in one statement and are not resumable.

Incremental reads order by the cursor with an inclusive lower bound (`cursor >= last`): rows sharing
the boundary value are read again rather than skipped, and a NULL cursor stops the sync (such a row
would never be read).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ferry.cdk.identifiers import quote
from ferry.cdk.source import Checkpoint, StreamItem
from ferry.connectors.sources.postgres.catalog import HEAP_KINDS, TableInfo
from ferry.connectors.sources.postgres.config import CONNECTOR, PgConfig
from ferry.connectors.sources.postgres.connection import PgSession
from ferry.connectors.sources.postgres.convert import BatchConverter
from ferry.connectors.sources.postgres.state import (
    CtidState,
    CursorState,
    KeyState,
    ctid_state,
    cursor_state,
    key_state,
)
from ferry.connectors.sources.postgres.types import CURSOR_HANDLINGS, ColumnPlan
from ferry.connectors.sources.postgres.values import literal, value_text
from ferry.errors import ConfigError

StateAt = Callable[[pa.RecordBatch, int], dict[str, Any]]

_ALIAS = "src"


def _ref(column: str) -> str:
    """A column of the table itself: ORDER BY a bare name would pick the select list's text rendering."""
    return f"{_ALIAS}.{quote(column)}"


@dataclass(slots=True)
class _Emitter:
    """Converts raw batches and cuts them so that a checkpoint follows every `every` rows."""

    converter: BatchConverter
    every: int
    state_at: StateAt | None
    since: int = 0
    """Rows emitted since the last checkpoint."""
    rows: int = 0
    last: tuple[pa.RecordBatch, int] | None = field(default=None)
    """The raw batch and row of the last row emitted."""

    def emit(self, raws: Iterator[pa.RecordBatch]) -> Iterator[StreamItem]:
        for raw in raws:
            if not raw.num_rows:
                continue
            out = self.converter.convert(raw)
            start = 0
            while start < raw.num_rows:
                take = min(self.every - self.since, raw.num_rows - start) if self.state_at else raw.num_rows
                yield out.slice(start, take)
                start += take
                self.since += take
                self.rows += take
                self.last = (raw, start - 1)
                if self.state_at is not None and self.since >= self.every:
                    self.since = 0
                    yield Checkpoint(self.state_at(raw, start - 1))


@dataclass(slots=True)
class TableReader:
    session: PgSession
    table: TableInfo
    cfg: PgConfig
    log: logging.Logger
    converter: BatchConverter = field(init=False)

    def __post_init__(self) -> None:
        self.converter = BatchConverter(self.table.columns)

    @property
    def stream(self) -> str:
        return f"{self.table.schema}.{self.table.name}"

    def _select(self, where: str = "", order: str = "", limit: int | None = None) -> str:
        columns = ", ".join(c.select_sql for c in self.table.columns)
        sql = f"SELECT {columns} FROM {self.table.sql_name} AS {_ALIAS}"
        sql += f" WHERE {where}" if where else ""
        sql += f" ORDER BY {order}" if order else ""
        return sql + (f" LIMIT {limit}" if limit else "")

    def _batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        return self.session.batches(sql, doing=f"reading {self.stream}", stream=self.stream)

    def _index(self, column: ColumnPlan) -> int:
        return self.table.columns.index(column)

    # --- full refresh ------------------------------------------------------------------------

    def full_refresh(self, state: dict[str, Any] | None) -> Iterator[StreamItem]:
        key = [c for c in (self.table.column(k) for k in self.table.primary_key) if c is not None]
        if key:
            self.log.info(
                "reading %s by primary key %s, %d rows a query",
                self.stream,
                self.table.primary_key,
                self.cfg.chunk_rows,
            )
            yield from self._in_snapshot(lambda: self._by_key(key, state))
        elif self.table.kind in HEAP_KINDS:
            self.log.info("reading %s by ctid pages (it has no primary key)", self.stream)
            yield from self._in_snapshot(lambda: self._by_ctid(state))
        else:
            self.log.info("reading %s in one pass (no key or ctid to resume by)", self.stream)
            yield from self._in_one_pass()

    def _in_snapshot(self, read: Callable[[], Iterator[StreamItem]]) -> Iterator[StreamItem]:
        doing = f"starting a snapshot of {self.stream}"
        self.session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", doing=doing)
        yield from read()
        self.session.execute("COMMIT", doing=f"ending the snapshot of {self.stream}")

    def _by_key(self, key: list[ColumnPlan], state: dict[str, Any] | None) -> Iterator[StreamItem]:
        names = tuple(c.name for c in key)
        resumed = key_state(state, names)
        after = resumed.values if resumed else None
        order = ", ".join(_ref(n) for n in names)
        indexes = [self._index(c) for c in key]

        def key_at(raw: pa.RecordBatch, row: int) -> tuple[str, ...]:
            return tuple(value_text(raw.column(i), row, c) or "" for i, c in zip(indexes, key, strict=True))

        emitter = _Emitter(
            self.converter, self.cfg.checkpoint_rows, lambda r, i: KeyState(names, key_at(r, i)).to_dict()
        )
        while True:
            where = ""
            if after is not None:
                bound = ", ".join(literal(v, c) for v, c in zip(after, key, strict=True))
                where = f"({order}) > ({bound})"
            rows_before = emitter.rows
            yield from emitter.emit(self._batches(self._select(where, order, self.cfg.chunk_rows)))
            if emitter.last is not None:
                after = key_at(*emitter.last)
            if emitter.rows - rows_before < self.cfg.chunk_rows:
                break
        if emitter.since or not emitter.rows:
            yield Checkpoint(KeyState(names, after).to_dict() if after is not None else {})

    def _by_ctid(self, state: dict[str, Any] | None) -> Iterator[StreamItem]:
        oid = self.table.oid
        ((filenode, pages, per_page),) = self.session.rows(
            f"SELECT pg_relation_filenode({oid})::bigint, "
            f"(pg_relation_size({oid}) / current_setting('block_size')::int)::bigint, "
            f"(CASE WHEN relpages > 0 THEN reltuples / relpages ELSE 0 END)::float8 "
            f"FROM pg_catalog.pg_class WHERE oid = {oid}",
            doing=f"sizing {self.stream}",
        )
        node = int(filenode or 0)
        resumed = ctid_state(state, node, self.log)
        page = resumed.next_page if resumed else 0
        # Pages per query, so that one query reads about checkpoint_rows rows (64 pages before ANALYZE).
        step = max(1, math.ceil(self.cfg.checkpoint_rows / per_page)) if per_page and per_page > 0 else 64
        emitter = _Emitter(self.converter, self.cfg.checkpoint_rows, None)
        if page >= pages:
            yield Checkpoint(CtidState(node, page).to_dict())  # nothing (left) to read: still end on a state
        while page < pages:
            end = page + step
            where = f"{_ALIAS}.ctid >= '({page},0)'::tid AND {_ALIAS}.ctid < '({end},0)'::tid"
            yield from emitter.emit(self._batches(self._select(where)))
            page = end
            yield Checkpoint(CtidState(node, page).to_dict())

    def _in_one_pass(self) -> Iterator[StreamItem]:
        # A view (or a partitioned or foreign table without a key) has no position to page by: one
        # statement, which may run as long as the view needs, so the timeout is lifted for it.
        self.session.set_timeout(0)
        emitter = _Emitter(self.converter, self.cfg.checkpoint_rows, None)
        yield from emitter.emit(self._batches(self._select()))
        yield Checkpoint({})

    # --- incremental ---------------------------------------------------------------------------

    def incremental(
        self, cursor_field: list[str] | None, state: dict[str, Any] | None
    ) -> Iterator[StreamItem]:
        column = self._cursor_column(cursor_field)
        start = cursor_state(state, column.name, self.log)
        name = _ref(column.name)
        where = (
            f"{name} >= {literal(start.cursor, column)} OR {name} IS NULL" if start.cursor is not None else ""
        )
        index = self._index(column)

        def state_at(raw: pa.RecordBatch, row: int) -> dict[str, Any]:
            return CursorState(column.name, value_text(raw.column(index), row, column)).to_dict()

        self.log.info(
            "reading %s incrementally by %s from %s", self.stream, column.name, start.cursor or "the start"
        )
        self.session.set_timeout(0)  # one ordered statement over every new row; see _in_one_pass
        emitter = _Emitter(self.converter, self.cfg.checkpoint_rows, state_at)
        raws = self._refuse_null_cursor(
            self._batches(self._select(where, f"{name} NULLS FIRST")), index, column
        )
        yield from emitter.emit(raws)
        if emitter.since or emitter.last is None:
            yield Checkpoint(state_at(*emitter.last) if emitter.last else start.to_dict())

    def _cursor_column(self, cursor_field: list[str] | None) -> ColumnPlan:
        if not cursor_field or len(cursor_field) != 1:
            raise ConfigError(
                f"stream '{self.stream}' is read incrementally but has no cursor column"
                if not cursor_field
                else f"stream '{self.stream}': cursor {cursor_field} is a nested path",
                hint="Set cursor_field to one column of the table, e.g. [updated_at].",
                connector=CONNECTOR,
                stream=self.stream,
            )
        column = self.table.column(cursor_field[0])
        if column is None or column.handling not in CURSOR_HANDLINGS:
            problem = (
                "is not a column of the table"
                if column is None
                else f"has type {column.pg_type.sql}, which cannot order rows"
            )
            raise ConfigError(
                f"stream '{self.stream}': cursor '{cursor_field[0]}' {problem}",
                hint="Choose a timestamp, date, number or text column that grows with every change.",
                connector=CONNECTOR,
                stream=self.stream,
                field="cursor_field",
            )
        return column

    def _refuse_null_cursor(
        self, raws: Iterator[pa.RecordBatch], index: int, column: ColumnPlan
    ) -> Iterator[pa.RecordBatch]:
        # NULLs sort first, so one look at the first row tells whether any row has no cursor value:
        # such rows would never be read again, so the sync stops instead of skipping them.
        first = True
        for raw in raws:
            if first and raw.num_rows and not raw.column(index)[0].is_valid:
                raise ConfigError(
                    f"stream '{self.stream}': cursor column '{column.name}' has NULL values; "
                    "rows with a NULL cursor would never be read",
                    hint="Choose a cursor column without NULLs (or fill them), or use full refresh.",
                    connector=CONNECTOR,
                    stream=self.stream,
                    field="cursor_field",
                )
            first = first and not raw.num_rows
            yield raw
