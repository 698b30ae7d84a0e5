"""The local-files destination's config: its spec (JSON schema) and the parsed, checked settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from ferry.connectors.destinations.local_files.paths import DEFAULT_PATTERN, PLACEHOLDERS, PathPattern
from ferry.errors import ConfigError


class FileFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


class Compression(StrEnum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"
    SNAPPY = "snappy"


DEFAULT_COMPRESSION: Final = {
    # Parquet compresses inside the file and every reader knows snappy; text stays plain so that
    # `head` and `cat` work on it out of the box.
    FileFormat.PARQUET: Compression.SNAPPY,
    FileFormat.JSONL: Compression.NONE,
    FileFormat.CSV: Compression.NONE,
}
ALLOWED_COMPRESSION: Final = {
    FileFormat.PARQUET: (Compression.SNAPPY, Compression.ZSTD, Compression.GZIP, Compression.NONE),
    FileFormat.JSONL: (Compression.NONE, Compression.GZIP, Compression.ZSTD),
    FileFormat.CSV: (Compression.NONE, Compression.GZIP, Compression.ZSTD),
}
_SUFFIX: Final = {Compression.NONE: "", Compression.GZIP: ".gz", Compression.ZSTD: ".zst"}
DEFAULT_MAX_ROWS: Final = 1_000_000
DEFAULT_MAX_FILE_MB: Final = 1024

SPEC: Final[dict[str, Any]] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Local files",
    "type": "object",
    "required": ["path"],
    "additionalProperties": False,
    "properties": {
        "path": {
            "type": "string",
            "minLength": 1,
            "title": "Base directory",
            "description": "Directory the files are written under; created when missing. '~' is expanded.",
            "examples": ["/data/ferry", "~/ferry-output"],
        },
        "format": {
            "type": "string",
            "enum": [f.value for f in FileFormat],
            "default": FileFormat.PARQUET.value,
            "title": "File format",
        },
        "compression": {
            "type": "string",
            "enum": [c.value for c in Compression],
            "title": "Compression",
            "description": "jsonl/csv: none (default), gzip or zstd. "
            "parquet: snappy (default), zstd, gzip or none.",
        },
        "path_pattern": {
            "type": "string",
            "minLength": 1,
            "default": DEFAULT_PATTERN,
            "title": "Path pattern",
            "description": "File path under the base directory. Placeholders: "
            + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            + ". {part} is required.",
        },
        "max_rows_per_file": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_MAX_ROWS,
            "title": "Rows per file",
            "description": "A new part file is started when a part holds this many rows.",
        },
        "max_file_size_mb": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_MAX_FILE_MB,
            "title": "Data per file (MB)",
            "description": "A new part file is started when a part holds this much data "
            "(measured uncompressed).",
        },
    },
}


@dataclass(frozen=True, slots=True)
class FilesConfig:
    base: Path
    format: FileFormat
    compression: Compression
    pattern: PathPattern
    max_rows_per_file: int
    max_bytes_per_file: int

    @property
    def extension(self) -> str:
        """The {ext} placeholder: the format, plus the compression suffix for text formats."""
        if self.format is FileFormat.PARQUET:
            return "parquet"
        return self.format.value + _SUFFIX[self.compression]


def _choice(
    config: Mapping[str, Any], key: str, enum: type[FileFormat] | type[Compression], default: str
) -> Any:
    value = config.get(key) or default
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ConfigError(
            f"config field '{key}' is '{value}'", hint=f"Use one of: {allowed}.", field=key
        ) from None


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"config field '{key}' must be a positive integer", hint="Fix the value.", field=key
        )
    return value


def parse_config(config: Mapping[str, Any]) -> FilesConfig:
    """Checked settings; ConfigError names the first field that is wrong."""
    path = config.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(
            "config is missing the required field 'path'", hint="Set the base directory.", field="path"
        )
    fmt: FileFormat = _choice(config, "format", FileFormat, FileFormat.PARQUET.value)
    compression: Compression = _choice(config, "compression", Compression, DEFAULT_COMPRESSION[fmt].value)
    if compression not in ALLOWED_COMPRESSION[fmt]:
        allowed = ", ".join(c.value for c in ALLOWED_COMPRESSION[fmt])
        raise ConfigError(
            f"compression '{compression.value}' does not apply to {fmt.value} files",
            hint=f"For {fmt.value} use one of: {allowed}.",
            field="compression",
        )
    pattern = config.get("path_pattern") or DEFAULT_PATTERN
    if not isinstance(pattern, str):
        raise ConfigError(
            "config field 'path_pattern' must be a string", hint="Fix the value.", field="path_pattern"
        )
    return FilesConfig(
        base=Path(path).expanduser(),
        format=fmt,
        compression=compression,
        pattern=PathPattern.parse(pattern),
        max_rows_per_file=_positive_int(config, "max_rows_per_file", DEFAULT_MAX_ROWS),
        max_bytes_per_file=_positive_int(config, "max_file_size_mb", DEFAULT_MAX_FILE_MB) << 20,
    )
