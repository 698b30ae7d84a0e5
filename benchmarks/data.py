"""The benchmark's Parquet input: generated once under benchmarks/.data/, then reused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = Path(os.environ.get("FERRY_BENCH_DATA") or Path(__file__).resolve().parent / ".data")
"""Where generated inputs are kept (git-ignored); FERRY_BENCH_DATA moves it (the smoke test does)."""
ROW_GROUP = 100_000
_CATEGORIES = ["books", "garden", "games", "kitchen", "music", "outdoor", "shoes", "toys"]
_COUNTRIES = ["BR", "DE", "FR", "IN", "JP", "NG", "US"]
_START_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z

_FIELDS: list[pa.Field[Any]] = [
    pa.field("id", pa.int64()),
    pa.field("user_id", pa.int64()),
    pa.field("amount", pa.float64()),
    pa.field("quantity", pa.int32()),
    pa.field("category", pa.string()),
    pa.field("country", pa.string()),
    pa.field("note", pa.string()),
    pa.field("is_paid", pa.bool_()),
    pa.field("ordered_on", pa.date32()),
    pa.field("updated_at", pa.timestamp("us", tz="UTC")),
]
SCHEMA = pa.schema(_FIELDS)


def parquet_file(rows: int) -> Path:
    """A Parquet file of `rows` rows with ten columns of mixed types, made on first use."""
    path = DATA_DIR / f"events-{rows}.parquet"
    if path.exists() and _rows_in(path) == rows:
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".parquet.partial")
    # One row group at a time, so making a large file needs no more memory than a small one.
    with pq.ParquetWriter(partial, SCHEMA, compression="snappy") as writer:
        for start in range(0, rows, ROW_GROUP):
            writer.write_table(pa.Table.from_batches([_block(start, min(ROW_GROUP, rows - start))]))
    partial.replace(path)
    return path


def _rows_in(path: Path) -> int:
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, pa.ArrowInvalid):
        return -1


def _block(start: int, n: int) -> pa.RecordBatch:
    rng = np.random.default_rng(start)
    ids = np.arange(start + 1, start + n + 1, dtype=np.int64)
    updated = _START_US + ids * 1_000_000 + rng.integers(0, 1_000_000, n)
    note_null = rng.random(n) < 0.3
    notes = pa.array([f"order {i} note" for i in ids.tolist()], mask=note_null)
    columns = [
        pa.array(ids),
        pa.array(rng.integers(1, 50_000, n)),
        pa.array(np.round(rng.random(n) * 500, 2)),
        pa.array(rng.integers(1, 10, n).astype(np.int32)),
        pa.array(np.array(_CATEGORIES)[rng.integers(0, len(_CATEGORIES), n)]),
        pa.array(np.array(_COUNTRIES)[rng.integers(0, len(_COUNTRIES), n)]),
        notes,
        pa.array(rng.random(n) < 0.8),
        pa.array((updated // 86_400_000_000).astype(np.int32), type=pa.date32()),
        pa.array(updated, type=pa.timestamp("us", tz="UTC")),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=SCHEMA)
