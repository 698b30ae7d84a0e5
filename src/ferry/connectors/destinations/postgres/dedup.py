"""Merging one commit interval's rows of a deduplicated stream into its table, in the commit's transaction.

The newest row per primary key wins, ordered by cursor DESC NULLS LAST, then `_airbyte_extracted_at`
DESC, then arrival (a later row beats an earlier one, and a new row beats the stored one on a full
tie). Candidates are this interval's rows and the stored rows with the same keys, so the winner is
the same as if every row had been deduplicated at once. A winner whose `_ab_cdc_deleted_at` is set
deletes its key from the table but is kept as a tombstone (in a side table, or in the staging table
until the swap), and tombstones compete with later rows on the same ordering: a delete that arrives
before an older insert of its key, in the same batch or in any later commit, keeps the key deleted
(as Airbyte's typing and deduping does by re-reading deletions from its raw table).

NULL in a primary-key column is a value equal to NULL: rows whose keys are NULL in the same places
and equal elsewhere are one key. Keys are compared as one-element arrays (`ARRAY[k] = ARRAY[k]`),
which PostgreSQL treats as equal when both elements are NULL and can still hash and index, unlike
`IS NOT DISTINCT FROM`. This matches Airbyte's MERGE and the DuckDB destination.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ferry.cdk.identifiers import quote
from ferry.connectors.destinations.postgres.encoding import EXTRACTED_AT
from ferry.connectors.destinations.postgres.plan import StreamPlan
from ferry.connectors.destinations.postgres.tables import TableRef

if TYPE_CHECKING:
    import psycopg

SEQ = "ferry:seq"
"""The arrival-order column of a pending table; ':' keeps it apart from every stream column."""
_WINNERS = "_ferry_winners"
_SOURCE = quote("ferry:source")
_ORDER = quote("ferry:order")


def _key_match(left: str, right: str, plan: StreamPlan) -> str:
    return " AND ".join(f"ARRAY[{left}.{quote(k)}] = ARRAY[{right}.{quote(k)}]" for k in plan.key)


def _order(plan: StreamPlan) -> str:
    parts = [f"{quote(plan.cursor)} DESC NULLS LAST"] if plan.cursor else []
    parts += [f"{quote(EXTRACTED_AT)} DESC", f"{_SOURCE} DESC", f"{_ORDER} DESC"]
    return ", ".join(parts)


def merge(
    con: psycopg.Connection[tuple[object, ...]],
    *,
    pending: TableRef,
    target: TableRef,
    columns: Sequence[str],
    plan: StreamPlan,
    tombstones: TableRef | None,
) -> None:
    """Fold `pending` into `target`; winning deletions go to `tombstones`, or stay in `target` (a staging
    table, which sheds them when it is swapped in) when there is none."""
    cols = ", ".join(quote(c) for c in columns)
    keys = ", ".join(quote(k) for k in plan.key)
    stored = [target] if tombstones is None else [target, tombstones]
    # Fresh statistics let the planner pick index lookups for a few keys and a hash join for many.
    con.execute(f"ANALYZE {pending.sql}")
    candidates = [f"SELECT {cols}, 1 AS {_SOURCE}, {quote(SEQ)} AS {_ORDER} FROM {pending.sql}"]
    candidates += [
        f"SELECT {cols}, 0, 0 FROM {t.sql} AS t "
        f"WHERE EXISTS (SELECT 1 FROM {pending.sql} AS p WHERE {_key_match('t', 'p', plan)})"
        for t in stored
    ]
    con.execute(f"DROP TABLE IF EXISTS pg_temp.{_WINNERS}")
    con.execute(
        f"CREATE TEMP TABLE {_WINNERS} AS SELECT {cols} FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY {_order(plan)}) AS rn "
        f"FROM ({' UNION ALL '.join(candidates)}) AS c) AS w WHERE rn = 1"
    )
    pending_keys = f"(SELECT DISTINCT {keys} FROM {pending.sql})"
    for table in stored:
        con.execute(
            f"DELETE FROM {table.sql} AS t USING {pending_keys} AS k WHERE {_key_match('t', 'k', plan)}"
        )
    winners = f"pg_temp.{_WINNERS}"
    if tombstones is None or plan.deleted_at is None:
        con.execute(f"INSERT INTO {target.sql} ({cols}) SELECT {cols} FROM {winners}")
    else:
        deleted = quote(plan.deleted_at)
        con.execute(f"INSERT INTO {target.sql} ({cols}) SELECT {cols} FROM {winners} WHERE {deleted} IS NULL")
        con.execute(
            f"INSERT INTO {tombstones.sql} ({cols}) SELECT {cols} FROM {winners} WHERE {deleted} IS NOT NULL"
        )
    con.execute(f"DROP TABLE {winners}")
    con.execute(f"TRUNCATE {pending.sql}")
