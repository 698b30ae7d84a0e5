"""One part file being written under its temporary name: parquet, csv or jsonl, optionally compressed.

A part holds one schema (parquet and csv files have a single header); a batch of another shape
goes to a new part. Parquet row groups are gathered in memory up to a bounded size first, so that
many small batches do not make a file of tiny row groups.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ferry.connectors.destinations.local_files.config import Compression, FileFormat
from ferry.connectors.destinations.local_files.durable import fsync_file, remove_quietly

Payload = pa.Table | list[bytes]
"""Encoded rows: a table for parquet and csv, one bytes line per row for jsonl."""

ROW_GROUP_ROWS = 128 * 1024
ROW_GROUP_BYTES = 64 << 20


def payload_rows(payload: Payload) -> int:
    return payload.num_rows if isinstance(payload, pa.Table) else len(payload)


def payload_slice(payload: Payload, offset: int, length: int) -> Payload:
    return (
        payload.slice(offset, length) if isinstance(payload, pa.Table) else payload[offset : offset + length]
    )


def payload_bytes(payload: Payload) -> int:
    return payload.nbytes if isinstance(payload, pa.Table) else sum(len(line) for line in payload)


def _text_sink(path: Path, compression: Compression) -> pa.NativeFile:
    if compression is Compression.GZIP:
        return pa.CompressedOutputStream(str(path), "gzip")
    if compression is Compression.ZSTD:
        return pa.CompressedOutputStream(str(path), "zstd")
    return pa.OSFile(str(path), "wb")


class PartFile(ABC):
    """A part under its temp name; `finish()` makes it complete and durable, `discard()` removes it."""

    def __init__(self, temp: Path, final: str, schema: pa.Schema | None) -> None:
        self.temp = temp
        self.final = final
        self.schema = schema
        self.rows = 0
        self.nbytes = 0
        self._closed = False

    def fits(self, payload: Payload) -> bool:
        if self.schema is None or not isinstance(payload, pa.Table):
            return True
        return payload.schema.equals(self.schema, check_metadata=False)

    def write(self, payload: Payload) -> None:
        self._write(payload)
        self.rows += payload_rows(payload)
        self.nbytes += payload_bytes(payload)

    def finish(self) -> None:
        self._closed = True
        self._close()
        fsync_file(self.temp)

    def discard(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._close()
            finally:
                remove_quietly(self.temp)
        else:
            remove_quietly(self.temp)

    @abstractmethod
    def _write(self, payload: Payload) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...


class ParquetPart(PartFile):
    def __init__(self, temp: Path, final: str, schema: pa.Schema, compression: Compression) -> None:
        super().__init__(temp, final, schema)
        self._writer = pq.ParquetWriter(str(temp), schema, compression=compression.value)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._pending_bytes = 0

    def _write(self, payload: Payload) -> None:
        assert isinstance(payload, pa.Table)
        self._pending.append(payload)
        self._pending_rows += payload.num_rows
        self._pending_bytes += payload.nbytes
        if self._pending_rows >= ROW_GROUP_ROWS or self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            assert self.schema is not None
            table = pa.concat_tables(
                [pa.Table.from_arrays(t.columns, schema=self.schema) for t in self._pending]
            )
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def _close(self) -> None:
        try:
            self._flush()
        finally:
            self._writer.close()


class CsvPart(PartFile):
    def __init__(self, temp: Path, final: str, schema: pa.Schema, compression: Compression) -> None:
        super().__init__(temp, final, schema)
        self._sink = _text_sink(temp, compression)
        # pyarrow's stubs list only Python files, but the writer takes any Arrow output stream.
        self._writer = pa_csv.CSVWriter(self._sink, schema)  # type: ignore[arg-type]

    def _write(self, payload: Payload) -> None:
        assert isinstance(payload, pa.Table)
        assert self.schema is not None
        self._writer.write_table(pa.Table.from_arrays(payload.columns, schema=self.schema))

    def _close(self) -> None:
        try:
            self._writer.close()
        finally:
            self._sink.close()


class JsonlPart(PartFile):
    def __init__(self, temp: Path, final: str, compression: Compression) -> None:
        super().__init__(temp, final, None)
        self._sink = _text_sink(temp, compression)

    def _write(self, payload: Payload) -> None:
        assert isinstance(payload, list)
        self._sink.write(b"".join(payload))

    def _close(self) -> None:
        self._sink.close()


def open_part(
    fmt: FileFormat, compression: Compression, temp: Path, final: str, payload: Payload
) -> PartFile:
    if fmt is FileFormat.JSONL:
        return JsonlPart(temp, final, compression)
    assert isinstance(payload, pa.Table)
    if fmt is FileFormat.PARQUET:
        return ParquetPart(temp, final, payload.schema, compression)
    return CsvPart(temp, final, payload.schema, compression)
