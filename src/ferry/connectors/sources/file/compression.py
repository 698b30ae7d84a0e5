"""Which compression and format a file has (config first, then its name), and streaming decompression."""

from __future__ import annotations

import gzip
import io
from typing import BinaryIO, cast
from urllib.parse import urlsplit

import zstandard

from ferry.connectors.sources.file.config import StreamConfig
from ferry.errors import ConfigError

_COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_FORMAT_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def _file_name(url: str) -> str:
    """The last path segment, lower-cased, without any query string."""
    return urlsplit(url).path.rsplit("/", 1)[-1].lower() if "://" in url else url.rsplit("/", 1)[-1].lower()


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def compression_of(url: str, cfg: StreamConfig) -> str | None:
    """gzip, zstd or None for one file."""
    if cfg.compression == "auto":
        return _COMPRESSION_SUFFIXES.get(_suffix(_file_name(url)))
    return None if cfg.compression == "none" else cfg.compression


def format_of(url: str, cfg: StreamConfig) -> str:
    """csv, tsv, jsonl or parquet for one file: the configured format, else the one its extension names."""
    if cfg.format:
        return cfg.format
    name = _file_name(url)
    suffix = _suffix(name)
    if suffix in _COMPRESSION_SUFFIXES:
        suffix = _suffix(name[: -len(suffix)])
    found = _FORMAT_SUFFIXES.get(suffix)
    if found is None:
        raise ConfigError(
            f"cannot tell the format of {url} from its name",
            hint=f"Set {cfg.field('format')} to csv, tsv, jsonl or parquet.",
            field=cfg.field("format"),
        )
    return found


class _Reader(io.RawIOBase):
    """Any object with `read(n)` as a raw stream, so io.BufferedReader can sit on top of it."""

    def __init__(self, source: BinaryIO, underlying: BinaryIO | None = None) -> None:
        self._source = source
        self._underlying = underlying

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # io's buffer protocol type
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._source.close()
            if self._underlying is not None:
                self._underlying.close()  # GzipFile leaves the file it was given open
        finally:
            super().close()


def buffered(source: BinaryIO, underlying: BinaryIO | None = None, buffer_size: int = 1 << 16) -> BinaryIO:
    """A buffered stream over `source` (with readline and iteration); closing it closes both streams."""
    return cast(BinaryIO, io.BufferedReader(_Reader(source, underlying), buffer_size))


def decompressed(raw: BinaryIO, compression: str | None) -> BinaryIO:
    """`raw` decompressed on the fly; memory stays bounded whatever the file's size."""
    if compression == "gzip":
        return buffered(cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")), raw)
    if compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return buffered(cast(BinaryIO, reader))
    return buffered(raw)


class _Prefixed:
    """Bytes already read from a stream, then the rest of that stream (the stream itself is not closed)."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            n = len(self._prefix) if size < 0 else min(size, len(self._prefix))
            head, self._prefix = bytes(self._prefix[:n]), self._prefix[n:]
            return head
        return self._rest.read(size)

    def close(self) -> None:
        self._prefix = memoryview(b"")


def prepend(prefix: bytes, rest: BinaryIO) -> BinaryIO:
    """A stream that replays `prefix` and then reads on from `rest`."""
    return buffered(cast(BinaryIO, _Prefixed(prefix, rest)))
