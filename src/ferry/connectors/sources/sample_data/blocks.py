"""Rows come in fixed-size blocks, each drawn from its own generator, so row i never depends on the count.

A block is always generated whole (BLOCK_SIZE rows, the same draws in the same order) and then cut,
which is what makes a row identical whether 10 or 10 million rows are asked for. The helpers below
build Arrow columns from numpy draws without touching rows one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ferry.connectors.sources.sample_data.timeline import Timeline

BLOCK_SIZE = 10_000
"""Rows per block. Part of the data's definition: changing it changes every generated row."""

TIMESTAMP = pa.timestamp("us", tz="UTC")

Columns = Callable[[np.random.Generator, np.ndarray, int], "list[pa.Array[Any]]"]
"""Builds a block's columns (schema order) from its generator, its ids and the config's seed."""


def block_of(row_id: int) -> int:
    return (row_id - 1) // BLOCK_SIZE


def first_id(block: int) -> int:
    return block * BLOCK_SIZE + 1


def block_rng(seed: int, stream_code: int, block: int) -> np.random.Generator:
    # The spawn key keeps every (stream, block) stream of numbers independent of the others for one seed.
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_code, block)))


@dataclass(frozen=True, slots=True)
class Table:
    """One generated stream: its Arrow schema, its cursor timeline and the function that draws a block."""

    name: str
    code: int
    schema: pa.Schema
    timeline: Timeline
    columns: Columns
    max_rows: int | None = None

    def rows(self, count: int) -> int:
        return count if self.max_rows is None else min(count, self.max_rows)

    def block(self, seed: int, block: int) -> pa.RecordBatch:
        """The whole block `block` (ids first_id(block) .. first_id(block) + BLOCK_SIZE - 1)."""
        start = first_id(block)
        ids = np.arange(start, start + BLOCK_SIZE, dtype=np.int64)
        arrays = self.columns(block_rng(seed, self.code, block), ids, seed)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    """A stream's Arrow schema: every column nullable, as its JSON schema says."""
    return pa.schema([pa.field(name, dtype) for name, dtype in fields])


def vocabulary(words: Sequence[str]) -> pa.Array[Any]:
    return pa.array(words, type=pa.string())


def pick(words: pa.Array[Any], index: np.ndarray, null: np.ndarray | None = None) -> pa.Array[Any]:
    """words[index] per row; NULL where `null` is True."""
    return words.take(pa.array(index, mask=null))


def chance(rng: np.random.Generator, probability: float, n: int) -> np.ndarray:
    """A boolean per row, True with the given probability."""
    return rng.random(n) < probability


def weighted(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    """An index per row into `weights`, drawn with those weights."""
    edges = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.minimum(np.searchsorted(edges / edges[-1], rng.random(n), side="right"), len(weights) - 1)


def concat(*parts: pa.Array[Any] | str) -> pa.Array[Any]:
    """Strings joined row by row; a `str` part is the same text on every row."""
    # The stubs cannot express a mix of arrays and literal parts, which Arrow accepts.
    join: Any = pc.binary_join_element_wise
    out: pa.Array[Any] = join(*parts, "")
    return out


def digits(values: np.ndarray, width: int) -> pa.Array[Any]:
    """Integers as zero-padded decimal strings (postal codes, SKUs)."""
    text: pa.Array[Any] = pc.cast(pa.array(values), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0")


def timestamps(micros: np.ndarray, null: np.ndarray | None = None) -> pa.Array[Any]:
    return pa.array(micros, type=TIMESTAMP, mask=null)


def cents(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)
