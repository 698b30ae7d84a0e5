"""What the Postgres destination does with each configured stream: names, columns, mode, keys.

Plans are built from the catalog alone, before connecting, so every naming problem (two names that
become one identifier within PostgreSQL's 63 bytes, a key that is not a column) is reported before a
single row is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ferry.cdk.identifiers import check_unique, column_identifiers, normalize
from ferry.cdk.planning import dedup_cursor, dedup_key, is_dedup, is_truncating
from ferry.cdk.schema import Kind, columns_of
from ferry.connectors.destinations.postgres.columns import SQL_TYPES
from ferry.protocol import ConfiguredStream, StreamDescriptor

MAX_IDENTIFIER_BYTES = 63
"""PostgreSQL's NAMEDATALEN - 1: longer names would be cut by the server, silently and per byte."""

CDC_DELETED_AT = "_ab_cdc_deleted_at"
STAGING_SUFFIX = "_ferry_staging"
TOMBSTONES_SUFFIX = "_ferry_deletes"
KEY_INDEX_SUFFIX = "_ferry_key"


def derived(table: str, suffix: str) -> str:
    """A name made from a table name, still within 63 bytes (cut with a hash when needed)."""
    return normalize(table + suffix, MAX_IDENTIFIER_BYTES)


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    source: str
    name: str
    kind: Kind

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True, slots=True)
class StreamPlan:
    descriptor: StreamDescriptor
    index: int
    schema: str
    table: str
    columns: tuple[ColumnPlan, ...]
    truncate: bool
    dedup: bool
    key: tuple[str, ...]
    cursor: str | None
    deleted_at: str | None
    generation_id: int | None
    sync_id: int | None

    @property
    def staging(self) -> str:
        """The table a truncating stream fills before it replaces the final table."""
        return derived(self.table, STAGING_SUFFIX)

    @property
    def tombstones(self) -> str | None:
        """The table keeping a dedup stream's deleted keys, so an older row cannot bring them back."""
        if not self.dedup or self.deleted_at is None:
            return None
        return derived(self.table, TOMBSTONES_SUFFIX)

    def key_index(self, table: str) -> str:
        """The name of the primary-key index of `table` (final or staging) of a dedup stream."""
        return derived(table, KEY_INDEX_SUFFIX)


def build_plans(
    streams: Iterable[ConfiguredStream], default_schema: str
) -> dict[StreamDescriptor, StreamPlan]:
    plans = [_plan(index, s, default_schema) for index, s in enumerate(streams)]
    _check_relations(plans)
    return {p.descriptor: p for p in plans}


def _plan(index: int, stream: ConfiguredStream, default_schema: str) -> StreamPlan:
    label = str(stream.descriptor)
    columns = columns_of(stream.stream.json_schema)
    names = column_identifiers([c.name for c in columns], max_bytes=MAX_IDENTIFIER_BYTES, stream=label)
    planned = tuple(ColumnPlan(c.name, names[c.name], c.kind) for c in columns)
    dedup = is_dedup(stream)
    return StreamPlan(
        descriptor=stream.descriptor,
        index=index,
        schema=normalize(stream.stream.namespace or default_schema, MAX_IDENTIFIER_BYTES),
        table=normalize(stream.stream.name, MAX_IDENTIFIER_BYTES),
        columns=planned,
        truncate=is_truncating(stream),
        dedup=dedup,
        key=dedup_key(stream, names) if dedup else (),
        cursor=dedup_cursor(stream, names) if dedup else None,
        deleted_at=names.get(CDC_DELETED_AT),
        generation_id=stream.generation_id,
        sync_id=stream.sync_id,
    )


def _check_relations(plans: list[StreamPlan]) -> None:
    """Tables and indexes share one namespace per schema in PostgreSQL: no two may get the same name."""
    by_schema: dict[str, dict[str, str]] = {}
    for plan in plans:
        names = by_schema.setdefault(plan.schema, {})
        names[f"stream '{plan.descriptor}'"] = plan.table
        if plan.truncate:
            names[f"the staging table of stream '{plan.descriptor}'"] = plan.staging
        if plan.tombstones is not None:
            names[f"the deletions table of stream '{plan.descriptor}'"] = plan.tombstones
        if plan.dedup:
            names[f"the key index of stream '{plan.descriptor}'"] = plan.key_index(plan.table)
            if plan.truncate:
                names[f"the staging key index of stream '{plan.descriptor}'"] = plan.key_index(plan.staging)
    for schema, names in by_schema.items():
        check_unique(names, where=f"in schema '{schema}'")
