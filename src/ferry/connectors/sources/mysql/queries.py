"""The SELECT statements a stream runs: its columns (aliased, so any column name is safe), the raw
values of its order columns, a keyset condition, the order and the chunk size, in a UTC session with
the statement timeout."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.connectors.sources.mysql.connection import Server
from ferry.connectors.sources.mysql.keys import Orderable
from ferry.connectors.sources.mysql.types import ColumnPlan, quote_identifier


def value_alias(i: int) -> str:
    return f"c{i}"


def flag_alias(i: int) -> str:
    return f"f{i}"


def order_alias(i: int) -> str:
    return f"k{i}"


@dataclass(frozen=True, slots=True)
class Select:
    """One read of a table: where it starts, how it is ordered and how many rows it takes."""

    database: str
    table: str
    plans: tuple[ColumnPlan, ...]
    order: tuple[Orderable, ...] = ()
    where: tuple[str, ...] = ()
    limit: int | None = None

    def sql(self) -> str:
        items = [f"{p.select} AS {value_alias(i)}" for i, p in enumerate(self.plans)]
        items += [f"{p.flag} AS {flag_alias(i)}" for i, p in enumerate(self.plans) if p.flag]
        items += [f"{o.raw_select()} AS {order_alias(i)}" for i, o in enumerate(self.order)]
        source = f"{quote_identifier(self.database)}.{quote_identifier(self.table)}"
        sql = f"SELECT {', '.join(items) or '1'} FROM {source}"
        if self.where:
            sql += " WHERE " + " AND ".join(self.where)
        if self.order:
            sql += " ORDER BY " + ", ".join(o.sql for o in self.order)
        if self.limit is not None:
            sql += f" LIMIT {int(self.limit)}"
        return sql


def in_session(select_sql: str, server: Server, timeout_seconds: int) -> str:
    """`select_sql` run with a UTC session time zone (FROM_UNIXTIME literals) and, when `timeout_seconds`,
    a statement timeout; one statement, since connectorx runs exactly the text it is given."""
    if server.flavor == "mariadb":
        settings = ["time_zone = '+00:00'"]
        if timeout_seconds:
            settings.append(f"max_statement_time = {int(timeout_seconds)}")
        return f"SET STATEMENT {', '.join(settings)} FOR {select_sql}"
    hints = ["SET_VAR(time_zone = '+00:00')"]
    if timeout_seconds:
        hints.append(f"MAX_EXECUTION_TIME({int(timeout_seconds) * 1000})")
    assert select_sql.startswith("SELECT ")
    return f"SELECT /*+ {' '.join(hints)} */ {select_sql[len('SELECT ') :]}"
