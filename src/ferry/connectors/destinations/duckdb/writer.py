"""The DuckDB destination's Writer: one DuckDB transaction per commit interval, swaps at stream completion.

Where a stream's rows go:

- append: straight into the final table;
- overwrite (and any truncate refresh): into the stream's staging table, which holds one generation
  and replaces the final table in one transaction when the stream completes;
- append_dedup / overwrite_dedup: into a temporary per-commit table, merged at each commit into the
  final (or staging) table by `dedup.merge`.

Nothing is visible to readers before `commit()`; `close()` without a commit rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb

from ferry.cdk.batching import RecordBatch
from ferry.cdk.destination import Writer
from ferry.connectors.destinations.duckdb import dedup, tables
from ferry.connectors.destinations.duckdb.connection import (
    TableRef,
    connect,
    current_catalog,
    database_path,
    memory_limit,
)
from ferry.connectors.destinations.duckdb.loading import StreamLoader
from ferry.connectors.destinations.duckdb.plan import StreamPlan, build_plans
from ferry.errors import FerryError, InternalError, TransientError
from ferry.protocol import ConfiguredCatalog, StreamDescriptor

log = logging.getLogger(__name__)

MAX_BUFFERED_BYTES = 16 << 20
"""Batches held back across all streams to make larger INSERTs; bounds the writer's memory. Inserting
copies the held batches into whole row groups, so the peak is about twice this. 16 MB (was 64): the
2M-row Parquet -> DuckDB copy peaked at ~460 MB instead of ~540 MB, in the same time."""

MAX_UNCOMMITTED_ROWS = 250_000
"""Rows inserted but not committed, beyond which the writer commits without waiting for a state."""


@dataclass(slots=True)
class _Stream:
    plan: StreamPlan
    final: TableRef
    target: TableRef
    """Where committed rows live until the stream completes: the staging table, or the final table."""
    columns: list[str]
    """The target's columns."""
    loader: StreamLoader
    pending: TableRef | None
    tombstones: TableRef | None
    done: bool = False


