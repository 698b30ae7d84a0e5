"""The file source's connection specification (the JSON schema its config is validated against)."""

from __future__ import annotations

from typing import Any

FORMATS = ("csv", "tsv", "jsonl", "parquet")
COMPRESSIONS = ("auto", "none", "gzip", "zstd")
DEFAULT_HTTP_TIMEOUT = 60.0

_CSV_OPTIONS: dict[str, Any] = {
    "type": "object",
    "title": "CSV options",
    "additionalProperties": False,
    "properties": {
        "delimiter": {
            "type": "string",
            "minLength": 1,
            "maxLength": 1,
            "description": "Field separator. Default ',' for csv and a tab for tsv.",
        },
        "quote_char": {
            "type": "string",
            "maxLength": 1,
            "default": '"',
            "description": "Quote character; an empty string turns quoting off.",
        },
        "header": {
            "type": "boolean",
            "default": True,
            "description": "The first row holds the column names.",
        },
        "encoding": {
            "type": "string",
            "default": "utf-8",
            "description": "Text encoding, e.g. utf-8, latin-1.",
        },
    },
}

_STREAM: dict[str, Any] = {
    "type": "object",
    "required": ["name", "path"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "Stream name."},
        "path": {
            "type": "string",
            "minLength": 1,
            "description": "A local path, a glob (data/*.csv, data/**/*.csv) or an http(s) URL. "
            "All files it matches form one stream.",
        },
        "format": {
            "type": "string",
            "enum": list(FORMATS),
            "description": "Default: from the file extension.",
        },
        "compression": {
            "type": "string",
            "enum": list(COMPRESSIONS),
            "default": "auto",
            "description": "auto: from the extension (.gz, .zst, .zstd).",
        },
        "csv_options": _CSV_OPTIONS,
        "primary_key": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
            "description": "Column names that identify a row.",
        },
    },
}

CONNECTION_SPECIFICATION: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "File source",
    "type": "object",
    "required": ["streams"],
    "additionalProperties": False,
    "properties": {
        "streams": {"type": "array", "minItems": 1, "items": _STREAM},
        "http_timeout_seconds": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": DEFAULT_HTTP_TIMEOUT,
            "description": "Seconds to wait for an HTTP server to connect or send data.",
        },
    },
}
