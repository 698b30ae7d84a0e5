"""A generated stream: reads its blocks from a state, cut into checkpointed slices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from ferry.cdk import Checkpoint, ReadContext, Stream, StreamItem
from ferry.connectors.sources.sample_data.blocks import BLOCK_SIZE, Table, block_of, first_id
from ferry.connectors.sources.sample_data.json_schema import stream_json_schema
from ferry.connectors.sources.sample_data.spec import Settings
from ferry.connectors.sources.sample_data.timeline import format_cursor, parse_cursor
from ferry.errors import ConfigError

CURSOR = "updated_at"
NEXT_ID = "next_id"


class SampleStream(Stream):
    """Rows 1..rows of a table. Incremental state: {"updated_at": iso}; full refresh state: {"next_id": n}."""

    primary_key = [["id"]]
    cursor_field = [CURSOR]
    source_defined_cursor = True
    resumable = True

    def __init__(self, table: Table, settings: Settings) -> None:
        self.name = table.name
        self.table = table
        self.settings = settings
        self.rows = table.rows(settings.count)

    def json_schema(self) -> dict[str, Any]:
        return stream_json_schema(self.table.schema)

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        after = _cursor_state(ctx.state, self.name) if ctx.incremental else None
        unchanged: dict[str, Any]  # the state to end on when no row is read
        if ctx.incremental:
            start = 1 if after is None else self.table.timeline.first_candidate(after)
            unchanged = {CURSOR: ctx.state[CURSOR]} if after is not None and ctx.state else {}
        else:
            start = _next_id_state(ctx.state, self.name)
            unchanged = {NEXT_ID: start}
        yield from self._checkpointed(self._batches(start, after), ctx.incremental, unchanged)

    def _batches(self, start: int, after_us: int | None) -> Iterator[pa.RecordBatch]:
        """Rows start..rows block by block; with `after_us`, only rows updated after it."""
        if start > self.rows:
            return
        first_block = block_of(start)
        for block in range(first_block, block_of(self.rows) + 1):
            low = first_id(block)
            begin = max(start, low) - low
            end = min(self.rows, low + BLOCK_SIZE - 1) - low + 1
            batch = self.table.block(self.settings.seed, block).slice(begin, end - begin)
            if after_us is not None and block == first_block:
                batch = _newer_than(batch, after_us)
            yield batch

    def _checkpointed(
        self, batches: Iterator[pa.RecordBatch], incremental: bool, unchanged: dict[str, Any]
    ) -> Iterator[StreamItem]:
        """The batches, cut so that a checkpoint follows every `records_per_checkpoint` rows and the last."""
        every = self.settings.records_per_checkpoint
        pending = 0
        last: pa.RecordBatch | None = None
        for batch in batches:
            offset = 0
            while offset < batch.num_rows:
                last = batch.slice(offset, min(every - pending, batch.num_rows - offset))
                yield last
                offset += last.num_rows
                pending += last.num_rows
                if pending == every:
                    yield Checkpoint(_state_after(last, incremental))
                    pending = 0
        if last is None:
            yield Checkpoint(unchanged)
        elif pending:
            yield Checkpoint(_state_after(last, incremental))


def _state_after(batch: pa.RecordBatch, incremental: bool) -> dict[str, Any]:
    """The state that resumes right after the last row of `batch`."""
    if incremental:
        return {CURSOR: format_cursor(batch.column(CURSOR)[-1].value)}
    return {NEXT_ID: batch.column("id")[-1].as_py() + 1}


def _newer_than(batch: pa.RecordBatch, after_us: int) -> pa.RecordBatch:
    # The cursor increases with the row, so the rows to keep are a tail found by bisection.
    cursor = batch.column(CURSOR).cast(pa.int64()).to_numpy()
    return batch.slice(int(np.searchsorted(cursor, after_us, side="right")))


def _state_error(stream: str, key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(
        f"state of stream '{stream}' has an invalid '{key}': {value!r} (expected {expected})",
        hint="Fix or clear the stream's state to read it from the start.",
        stream=stream,
        field=key,
    )


def _cursor_state(state: dict[str, Any] | None, stream: str) -> int | None:
    """Microseconds of the state's cursor; None (read everything) when the state has none."""
    if not state or CURSOR not in state:
        return None
    value = state[CURSOR]
    if not isinstance(value, str):
        raise _state_error(stream, CURSOR, value, "an ISO 8601 timestamp")
    try:
        return parse_cursor(value)
    except ValueError:
        raise _state_error(stream, CURSOR, value, "an ISO 8601 timestamp") from None


def _next_id_state(state: dict[str, Any] | None, stream: str) -> int:
    """The id a resumed full refresh starts at; 1 when the state has no position."""
    if not state or NEXT_ID not in state:
        return 1
    value = state[NEXT_ID]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _state_error(stream, NEXT_ID, value, "an integer >= 1")
    return value