class DuckDBWriter(Writer):
    def __init__(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        super().__init__(config, catalog)
        self.path = database_path(config)
        self.default_schema = str(config.get("schema") or "main")
        self._con: duckdb.DuckDBPyConnection | None = None
        self._streams: dict[StreamDescriptor, _Stream] = {}
        self._in_transaction = False
        self._buffered = 0

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise InternalError("the DuckDB writer was used before open() or after close()")
        return self._con

    def open(self) -> None:
        plans = build_plans(self.catalog.streams, self.default_schema)  # naming errors before any I/O
        self._con = connect(self.path, memory_limit(self.config))
        catalog = current_catalog(self.con)
        with self._errors("preparing the tables"):
            self._begin()
            for plan in plans.values():
                self._streams[plan.descriptor] = self._prepare(catalog, plan)
            self._commit_transaction()

    def _prepare(self, catalog: str, plan: StreamPlan) -> _Stream:
        con = self.con
        tables.create_schema(con, catalog, plan.schema)
        final = TableRef(catalog, plan.schema, plan.table)
        target, types = self._prepare_target(plan, final)
        tombstones = None
        if plan.tombstones is not None:
            tombstones = final.sibling(plan.tombstones)
            tables.ensure_table(con, tombstones, types)  # every column the target has, to take its rows
        pending = None
        if plan.dedup:
            pending = TableRef("temp", "main", f"_ferry_pending_{plan.index}")
            tables.create_like(con, pending, target)
        loader = StreamLoader(plan, (pending or target).sql, types)
        return _Stream(plan, final, target, list(types), loader, pending, tombstones)

    def _prepare_target(self, plan: StreamPlan, final: TableRef) -> tuple[TableRef, tables.ColumnTypes]:
        """The table the stream's committed rows go to (its staging table when it truncates), ready,
        with its column types."""
        staging = final.sibling(plan.staging)
        if plan.truncate and tables.holds_generation(self.con, final, plan.generation_id):
            # The swap of this generation already happened (the engine crashed before recording it):
            # the resumed attempt continues in the final table; a fresh staging table would replace
            # the whole generation with only its tail. Older generations go at complete().
            tables.drop(self.con, staging)
            log.info(
                "stream %s resumes generation %s in its final table", plan.descriptor, plan.generation_id
            )
            return final, tables.ensure_table(self.con, final, tables.wanted_types(plan.columns))
        if not plan.truncate:
            # A generation staged by an overwrite that never completed can no longer be swapped in.
            tables.drop(self.con, staging)
            return final, tables.ensure_table(self.con, final, tables.wanted_types(plan.columns))
        types = tables.ensure_table(self.con, staging, tables.wanted_types(plan.columns))
        kept = tables.drop_other_generations(self.con, staging, plan.generation_id)
        if kept:
            log.info(
                "stream %s resumes generation %s: %d rows staged", plan.descriptor, plan.generation_id, kept
            )
        return staging, types

    def write(self, batch: RecordBatch) -> None:
        stream = self._streams.get(batch.stream)
        if stream is None:
            return
        if stream.done:
            raise InternalError(
                f"records of stream '{batch.stream}' arrived after the stream was reported COMPLETE",
                stream=str(batch.stream),
            )
        with self._errors(f"loading stream '{batch.stream}'", stream):
            self._begin()
            before = stream.loader.buffered_bytes
            stream.loader.add(self.con, batch.data, batch.emitted_at)
            self._buffered += stream.loader.buffered_bytes - before
            if self._buffered >= MAX_BUFFERED_BYTES:
                self._flush_all(whole_row_groups=True)
            if self._early_commit_is_safe() and self._uncommitted_rows() >= MAX_UNCOMMITTED_ROWS:
                # A DuckDB transaction holds its new rows in memory until COMMIT: commit early so a
                # sync's memory stays flat however rarely the source checkpoints. The rows are counted
                # at the next state; a failure before it re-sends them into a staging or deduplicated
                # table, where they cannot appear twice.
                self._commit_rows()

    def _uncommitted_rows(self) -> int:
        return sum(s.loader.rows_loaded for s in self._streams.values())

    def _early_commit_is_safe(self) -> bool:
        """No plain-append table has rows waiting: there, rows re-sent after a failure would be duplicates."""
        return all(s.plan.truncate or s.plan.dedup for s in self._streams.values() if s.loader.rows_loaded)

    def commit(self) -> dict[StreamDescriptor, int]:
        self._commit_rows()
        reported = {d: s.loader.rows_reported for d, s in self._streams.items() if s.loader.rows_reported}
        for stream in self._streams.values():
            stream.loader.rows_reported = 0
        return reported

    def _commit_rows(self) -> None:
        if self._con is None or not self._in_transaction:
            return
        self._flush_all()
        for stream in self._streams.values():
            if stream.pending is not None and stream.loader.rows_loaded:
                with self._errors(f"deduplicating stream '{stream.plan.descriptor}'", stream):
                    self._merge(stream, stream.pending)
            stream.loader.rows_loaded = 0
        with self._errors("committing"):
            self._commit_transaction()

    def complete(self, stream: StreamDescriptor) -> None:
        state = self._streams.get(stream)
        if state is None or state.done or not state.plan.truncate:
            return
        self._commit_rows()
        plan = state.plan
        with self._errors(f"swapping in the new generation of stream '{stream}'", state):
            self._begin()
            if state.tombstones is not None and plan.deleted_at is not None:
                tables.move_tombstones(
                    self.con, state.target, state.tombstones, state.columns, plan.deleted_at
                )
            if state.target == state.final:
                tables.drop_other_generations(self.con, state.final, plan.generation_id)
            else:
                tables.swap_in(self.con, state.target, state.final)
            self._commit_transaction()
        state.done = True
        log.info("stream %s: generation %s is now table %s", stream, plan.generation_id, state.final.sql)

    def close(self) -> None:
        con, self._con = self._con, None
        if con is None:
            return
        try:
            if self._in_transaction:
                con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # the transaction is gone either way; the original failure is what matters
        finally:
            self._in_transaction = False
            con.close()

    def _merge(self, stream: _Stream, pending: TableRef) -> None:
        # A staging table keeps its deletions until the swap; a final table hands them to the side table.
        tombstones = None if stream.plan.truncate else stream.tombstones
        dedup.merge(
            self.con,
            stream.plan,
            pending=pending,
            target=stream.target,
            tombstones=tombstones,
            columns=stream.columns,
        )
        tables.create_like(self.con, pending, stream.target)

    def _flush_all(self, *, whole_row_groups: bool = False) -> None:
        for stream in self._streams.values():
            with self._errors(f"loading stream '{stream.plan.descriptor}'", stream):
                stream.loader.flush(self.con, whole_row_groups=whole_row_groups)
        self._buffered = sum(s.loader.buffered_bytes for s in self._streams.values())

    def _begin(self) -> None:
        if not self._in_transaction:
            self.con.execute("BEGIN TRANSACTION")
            self._in_transaction = True

    def _commit_transaction(self) -> None:
        self.con.execute("COMMIT")
        self._in_transaction = False

    @contextmanager
    def _errors(self, doing: str, stream: _Stream | None = None) -> Iterator[None]:
        """DuckDB failures as Ferry errors that say what was being done, to which table, in which file."""
        try:
            yield
        except FerryError:
            raise
        except duckdb.Error as exc:
            where = f" (table {stream.target.sql})" if stream is not None else ""
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            message = f"DuckDB failed while {doing}{where} in {self.path}: {text}"
            label = str(stream.plan.descriptor) if stream is not None else None
            if isinstance(exc, duckdb.IOException):
                raise TransientError(
                    message, hint="Check free disk space and file permissions.", stream=label
                ) from exc
            raise InternalError(message, stream=label) from exc
