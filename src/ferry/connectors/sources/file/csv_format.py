"""CSV and TSV files: Arrow's streaming C++ reader reads every column as bytes, then each column is typed.

The header row is read ahead (with Python's csv module, on the first bytes only) to learn the column
names, so every column can be declared as bytes before Arrow starts; Arrow then reads the header itself.
Rows with too few fields keep their values and get NULLs with a reason; rows with more non-empty
fields than the header stop the read with an error naming the line, because no rule can tell which
value belongs to which column.
"""

from __future__ import annotations

import _csv
import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ferry.cdk.casting import RowChanges
from ferry.connectors.sources.file.compression import prepend
from ferry.connectors.sources.file.conform import Plan, assemble, cast_text, note, warn_unknown
from ferry.connectors.sources.file.files import SourceFile
from ferry.connectors.sources.file.inference import Inferred, infer_text
from ferry.connectors.sources.file.names import generated_names, unique_names
from ferry.errors import ConfigError, DataError

_BLOCK_SIZE = 1 << 20
_PEEK = 1 << 16
_HEADER_LIMIT = 16 << 20


@dataclass(frozen=True, slots=True)
class _Layout:
    names: list[str]
    """Column names as Ferry reads them (duplicates and empty names repaired)."""
    keys: list[str]
    """Column names as Arrow sees them (the header as written, or generated names)."""
    prefix: bytes


@dataclass(slots=True)
class TextBatch:
    """Columns of text (None for a missing value), by column name, with the changes noted so far."""

    columns: dict[str, pa.Array[Any]]
    num_rows: int
    changes: RowChanges


def _delimiter(file: SourceFile) -> str:
    return file.cfg.csv.delimiter or ("\t" if file.format == "tsv" else ",")


def _python_reader(text: io.StringIO | list[str], file: SourceFile) -> _csv.Reader:
    quote = file.cfg.csv.quote_char
    if quote:
        return csv.reader(text, delimiter=_delimiter(file), quotechar=quote)
    return csv.reader(text, delimiter=_delimiter(file), quoting=csv.QUOTE_NONE)


def _first_record(data: bytes, file: SourceFile, final: bool) -> list[str] | None:
    """The first non-blank record in `data`, [] for a file with none, None when more bytes are needed."""
    text = codecs.getincrementaldecoder(file.cfg.csv.encoding)(errors="replace").decode(data, final=final)
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    reader = _python_reader(lines, file)
    try:
        for record in reader:
            if record:
                # Complete only when something follows it: a quoted field may go on in the next bytes.
                return record if final or reader.line_num < len(lines) else None
    except csv.Error as exc:
        raise DataError(
            f"{file.url}: cannot read the first row: {exc}", hint=f"Check {file.cfg.field('csv_options')}."
        ) from None
    return [] if final else None


def _read_layout(file: SourceFile) -> _Layout | None:
    """The column names from the first row; None for a file without any row."""
    data = b""
    while True:
        chunk = file.stream.read(_PEEK)
        data += chunk
        record = _first_record(data, file, final=not chunk)
        if record is not None:
            break
        if len(data) > _HEADER_LIMIT:
            raise DataError(
                f"{file.url}: the first row is longer than {_HEADER_LIMIT >> 20} MiB",
                hint=f"Check {file.cfg.field('format')}, and the delimiter and quote_char in "
                f"{file.cfg.field('csv_options')}.",
            )
    if not record:
        return None
    utf16_bom = (
        data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and "16" not in file.cfg.csv.encoding
    )
    if utf16_bom or (file.cfg.csv.header and any("\x00" in name for name in record)):
        field = f"{file.cfg.field('csv_options')}.encoding"
        raise ConfigError(
            f"{file.url} is not {file.cfg.csv.encoding} text: its first row holds NUL bytes or a UTF-16 mark",
            hint=f"Set {field} (utf-16 files look like this) or check {file.cfg.field('format')}.",
            field=field,
        )
    if file.cfg.csv.header:
        return _Layout(unique_names(record, file.url, file.logger), record, data)
    names = generated_names(len(record))
    return _Layout(names, names, data)


@dataclass(slots=True)
class _RaggedRow:
    line: int
    expected: int
    actual: int
    text: str


