"""A record batch as one COPY ... FROM STDIN (FORMAT csv) payload, built by Arrow's CSV writer.

Text COPY was measured against binary COPY here: the server's parsing dominates either way, text
needs no per-type binary encoders (numeric's base-10000 digits above all), and every value reaches
the server in a spelling that any existing column type of the same family accepts.

Every value is written quoted except NULLs, so the CSV format tells NULL (empty, unquoted) from the
empty string (`""`). The metadata columns are made vectorised: random UUIDv4 text for
`_airbyte_raw_id`, one constant `_airbyte_meta` text unless some rows carry changes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ferry.cdk.schema import CHANGES_COLUMN
from ferry.connectors.destinations.postgres.plan import ColumnPlan, StreamPlan
from ferry.connectors.destinations.postgres.values import Notes, Target, column_text

RAW_ID = "_airbyte_raw_id"
EXTRACTED_AT = "_airbyte_extracted_at"
META = "_airbyte_meta"
GENERATION_ID = "_airbyte_generation_id"
META_COLUMNS = (RAW_ID, EXTRACTED_AT, META, GENERATION_ID)

_WRITE_OPTIONS = pcsv.WriteOptions(include_header=False, quoting_style="needed", batch_size=16_384)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass(slots=True)
class Encoded:
    """One batch ready for COPY: the table columns in payload order, and the CSV text."""

    columns: list[str]
    payload: pa.Buffer
    rows: int


def uuid4_text(n: int) -> pa.Array[Any]:
    """`n` random version-4 UUIDs as canonical text, without a Python object per row."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for start, end, src in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        out[:, start:end] = hexed[:, src : src + end - start]
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(36), n, [None, pa.py_buffer(out.tobytes())])
    return fixed.cast(pa.binary()).cast(pa.string())


def _timestamp_text(emitted_at_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(emitted_at_ms / 1000, tz=dt.UTC)
    return moment.isoformat(sep=" ", timespec="milliseconds")


class BatchEncoder:
    """Encodes one stream's batches for its table, whose current column types it is given."""

    def __init__(self, plan: StreamPlan, table_types: Mapping[str, str], server_version: int) -> None:
        self.plan = plan
        self._by_source: dict[str, ColumnPlan] = {c.source: c for c in plan.columns}
        self._targets = {
            c.source: Target(c.name, c.kind, table_types[c.name], server_version) for c in plan.columns
        }
        self._meta_constant = orjson.dumps({"sync_id": plan.sync_id, "changes": []}).decode()

    def loaded_columns(self, data: pa.RecordBatch) -> list[tuple[int, Target]]:
        return [(i, self._targets[name]) for i, name in enumerate(data.schema.names) if name in self._targets]

    def encode(
        self,
        data: pa.RecordBatch,
        emitted_at_ms: int,
        replaced: Mapping[str, pa.Array[Any]] | None = None,
        notes: Notes | None = None,
    ) -> Encoded:
        """The COPY payload of `data`; `replaced` gives text columns fixed after a failed COPY."""
        notes = notes if notes is not None else Notes()
        n = data.num_rows
        names: list[str] = []
        arrays: list[pa.Array[Any]] = []
        for index, target in self.loaded_columns(data):
            fixed = (replaced or {}).get(target.name)
            arrays.append(fixed if fixed is not None else column_text(data.column(index), target, notes))
            names.append(target.name)
        meta = self._meta(data, notes)
        generation = self.plan.generation_id
        leading = [
            uuid4_text(n),
            pa.repeat(pa.scalar(_timestamp_text(emitted_at_ms)), n),
            meta,
            pa.nulls(n, pa.int64()) if generation is None else pa.repeat(pa.scalar(int(generation)), n),
        ]
        table = pa.Table.from_arrays([*leading, *arrays], names=[f"c{i}" for i in range(len(arrays) + 4)])
        sink = pa.BufferOutputStream()
        pcsv.write_csv(table, sink, _WRITE_OPTIONS)
        return Encoded([*META_COLUMNS, *names], sink.getvalue(), n)

    def column_values(self, data: pa.RecordBatch, name: str, notes: Notes) -> pa.Array[Any]:
        """The encoded text of one table column of `data` (to find the values the server refused)."""
        for index, target in self.loaded_columns(data):
            if target.name == name:
                return column_text(data.column(index), target, notes)
        raise KeyError(name)

    def _meta(self, data: pa.RecordBatch, notes: Notes) -> pa.Array[Any]:
        n = data.num_rows
        base = pa.repeat(pa.scalar(self._meta_constant), n)
        per_row = _source_changes(data)
        for row, extra in notes.rows.items():
            per_row.setdefault(row, []).extend(extra)
        if not per_row:
            return base
        rows = sorted(per_row)
        sync_id = self.plan.sync_id
        texts = [orjson.dumps({"sync_id": sync_id, "changes": per_row[r]}).decode() for r in rows]
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        out: pa.Array[Any] = pc.replace_with_mask(base, pa.array(mask), pa.array(texts, pa.string()))
        return out


def _source_changes(data: pa.RecordBatch) -> dict[int, list[dict[str, Any]]]:
    """Changes the batch already carries (from the source or the engine's typing), by row."""
    index = data.schema.get_field_index(CHANGES_COLUMN)
    if index < 0:
        return {}
    changes = data.column(index)
    lengths = pc.list_value_length(changes).fill_null(0).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(lengths > 0)
    if rows.size == 0:
        return {}
    values: Sequence[Any] = changes.take(rows).to_pylist()
    return {int(r): list(v) for r, v in zip(rows.tolist(), values, strict=True)}
