"""Discovery: the tables and views the user may read, with their columns, base types and primary keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from ferry.cdk.identifiers import quote
from ferry.connectors.sources.postgres.config import PgConfig
from ferry.connectors.sources.postgres.connection import PgSession
from ferry.connectors.sources.postgres.types import ColumnPlan, PgType, handling_of

_RELATIONS = """
SELECT c.oid::bigint, n.nspname::text, c.relname::text, c.relkind::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND has_schema_privilege(n.oid, 'USAGE')
  AND has_any_column_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname
"""

# Every domain's final base type, however many domains it is stacked on.
_COLUMNS = """
WITH RECURSIVE dom(oid, base) AS (
    SELECT oid, typbasetype FROM pg_catalog.pg_type WHERE typtype = 'd'
    UNION
    SELECT dom.oid, t.typbasetype FROM dom JOIN pg_catalog.pg_type t ON t.oid = dom.base AND t.typtype = 'd'
), base AS (
    SELECT dom.oid, dom.base FROM dom JOIN pg_catalog.pg_type t ON t.oid = dom.base WHERE t.typtype <> 'd'
)
SELECT a.attrelid::bigint, a.attname::text, a.attnotnull, bt.typname::text, bt.typcategory::text,
       format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
LEFT JOIN base ON base.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = COALESCE(base.base, a.atttypid)
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND has_column_privilege(a.attrelid, a.attnum, 'SELECT')
ORDER BY a.attrelid, a.attnum
"""

_PRIMARY_KEYS = """
SELECT i.indrelid::bigint, a.attname::text
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indisprimary
ORDER BY i.indrelid, k.ord
"""

HEAP_KINDS = frozenset({"r", "m"})
"""Relation kinds stored as one heap, whose rows have a ctid that pages can be read by."""


@dataclass(slots=True)
class TableInfo:
    oid: int
    schema: str
    name: str
    kind: str
    """pg_class.relkind: r table, p partitioned table, v view, m materialized view, f foreign table."""
    columns: list[ColumnPlan] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)

    @property
    def sql_name(self) -> str:
        return f"{quote(self.schema)}.{quote(self.name)}"

    def column(self, name: str) -> ColumnPlan | None:
        return next((c for c in self.columns if c.name == name), None)


def discover_tables(session: PgSession, cfg: PgConfig) -> list[TableInfo]:
    """Readable tables and views that the config's schema and table filters let through, in name order."""
    tables = {
        oid: TableInfo(oid, schema, name, kind)
        for oid, schema, name, kind in session.rows(_RELATIONS)
        if cfg.wants_table(schema, name)
    }
    if not tables:
        return []
    for oid, name, not_null, typname, category, sql_type in session.rows(_COLUMNS):
        table = tables.get(oid)
        if table is not None:
            pg_type = PgType(typname, category, sql_type)
            handling = handling_of(pg_type, cfg.numeric_as_string)
            table.columns.append(ColumnPlan(name, handling, pg_type, nullable=not not_null))
    for oid, name in session.rows(_PRIMARY_KEYS):
        table = tables.get(oid)
        if table is not None:
            table.primary_key.append(name)
    for table in tables.values():
        readable = {c.name for c in table.columns}
        if not set(table.primary_key) <= readable:
            table.primary_key = []  # a key the user may not read cannot page the table
    return [t for t in tables.values() if t.columns]
