"""The Postgres destination's Writer: one transaction per commit interval, swaps at stream completion.

Where a stream's rows go:

- append: COPY straight into the final table;
- overwrite (and any truncate refresh): into the stream's staging table, which holds one generation
  and replaces the final table in one transaction when the stream completes. A staging table of the
  current generation left by a crash is resumed; one of another generation is emptied. When the
  final table already holds the current generation (the swap was committed but the engine died
  before recording it), the resumed attempt writes into the final table itself, and completing it
  removes the rows of older generations: a fresh staging table would replace the table by only the
  resumed attempt's tail;
- append_dedup / overwrite_dedup: into a temporary per-commit table, merged at each commit into
  the final (or staging) table by `dedup.merge`.

Nothing is visible to readers before `commit()`; `close()` without a commit rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ferry.cdk.batching import RecordBatch
from ferry.cdk.destination import Writer
from ferry.connectors.destinations.postgres import dedup, tables
from ferry.connectors.destinations.postgres.config import Settings, settings_from
from ferry.connectors.destinations.postgres.connection import connect, failure
from ferry.connectors.destinations.postgres.encoding import META_COLUMNS, BatchEncoder
from ferry.connectors.destinations.postgres.loading import CHECKER_SQL, copy_batch
from ferry.connectors.destinations.postgres.pipeline import EncodePipeline, Pending
from ferry.connectors.destinations.postgres.plan import StreamPlan, build_plans
from ferry.connectors.destinations.postgres.tables import ColumnTypes, TableRef
from ferry.errors import FerryError, InternalError
from ferry.protocol import ConfiguredCatalog, StreamDescriptor

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Stream:
    plan: StreamPlan
    final: TableRef
    target: TableRef
    """Where committed rows live until the stream completes: the staging table, or the final table."""
    staged: bool
    types: ColumnTypes
    encoder: BatchEncoder
    pending: TableRef | None
    tombstones: TableRef | None
    rows: int = 0
    """Rows the server reported for this stream's COPYs since the last commit() report."""
    unmerged: bool = False
    done: bool = False


