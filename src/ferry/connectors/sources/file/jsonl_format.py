"""JSON lines files: one JSON object per line, read in bounded chunks and typed per column.

orjson parses a line; lines it refuses (or whose integers it would round) go to the standard json
module, which keeps big integers exact, accepts raw control characters such as NUL inside strings,
and lets a value with invalid UTF-8 be found and set to NULL with a reason instead of failing the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from ferry.cdk.casting import RowChanges, cast_values
from ferry.connectors.sources.file.conform import Plan, assemble, note, warn_unknown
from ferry.connectors.sources.file.files import SourceFile
from ferry.connectors.sources.file.inference import Inferred, infer_value, merge
from ferry.connectors.sources.file.names import RESERVED, rename_reserved
from ferry.errors import DataError

_CHUNK_ROWS = 10_000
_CHUNK_BYTES = 8 << 20
# orjson reads integers beyond 64 bits as floats, silently rounding them; such lines take the exact path.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
_SURROGATE = re.compile("[\ud800-\udfff]")

Row = tuple[dict[str, Any], list[str]]
"""A parsed line and the names of its fields that were not valid text."""


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def _repair(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _parse_exactly(line: bytes, number: int, file: SourceFile) -> tuple[Any, list[str]]:
    text = line.decode("utf-8", "surrogateescape")
    try:
        value = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{file.url} line {number}, column {exc.colno}: not valid JSON ({exc.msg})",
            hint="Fix that line; a JSON lines file holds one JSON object per line "
            f"(or check {file.cfg.field('format')}).",
        ) from None
    bad: list[str] = []
    if isinstance(value, dict) and _has_surrogate(value):
        cleaned: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = _repair(raw_key)
            cleaned[key] = None if _has_surrogate(item) else item
            if cleaned[key] is None and item is not None:
                bad.append(key)
        value = cleaned
    return value, bad


def _parse(line: bytes, number: int, file: SourceFile) -> Row:
    try:
        value, bad = (
            (orjson.loads(line), [])
            if _LONG_NUMBER.search(line) is None
            else _parse_exactly(line, number, file)
        )
    except orjson.JSONDecodeError:
        value, bad = _parse_exactly(line, number, file)
    if not isinstance(value, dict):
        raise DataError(
            f"{file.url} line {number} holds a JSON {type(value).__name__}, not an object",
            hint="Each line of a JSON lines file must be one JSON object.",
        )
    if not RESERVED.isdisjoint(value):
        value = dict(zip(rename_reserved(list(value)), value.values(), strict=True))
    return value, bad


def _chunks(file: SourceFile) -> Iterator[list[Row]]:
    rows: list[Row] = []
    size = 0
    for number, line in enumerate(file.stream, start=1):
        if not line.strip():
            continue
        rows.append(_parse(line, number, file))
        size += len(line)
        if len(rows) >= _CHUNK_ROWS or size >= _CHUNK_BYTES:
            yield rows
            rows, size = [], 0
    if rows:
        yield rows


def sample_jsonl(file: SourceFile, max_rows: int) -> dict[str, Inferred | None]:
    """Column types from the first `max_rows` lines; columns in order of first appearance."""
    kinds: dict[str, Inferred | None] = {}
    seen = 0
    for chunk in _chunks(file):
        for row, _ in chunk[: max_rows - seen]:
            for key, value in row.items():
                kinds[key] = merge(kinds.get(key), infer_value(value))
        seen += len(chunk)
        if seen >= max_rows:
            break
    return kinds


def read_jsonl(file: SourceFile, plan: Plan) -> Iterator[pa.RecordBatch]:
    for chunk in _chunks(file):
        changes: RowChanges = [None] * len(chunk)
        keys: set[str] = set()
        for i, (row, bad) in enumerate(chunk):
            keys.update(row)
            for name in bad:
                note(changes, i, name)
        warn_unknown(plan, keys, file)
        arrays = {
            c.name: cast_values([row.get(c.name) for row, _ in chunk], c, changes) for c in plan.columns
        }
        yield assemble(plan, arrays, len(chunk), changes, file)
