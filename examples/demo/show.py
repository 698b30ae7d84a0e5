"""Reads the demo's DuckDB file back: rows per table (checked), rows per sync, one row in full.

Usage: python show.py SHOP.duckdb COUNT   (COUNT: the sample-data count of the last sync)
"""

from __future__ import annotations

import sys

import duckdb

MAX_PRODUCTS = 1_000  # the sample-data source's catalogue size
PER_SYNC = """
    SELECT (_airbyte_meta->>'sync_id')::INTEGER AS sync, count(*) AS rows,
           min(id) AS first_id, max(id) AS last_id
    FROM {table} GROUP BY ALL ORDER BY sync
"""


def _locate(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The table's qualified name, whatever schema the destination put it in."""
    rows = con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = ? ORDER BY table_schema",
        [name],
    ).fetchall()
    if not rows:
        sys.exit(f"error: table {name} is not in the DuckDB file")
    return f'"{rows[0][0]}"."{name}"'


def main(path: str, count: int) -> int:
    con = duckdb.connect(path, read_only=True)
    expected = {"purchases": count, "users": count, "products": min(count, MAX_PRODUCTS)}
    located = {name: _locate(con, name) for name in expected}
    problems = []
    print(f"    {'table':<12}{'rows':>10}{'distinct ids':>14}{'expected':>10}")
    for name, table in located.items():
        ((rows, ids),) = con.execute(f"SELECT count(*), count(DISTINCT id) FROM {table}").fetchall()
        print(f"    {name:<12}{rows:>10,}{ids:>14,}{expected[name]:>10,}")
        if rows != expected[name] or ids != rows:
            problems.append(name)
    if problems:
        print(f"error: unexpected row counts in {', '.join(problems)}", file=sys.stderr)
        return 1
    print("    Every table holds exactly the source's rows, one per id: nothing lost, nothing duplicated.")
    print("\nWhich sync wrote which purchases (from _airbyte_meta.sync_id):")
    con.sql(PER_SYNC.format(table=located["purchases"])).show()
    print("The newest purchase, every column; Ferry adds the _airbyte_* ones to each row:")
    # As text: DuckDB hands time-zone-aware timestamps to Python only with pytz installed.
    newest = f"FROM {located['purchases']} ORDER BY id DESC LIMIT 1"
    cursor = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM ({newest})")
    names = [d[0] for d in cursor.description]
    for name, value in zip(names, cursor.fetchall()[0], strict=True):
        print(f"    {name:<24}{'NULL' if value is None else value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
