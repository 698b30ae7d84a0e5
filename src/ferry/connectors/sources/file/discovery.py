"""A stream's JSON schema: column types inferred from a sample of its files, merged, plus the file columns."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ferry.connectors.sources.file.config import StreamConfig
from ferry.connectors.sources.file.conform import Plan
from ferry.connectors.sources.file.csv_format import read_csv, sample_csv
from ferry.connectors.sources.file.failures import reading
from ferry.connectors.sources.file.files import FileRef, SourceFile, open_file
from ferry.connectors.sources.file.inference import Inferred, merge_columns, property_of
from ferry.connectors.sources.file.jsonl_format import read_jsonl, sample_jsonl
from ferry.connectors.sources.file.names import FILE_MODIFIED_COLUMN, FILE_URL_COLUMN
from ferry.connectors.sources.file.parquet_format import read_parquet, sample_parquet
from ferry.errors import ConfigError

SAMPLE_ROWS = 10_000
"""Rows read from each sampled file to infer column types."""
SAMPLE_FILES = 10
"""Files sampled: the most recently modified ones, so new columns show up."""

FILE_COLUMNS: dict[str, dict[str, Any]] = {
    FILE_URL_COLUMN: {"type": "string"},
    FILE_MODIFIED_COLUMN: {
        "type": "string",
        "format": "date-time",
        "airbyte_type": "timestamp_with_timezone",
    },
}


def _sample(file: SourceFile) -> dict[str, Inferred | None]:
    if file.format == "parquet":
        return sample_parquet(file)
    if file.format == "jsonl":
        return sample_jsonl(file, SAMPLE_ROWS)
    return sample_csv(file, SAMPLE_ROWS)


def read_file(file: SourceFile, plan: Plan) -> Iterator[pa.RecordBatch]:
    """Every row of one file as batches of the stream's schema."""
    with reading(file):
        if file.format == "parquet":
            yield from read_parquet(file, plan)
        elif file.format == "jsonl":
            yield from read_jsonl(file, plan)
        else:
            yield from read_csv(file, plan)


def _check_primary_key(cfg: StreamConfig, columns: dict[str, Inferred | None]) -> None:
    missing = [name for name in cfg.primary_key if name not in columns]
    if missing:
        raise ConfigError(
            f"primary key column(s) {', '.join(map(repr, missing))} of stream {cfg.name!r} "
            "are not columns of its files",
            hint=f"Fix {cfg.field('primary_key')}; the columns are: {', '.join(columns) or 'none'}.",
            field=cfg.field("primary_key"),
            stream=cfg.name,
        )


def infer_schema(cfg: StreamConfig, refs: list[FileRef], logger: logging.Logger) -> dict[str, Any]:
    """The stream's JSON schema from its most recent files (`refs` is oldest first)."""
    columns: dict[str, Inferred | None] = {}
    for ref in refs[-SAMPLE_FILES:]:
        with open_file(ref, cfg, logger) as file, reading(file):
            merge_columns(columns, _sample(file))
    _check_primary_key(cfg, columns)
    properties = {name: property_of(kind) for name, kind in columns.items()}
    properties.update(FILE_COLUMNS)
    return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": properties}