class PostgresWriter(Writer):
    def __init__(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        super().__init__(config, catalog)
        self.settings: Settings = settings_from(config)
        self._con: psycopg.Connection[tuple[object, ...]] | None = None
        self._streams: dict[StreamDescriptor, _Stream] = {}
        self._pipeline: EncodePipeline[_Stream] = EncodePipeline(self._load)

    @property
    def con(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._con is None:
            raise InternalError("the Postgres writer was used before open() or after close()")
        return self._con

    def open(self) -> None:
        plans = build_plans(self.catalog.streams, self.settings.schema)  # naming errors before any I/O
        self._con = connect(self.settings)
        version = self.con.info.server_version
        with self._errors("preparing the tables"):
            self.con.execute(CHECKER_SQL)
            for plan in plans.values():
                self._streams[plan.descriptor] = self._prepare(plan, version)
            self.con.commit()

    def _prepare(self, plan: StreamPlan, server_version: int) -> _Stream:
        con = self.con
        tables.create_schema(con, plan.schema)
        final = TableRef(plan.schema, plan.table)
        target, staged = self._truncate_target(plan, final) if plan.truncate else (final, False)
        types = tables.ensure_table(con, target, [(c.name, c.sql_type) for c in plan.columns])
        if staged:
            kept = tables.drop_other_generations(con, target, plan.generation_id)
            if kept:
                log.info(
                    "stream %s resumes generation %s with %d staged rows",
                    plan.descriptor,
                    plan.generation_id,
                    kept,
                )
        tombstones = pending = None
        if plan.dedup:
            tables.ensure_key_index(con, target, plan.key_index(target.name), plan.key)
            if plan.tombstones is not None:
                tombstones = final.sibling(plan.tombstones)
                if not staged:
                    types = self._align_tombstones(target, tombstones, types)
            pending = tables.create_pending(con, f"_ferry_pending_{plan.index}", target, dedup.SEQ)
        encoder = BatchEncoder(plan, types, server_version)
        return _Stream(plan, final, target, staged, types, encoder, pending, tombstones)

    def _truncate_target(self, plan: StreamPlan, final: TableRef) -> tuple[TableRef, bool]:
        con, staging = self.con, final.sibling(plan.staging)
        if plan.generation_id is None:
            return staging, True
        if tables.existing_columns(con, staging) is not None and tables.has_generation(
            con, staging, plan.generation_id
        ):
            return staging, True
        if tables.existing_columns(con, final) is not None and tables.has_generation(
            con, final, plan.generation_id
        ):
            log.info(
                "stream %s: table %s already holds generation %s (swapped in before a crash); resuming in it",
                plan.descriptor,
                final.sql,
                plan.generation_id,
            )
            tables.drop(con, staging)
            return final, False
        return staging, True

    def _align_tombstones(self, target: TableRef, tombstones: TableRef, types: ColumnTypes) -> ColumnTypes:
        """The deletions table gets the target's columns and types (merges read both in one UNION)."""
        data_columns = [(n, t) for n, t in types.items() if n not in META_COLUMNS]
        kept = tables.ensure_table(self.con, tombstones, data_columns)
        wider = [(n, kept[n]) for n, t in data_columns if kept[n] != t]
        return tables.ensure_table(self.con, target, wider) if wider else types

    def write(self, batch: RecordBatch) -> None:
        stream = self._streams.get(batch.stream)
        if stream is None or batch.num_rows == 0:
            return
        if stream.done:
            raise InternalError(
                f"records of stream '{batch.stream}' arrived after the stream was reported COMPLETE",
                stream=str(batch.stream),
            )
        self._pipeline.submit(stream, batch, stream.encoder)

    def _load(self, pending: Pending[_Stream]) -> None:
        stream, batch = pending.stream, pending.batch
        with self._errors(f"loading stream '{batch.stream}' into {stream.target.sql}", stream):
            stream.rows += copy_batch(
                self.con,
                stream.pending or stream.target,
                types=stream.types,
                encoder=stream.encoder,
                data=batch.data,
                emitted_at_ms=batch.emitted_at,
                encoded=pending.encoded.result(),
            )
        stream.unmerged = stream.pending is not None

    def commit(self) -> Mapping[StreamDescriptor, int]:
        if self._con is None:
            return {}
        self._finish_transaction()
        counts = {s.plan.descriptor: s.rows for s in self._streams.values() if s.rows}
        for stream in self._streams.values():
            stream.rows = 0
        return counts

    def complete(self, stream: StreamDescriptor) -> None:
        state = self._streams.get(stream)
        if state is None or state.done or not state.plan.truncate:
            return
        self._finish_transaction()
        plan = state.plan
        with self._errors(f"replacing table {state.final.sql} by the new generation", state):
            if state.staged:
                if state.tombstones is not None and plan.deleted_at is not None:
                    tables.replace_tombstones(self.con, state.target, state.tombstones, plan.deleted_at)
                renames = (
                    {plan.key_index(state.target.name): plan.key_index(plan.table)} if plan.dedup else None
                )
                tables.swap_in(self.con, state.target, state.final, renames)
            else:
                tables.drop_other_generations(self.con, state.final, plan.generation_id)
            self.con.commit()
        state.done, state.target, state.staged = True, state.final, False
        log.info("stream %s: generation %s is now table %s", stream, plan.generation_id, state.final.sql)

    def close(self) -> None:
        self._pipeline.close()
        con, self._con = self._con, None
        try:
            if con is not None:
                try:
                    con.rollback()
                except Exception:  # the connection may be gone; the original failure is what matters
                    log.debug("rollback at close failed", exc_info=True)
                con.close()
        finally:
            self.settings.cleanup()

    def _finish_transaction(self) -> None:
        """Load what is in flight, merge the pending rows of dedup streams and commit (counts stay for
        the next commit())."""
        self._pipeline.drain()
        for stream in self._streams.values():
            if stream.unmerged and stream.pending is not None:
                with self._errors(f"deduplicating stream '{stream.plan.descriptor}'", stream):
                    tombstones = None if stream.staged else stream.tombstones
                    columns = list(stream.types)
                    dedup.merge(
                        self.con,
                        pending=stream.pending,
                        target=stream.target,
                        columns=columns,
                        plan=stream.plan,
                        tombstones=tombstones,
                    )
                stream.unmerged = False
        with self._errors("committing"):
            self.con.commit()

    @contextmanager
    def _errors(self, doing: str, stream: _Stream | None = None) -> Iterator[None]:
        """psycopg failures as Ferry errors that say what was being done, and where."""
        import psycopg

        try:
            yield
        except FerryError:
            raise
        except psycopg.Error as exc:
            label = str(stream.plan.descriptor) if stream is not None else None
            raise failure(exc, f"{doing} ({self.settings.where})", label) from exc
