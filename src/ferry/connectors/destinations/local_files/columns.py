"""The Destinations V2 columns every written row carries, built column-wise from a RecordBatch.

`_airbyte_raw_id` (UUID v4 text), `_airbyte_extracted_at` (UTC timestamp of the batch's
`emitted_at`), `_airbyte_meta` (`{"sync_id", "changes"}`) and `_airbyte_generation_id`, followed
by the stream's own columns. A stream column whose name is one of these gets a `_1` suffix (or
`_2`, ...), so no source value is ever hidden behind Ferry's metadata.
"""

from __future__ import annotations

import array
import os
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.batching import RecordBatch
from ferry.cdk.schema import CHANGES_COLUMN, CHANGES_TYPE

RAW_ID = "_airbyte_raw_id"
EXTRACTED_AT = "_airbyte_extracted_at"
META = "_airbyte_meta"
GENERATION_ID = "_airbyte_generation_id"
META_COLUMNS = (RAW_ID, EXTRACTED_AT, META, GENERATION_ID)

EXTRACTED_AT_TYPE = pa.timestamp("us", tz="UTC")
_NO_COLUMNS = "_ferry_no_columns"  # placeholder the kit puts in batches of streams without properties
_UUID_LEN = 36
# Where each hex digit of the 16 random bytes goes in the 36-character 8-4-4-4-12 spelling.
_HEX_SLOTS = [i for i in range(_UUID_LEN) if i not in (8, 13, 18, 23)]
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT_RFC = bytes((b & 0x3F) | 0x80 for b in range(256))


def uuid4_strings(n: int) -> pa.StringArray:
    """`n` random UUID v4 strings, built from one block of random bytes without a per-row Python call."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT_RFC)
    hexed = raw.hex().encode("ascii")
    text = bytearray(b"-" * (_UUID_LEN * n))
    for digit, slot in enumerate(_HEX_SLOTS):
        text[slot::_UUID_LEN] = hexed[digit::32]
    offsets = array.array("i", range(0, _UUID_LEN * n + 1, _UUID_LEN))
    out = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(bytes(text)))
    assert isinstance(out, pa.StringArray)
    return out


def _empty_lists(n: int) -> pa.Array[Any]:
    """`n` empty change lists from an all-zero offsets buffer: much faster than repeating a list scalar."""
    zeros = pa.py_buffer(bytes(4 * (n + 1)))
    offsets = pa.Array.from_buffers(pa.int32(), n + 1, [None, zeros])
    assert isinstance(offsets, pa.Int32Array)
    lists: pa.Array[Any] = pa.ListArray.from_arrays(offsets, pa.array([], type=CHANGES_TYPE.value_type))
    return lists


@dataclass(frozen=True, slots=True)
class Rows:
    """One batch split into Ferry's metadata and the stream's own columns, ready for a file format."""

    raw_id: pa.Array[Any]
    extracted_at: pa.Array[Any]
    generation_id: pa.Array[Any]
    sync_id: int | None
    changes: pa.Array[Any] | None
    """Per row, the list of `_airbyte_meta.changes` entries (null = none); None when no row has any."""
    fields: list[pa.Field[Any]]
    arrays: list[pa.Array[Any]]

    @property
    def num_rows(self) -> int:
        return len(self.raw_id)

    def changes_or_empty(self) -> pa.Array[Any]:
        """The changes column with an empty list for rows without changes (never null)."""
        empty = pa.scalar([], type=CHANGES_TYPE)
        if self.changes is None:
            return _empty_lists(self.num_rows)
        filled: pa.Array[Any] = pc.fill_null(self.changes, empty)  # type: ignore[arg-type]  # stubs miss list scalars
        return filled

    def slice(self, offset: int, length: int) -> Rows:
        changes = self.changes.slice(offset, length) if self.changes is not None else None
        return Rows(
            self.raw_id.slice(offset, length),
            self.extracted_at.slice(offset, length),
            self.generation_id.slice(offset, length),
            self.sync_id,
            changes,
            self.fields,
            [a.slice(offset, length) for a in self.arrays],
        )


def _unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 1
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def split_batch(batch: RecordBatch, sync_id: int | None, generation_id: int | None) -> Rows:
    data = batch.data
    n = data.num_rows
    taken = set(META_COLUMNS)
    fields: list[pa.Field[Any]] = []
    arrays: list[pa.Array[Any]] = []
    changes: pa.Array[Any] | None = None
    for index, data_field in enumerate(data.schema):
        if data_field.name == CHANGES_COLUMN:
            changes = data.column(index).cast(CHANGES_TYPE)
            continue
        if data_field.name == _NO_COLUMNS and pa.types.is_null(data_field.type):
            continue
        name = _unique_name(data_field.name, taken)
        taken.add(name)
        fields.append(data_field.with_name(name))
        arrays.append(data.column(index))
    if changes is not None and changes.null_count == n:
        changes = None
    extracted = pa.repeat(pa.scalar(batch.emitted_at * 1000, type=EXTRACTED_AT_TYPE), n)
    generation = pa.repeat(pa.scalar(generation_id, type=pa.int64()), n)
    return Rows(uuid4_strings(n), extracted, generation, sync_id, changes, fields, arrays)
