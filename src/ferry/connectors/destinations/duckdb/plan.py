"""What the DuckDB destination does with each configured stream: names, columns, mode, keys.

Plans are built in `open()` from the catalog alone, so every naming problem (two names that become
one identifier, a key that is not a column) is reported before a single row is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ferry.cdk.identifiers import check_unique, column_identifiers, normalize
from ferry.cdk.planning import dedup_cursor, dedup_key, is_dedup, is_truncating
from ferry.cdk.schema import Kind, columns_of
from ferry.connectors.destinations.duckdb.columns import SQL_TYPES, UUID
from ferry.protocol import ConfiguredStream, StreamDescriptor

MAX_IDENTIFIER_BYTES = 255
"""DuckDB has no identifier limit; 255 bytes keeps names usable as file names when tables are exported."""

CDC_DELETED_AT = "_ab_cdc_deleted_at"
STAGING_SUFFIX = "_ferry_staging"
TOMBSTONES_SUFFIX = "_ferry_deletes"


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    source: str
    name: str
    kind: Kind
    uuid: bool = False
    """A string column declared `format: uuid`: stored as DuckDB's UUID type."""

    @property
    def sql_type(self) -> str:
        return UUID if self.uuid else SQL_TYPES[self.kind]


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
        """The table an overwrite (truncating) stream fills before it is swapped in."""
        return normalize(self.table + STAGING_SUFFIX, MAX_IDENTIFIER_BYTES)

    @property
    def tombstones(self) -> str | None:
        """The table keeping a dedup stream's deleted keys, so an older row cannot bring them back."""
        if not self.dedup or self.deleted_at is None:
            return None
        return normalize(self.table + TOMBSTONES_SUFFIX, MAX_IDENTIFIER_BYTES)


def build_plans(
    streams: Iterable[ConfiguredStream], default_schema: str
) -> dict[StreamDescriptor, StreamPlan]:
    plans = [_plan(index, s, default_schema) for index, s in enumerate(streams)]
    _check_tables(plans)
    return {p.descriptor: p for p in plans}


def _plan(index: int, stream: ConfiguredStream, default_schema: str) -> StreamPlan:
    label = str(stream.descriptor)
    columns = columns_of(stream.stream.json_schema)
    names = column_identifiers([c.name for c in columns], max_bytes=MAX_IDENTIFIER_BYTES, stream=label)
    properties = stream.stream.json_schema.get("properties") or {}
    planned = tuple(
        ColumnPlan(c.name, names[c.name], c.kind, _is_uuid(properties.get(c.name), c.kind)) for c in columns
    )
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


def _is_uuid(prop: Any, kind: Kind) -> bool:
    return kind is Kind.STRING and isinstance(prop, dict) and prop.get("format") == "uuid"


def _check_tables(plans: list[StreamPlan]) -> None:
    """Two streams (or a stream and another's staging table) must not share a table."""
    by_schema: dict[str, dict[str, str]] = {}
    for plan in plans:
        tables = by_schema.setdefault(plan.schema, {})
        tables[f"stream '{plan.descriptor}'"] = plan.table
        if plan.truncate:
            tables[f"the staging table of stream '{plan.descriptor}'"] = plan.staging
        if plan.tombstones is not None:
            tables[f"the deletions table of stream '{plan.descriptor}'"] = plan.tombstones
    for schema, tables in by_schema.items():
        check_unique(tables, where=f"in schema '{schema}'")
