"""The catalog: databases, tables and views with their columns, primary keys and a chunk key, from
information_schema (which shows a read-only user exactly the tables it may read)."""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ferry.connectors.sources.mysql.connection import Server, query
from ferry.connectors.sources.mysql.spec import SYSTEM_DATABASES, Settings


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    data_type: str
    """information_schema DATA_TYPE, lower case (`int`, `varchar`, `datetime`, ...)."""
    column_type: str
    """COLUMN_TYPE, lower case (`int(10) unsigned`, `tinyint(1)`, `enum('a','b')`, ...)."""
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None
    is_json: bool = False
    """A JSON column: MySQL's JSON type, or MariaDB's LONGTEXT checked by JSON_VALID."""

    @property
    def unsigned(self) -> bool:
        return "unsigned" in self.column_type


@dataclass(frozen=True, slots=True)
class TableInfo:
    database: str
    name: str
    is_view: bool
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    """Unique indexes over NOT NULL columns (whole columns, no prefixes), primary key first."""

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)


def _matches(patterns: Iterable[str], *names: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns for name in names)


def select_databases(available: Iterable[str], settings: Settings) -> list[str]:
    """The databases the config asks for, minus the excluded and system ones."""
    return sorted(
        name
        for name in available
        if name.lower() not in SYSTEM_DATABASES
        and _matches(settings.databases, name)
        and not _matches(settings.exclude_databases, name)
    )


def _table_wanted(database: str, table: str, settings: Settings) -> bool:
    qualified = f"{database}.{table}"
    if settings.tables and not _matches(settings.tables, table, qualified):
        return False
    return not _matches(settings.exclude_tables, table, qualified)


def discover(connection: Any, settings: Settings, server: Server) -> list[TableInfo]:
    """Every wanted table and view, ordered by database and name."""
    names = [
        str(r[0]) for r in query(connection, settings, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
    ]
    databases = select_databases(names, settings)
    if not databases:
        return []
    marks = ", ".join(["%s"] * len(databases))
    tables = query(
        connection,
        settings,
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA IN ({marks}) ORDER BY TABLE_SCHEMA, TABLE_NAME",
        databases,
    )
    wanted = [(str(d), str(t), str(kind)) for d, t, kind in tables if _table_wanted(str(d), str(t), settings)]
    if not wanted:
        return []
    columns = _columns(
        connection, settings, databases, _json_columns(connection, settings, server, databases)
    )
    keys = _unique_keys(connection, settings, databases)
    out = []
    for database, table, kind in wanted:
        cols = tuple(columns.get((database, table), ()))
        not_null = {c.name for c in cols if not c.nullable}
        table_keys = tuple(k for name, k in keys.get((database, table), []) if set(k) <= not_null)
        primary = next((k for name, k in keys.get((database, table), []) if name == "PRIMARY"), ())
        out.append(TableInfo(database, table, kind.upper() == "VIEW", cols, primary, table_keys))
    return out


def _columns(
    connection: Any, settings: Settings, databases: list[str], json_columns: set[tuple[str, str, str]]
) -> dict[tuple[str, str], list[ColumnInfo]]:
    marks = ", ".join(["%s"] * len(databases))
    rows = query(
        connection,
        settings,
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, "
        "NUMERIC_PRECISION, NUMERIC_SCALE FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA IN ({marks}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        databases,
    )
    out: dict[tuple[str, str], list[ColumnInfo]] = defaultdict(list)
    for database, table, name, raw_type, column_type, nullable, precision, scale in rows:
        key = (str(database), str(table))
        data_type = _text(raw_type).lower()
        out[key].append(
            ColumnInfo(
                name=str(name),
                data_type=data_type,
                column_type=_text(column_type).lower(),
                nullable=str(nullable).upper() == "YES",
                precision=int(precision) if precision is not None else None,
                scale=int(scale) if scale is not None else None,
                is_json=data_type == "json" or (*key, str(name)) in json_columns,
            )
        )
    return out


def _text(value: Any) -> str:
    # Some servers return information_schema text as bytes (binary collation of the view).
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def _json_columns(
    connection: Any, settings: Settings, server: Server, databases: list[str]
) -> set[tuple[str, str, str]]:
    """MariaDB's JSON is LONGTEXT with a `json_valid(col)` check constraint; find those columns."""
    if server.flavor != "mariadb":
        return set()
    marks = ", ".join(["%s"] * len(databases))
    rows = query(
        connection,
        settings,
        "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        f"WHERE CONSTRAINT_SCHEMA IN ({marks}) AND CHECK_CLAUSE LIKE 'json\\_valid(%%'",
        databases,
    )
    out = set()
    for database, table, clause in rows:
        inner = _text(clause)[len("json_valid(") : -1].strip()
        if inner.startswith("`") and inner.endswith("`"):
            out.add((str(database), str(table), inner[1:-1].replace("``", "`")))
    return out


def _unique_keys(
    connection: Any, settings: Settings, databases: list[str]
) -> dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]]:
    """(index name, columns) of each table's unique indexes that cover whole columns, PRIMARY first."""
    marks = ", ".join(["%s"] * len(databases))
    rows = query(
        connection,
        settings,
        "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART "
        "FROM information_schema.STATISTICS "
        f"WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA IN ({marks}) "
        "ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX",
        databases,
    )
    indexes: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    partial: set[tuple[str, str, str]] = set()
    for database, table, index, column, sub_part in rows:
        key = (str(database), str(table), str(index))
        indexes[key].append(str(column))
        if sub_part is not None:
            partial.add(key)  # a prefix index is unique over prefixes, not over the column values
    out: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for (database, table, index), cols in indexes.items():
        if (database, table, index) not in partial:
            out[(database, table)].append((index, tuple(cols)))
    return out
