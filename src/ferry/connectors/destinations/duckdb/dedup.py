"""Merging one commit interval's rows of a deduplicated stream into its table.

The newest row per primary key wins, ordered by cursor DESC NULLS LAST, then `_airbyte_extracted_at`
DESC, then arrival (a later row beats an earlier one, and a new row beats the stored one on a full
tie). Candidates are this interval's rows and the stored rows with the same keys, so the winner is
the same as if every row had been deduplicated at once. A winner whose `_ab_cdc_deleted_at` is set
deletes its key from the table but is kept as a tombstone (in a side table, or in the staging table
until the swap), and tombstones compete with later rows on the same ordering: a delete that arrives
before an older insert of its key, in the same batch or in any later commit, keeps the key deleted
(as Airbyte's typing and deduping does by re-reading deletions from its raw table).

NULL in a primary-key column is a value equal to NULL: rows whose keys are NULL in the same places
and equal elsewhere are one key (PARTITION BY and IS NOT DISTINCT FROM both treat NULLs so). They
are deduplicated together rather than kept apart or rejected, which matches Airbyte's MERGE.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from ferry.cdk.identifiers import quote
from ferry.connectors.destinations.duckdb.connection import TableRef
from ferry.connectors.destinations.duckdb.plan import StreamPlan
from ferry.connectors.destinations.duckdb.tables import EXTRACTED_AT

WINNERS = TableRef("temp", "main", "_ferry_winners")

# Names of the two ordering columns added while merging. They contain ':', which no column
# identifier does, so they cannot clash with a stream column.
_SOURCE = quote("ferry:source")
_SEQ = quote("ferry:seq")


def _order(plan: StreamPlan) -> str:
    parts = [f"{quote(plan.cursor)} DESC NULLS LAST"] if plan.cursor else []
    parts += [f"{quote(EXTRACTED_AT)} DESC", f"{_SOURCE} DESC", f"{_SEQ} DESC"]
    return ", ".join(parts)


def _key_match(left: str, right: str, plan: StreamPlan) -> str:
    return " AND ".join(f"{left}.{quote(k)} IS NOT DISTINCT FROM {right}.{quote(k)}" for k in plan.key)


def _stored(table: TableRef, names: str, pending_keys: str, plan: StreamPlan) -> str:
    """The rows of `table` whose keys occur in this interval, as merge candidates."""
    match = _key_match("t", "k", plan)
    return (
        f"SELECT {names}, 0 AS {_SOURCE}, 0 AS {_SEQ} FROM {table.sql} AS t "
        f"SEMI JOIN {pending_keys} AS k ON {match}"
    )


def merge(
    con: duckdb.DuckDBPyConnection,
    plan: StreamPlan,
    *,
    pending: TableRef,
    target: TableRef,
    tombstones: TableRef | None,
    columns: Sequence[str],
) -> None:
    """Fold `pending` (this interval's rows, in arrival order) into `target`, inside the caller's
    transaction. `columns` are the target's columns (`pending` has the same; `tombstones` at least
    these). Winning deletions go to `tombstones`; without one they stay in `target` (a staging table,
    which strips them when it is swapped in)."""
    keys = ", ".join(quote(k) for k in plan.key)
    names = ", ".join(quote(c) for c in columns)
    pending_keys = f"(SELECT DISTINCT {keys} FROM {pending.sql})"
    candidates = [f"SELECT {names}, 1 AS {_SOURCE}, rowid AS {_SEQ} FROM {pending.sql}"]
    candidates += [_stored(t, names, pending_keys, plan) for t in (target, tombstones) if t is not None]
    union = " UNION ALL ".join(candidates)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {WINNERS.sql} AS SELECT {names} FROM ({union}) "
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {_order(plan)}) = 1"
    )
    for table in (target, tombstones):
        if table is not None:
            con.execute(
                f"DELETE FROM {table.sql} AS t USING {pending_keys} AS k WHERE {_key_match('t', 'k', plan)}"
            )
    insert = f"({names}) SELECT {names} FROM {WINNERS.sql}"
    if tombstones is None or plan.deleted_at is None:
        con.execute(f"INSERT INTO {target.sql} {insert}")
    else:
        deleted = quote(plan.deleted_at)
        con.execute(f"INSERT INTO {target.sql} {insert} WHERE {deleted} IS NULL")
        con.execute(f"INSERT INTO {tombstones.sql} {insert} WHERE {deleted} IS NOT NULL")
    con.execute(f"DROP TABLE {WINNERS.sql}")
