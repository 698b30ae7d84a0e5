"""Parquet files: batches straight from the file's row groups, with no per-row Python work."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from ferry.cdk.casting import RowChanges, conform_array
from ferry.connectors.sources.file.conform import Plan, assemble, warn_unknown
from ferry.connectors.sources.file.files import SourceFile
from ferry.connectors.sources.file.inference import Inferred, infer_arrow
from ferry.connectors.sources.file.names import rename_reserved
from ferry.errors import DataError

_BATCH_ROWS = 65_536
_COPY_BUFFER = 1 << 20


@contextmanager
def _parquet(file: SourceFile) -> Iterator[pq.ParquetFile]:
    """The file opened for random access; a download or a compressed file is spooled to a temporary file."""
    with ExitStack() as stack:
        if file.local_path is not None:
            source: str | IO[bytes] = file.local_path
        else:
            spool = stack.enter_context(tempfile.TemporaryFile(prefix="ferry-parquet-"))
            shutil.copyfileobj(file.stream, spool, _COPY_BUFFER)
            spool.seek(0)
            source = spool
        try:
            # Without pre_buffer=False, Arrow buffers every row group it will read: the whole file.
            parquet = stack.enter_context(pq.ParquetFile(source, pre_buffer=False))
        except pa.ArrowInvalid as exc:
            raise DataError(
                f"{file.url} is not a Parquet file: {exc}",
                hint=f"Check {file.cfg.field('format')} and the file.",
            ) from None
        yield parquet


def sample_parquet(file: SourceFile) -> dict[str, Inferred | None]:
    """Column types from the file's Arrow schema (only the footer is read)."""
    with _parquet(file) as parquet:
        schema = parquet.schema_arrow
    names = rename_reserved(schema.names)
    return {name: infer_arrow(f.type) for name, f in zip(names, schema, strict=True)}


def read_parquet(file: SourceFile, plan: Plan) -> Iterator[pa.RecordBatch]:
    with _parquet(file) as parquet:
        names = rename_reserved(parquet.schema_arrow.names)
        warn_unknown(plan, names, file)
        index = {name: i for i, name in enumerate(names)}
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            changes: RowChanges = [None] * batch.num_rows
            arrays = {
                c.name: conform_array(batch.column(index[c.name]), c, changes)
                for c in plan.columns
                if c.name in index
            }
            yield assemble(plan, arrays, batch.num_rows, changes, file)