class _RaggedRows:
    """Arrow's invalid-row handler: keeps rows whose field count differs from the header, to handle after."""

    def __init__(self) -> None:
        self.rows: list[_RaggedRow] = []

    def __call__(self, row: pa_csv.InvalidRow) -> Literal["skip", "error"]:
        self.rows.append(_RaggedRow(row.number or 0, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def drain(self) -> list[_RaggedRow]:
        rows, self.rows = sorted(self.rows, key=lambda r: r.line), []
        return rows


def _open_arrow(file: SourceFile, layout: _Layout, handler: _RaggedRows) -> pa_csv.CSVStreamingReader:
    options = file.cfg.csv
    read = pa_csv.ReadOptions(
        block_size=_BLOCK_SIZE,
        encoding=options.encoding,
        column_names=None if options.header else layout.keys,
        use_threads=False,  # with threads, Arrow does not number rows, and errors could not name the line
    )
    parse = pa_csv.ParseOptions(
        delimiter=_delimiter(file),
        quote_char=options.quote_char or False,
        newlines_in_values=True,
        invalid_row_handler=handler,
    )
    convert = pa_csv.ConvertOptions(
        column_types={k: pa.binary() for k in layout.keys}, strings_can_be_null=False
    )
    return pa_csv.open_csv(
        prepend(layout.prefix, file.stream), read_options=read, parse_options=parse, convert_options=convert
    )


def _decode(
    column: pa.Array[Any], name: str, changes: RowChanges, first_row: int, file: SourceFile
) -> pa.Array[Any]:
    """Bytes to text; a value that is not valid UTF-8 is NULL with a reason, the rest is kept."""
    try:
        return pc.cast(column, pa.string())
    except pa.ArrowInvalid:
        pass
    values: list[str | None] = []
    for row, raw in enumerate(column.to_pylist()):
        try:
            values.append(None if raw is None else raw.decode("utf-8"))
        except UnicodeDecodeError:
            values.append(None)
            note(changes, row, name)
            file.warn_once(
                "utf-8",
                "%s: column %r of data row %d is not valid UTF-8; it is NULL (SOURCE_SERIALIZATION_ERROR). "
                "If the file is not UTF-8, set %s.encoding.",
                file.url,
                name,
                first_row + row + 1,
                file.cfg.field("csv_options"),
            )
    return pa.array(values, pa.string())


def _text_batch(batch: pa.RecordBatch, layout: _Layout, first_row: int, file: SourceFile) -> TextBatch:
    if batch.num_columns != len(layout.names) or any(t != pa.binary() for t in batch.schema.types):
        raise DataError(
            f"{file.url}: the header row could not be read consistently", hint="Check the file's first row."
        )
    changes: RowChanges = [None] * batch.num_rows
    columns = {
        n: _decode(c, n, changes, first_row, file) for n, c in zip(layout.names, batch.columns, strict=True)
    }
    return TextBatch(columns, batch.num_rows, changes)


def _ragged_fields(row: _RaggedRow, names: list[str], file: SourceFile) -> list[str]:
    fields = next(_python_reader(io.StringIO(row.text), file), [])
    extra = fields[len(names) :]
    if any(v.strip() for v in extra):
        raise DataError(
            f"{file.url} line {row.line} has {len(fields)} fields but the header has {len(names)}",
            hint=f"Fix that line, or check {file.cfg.field('csv_options')} (delimiter, quote_char); "
            "Ferry does not guess which field is extra.",
        )
    return fields[: len(names)]  # trailing empty fields (a delimiter at the end of the line) hold no data


def _ragged_batch(rows: list[_RaggedRow], names: list[str], file: SourceFile) -> TextBatch:
    """Rows with too few fields: the fields they have, and NULL with a reason for the rest."""
    changes: RowChanges = [None] * len(rows)
    values: list[list[str | None]] = [[] for _ in names]
    for i, row in enumerate(rows):
        fields = _ragged_fields(row, names, file)
        if len(fields) < len(names):
            file.warn_once(
                "short-row",
                "%s line %d has %d fields but the header has %d; the missing fields are NULL "
                "(SOURCE_SERIALIZATION_ERROR). Later short rows are not logged.",
                file.url,
                row.line,
                len(fields),
                len(names),
            )
        for position, name in enumerate(names):
            values[position].append(fields[position] if position < len(fields) else None)
            if position >= len(fields):
                note(changes, i, name)
    columns: dict[str, pa.Array[Any]] = {
        name: pa.array(column, pa.string()) for name, column in zip(names, values, strict=True)
    }
    return TextBatch(columns, len(rows), changes)


def text_batches(file: SourceFile) -> Iterator[TextBatch]:
    """The file's rows as text columns, one batch per block of about a megabyte."""
    layout = _read_layout(file)
    if layout is None:
        file.logger.info("%s is empty", file.url)
        return
    # An empty first batch carries the column names, so a file with only a header still has its columns.
    yield TextBatch({n: pa.array([], pa.string()) for n in layout.names}, 0, [])
    ragged = _RaggedRows()
    reader = _open_arrow(file, layout, ragged)
    first_row = 0
    for batch in reader:
        yield _text_batch(batch, layout, first_row, file)
        first_row += batch.num_rows
        if ragged.rows:
            yield _ragged_batch(ragged.drain(), layout.names, file)
    if ragged.rows:
        yield _ragged_batch(ragged.drain(), layout.names, file)


def sample_csv(file: SourceFile, max_rows: int) -> dict[str, Inferred | None]:
    """Column types from the first `max_rows` rows."""
    parts: dict[str, list[pa.Array[Any]]] = {}
    rows = 0
    for batch in text_batches(file):
        for name, column in batch.columns.items():
            parts.setdefault(name, []).append(column)
        rows += batch.num_rows
        if rows >= max_rows:
            break
    return {name: infer_text(pa.concat_arrays(arrays)[:max_rows]) for name, arrays in parts.items()}


def read_csv(file: SourceFile, plan: Plan) -> Iterator[pa.RecordBatch]:
    for batch in text_batches(file):
        if not batch.num_rows:
            continue
        warn_unknown(plan, batch.columns, file)
        arrays = {
            c.name: cast_text(batch.columns[c.name], c, batch.changes)
            for c in plan.columns
            if c.name in batch.columns
        }
        yield assemble(plan, arrays, batch.num_rows, batch.changes, file)
