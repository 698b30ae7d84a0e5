"""The files of one stream: its path, glob or URL resolved to files, and one file opened for reading."""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from ferry.connectors.sources.file.compression import compression_of, decompressed, format_of
from ferry.connectors.sources.file.config import StreamConfig
from ferry.connectors.sources.file.http import is_url, open_url, redact_url
from ferry.errors import ConfigError, TransientError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class FileRef:
    """One file to read: `url` is shown and stored (a URL's secrets hidden), `target` is opened."""

    url: str
    target: str = field(repr=False)
    last_modified: dt.datetime | None
    """Known before opening for local files; an HTTP file learns it from the response."""


@dataclass(slots=True)
class SourceFile:
    """One opened file: a decompressed binary stream and what the readers need to know about it."""

    url: str
    last_modified: dt.datetime
    format: str
    compression: str | None
    stream: BinaryIO
    local_path: str | None
    """Set when the file is local and not compressed, so Parquet can seek in it directly."""
    cfg: StreamConfig
    logger: logging.Logger
    _warned: set[str] = field(default_factory=set)

    def warn_once(self, key: str, message: str, *args: Any) -> None:
        """Log a warning about this file once per kind of problem, not once per row."""
        if key not in self._warned:
            self._warned.add(key)
            self.logger.warning(message, *args)


def _mtime(path: str) -> dt.datetime | None:
    try:
        return _EPOCH + dt.timedelta(microseconds=os.stat(path).st_mtime_ns // 1000)
    except FileNotFoundError:
        return None  # removed between listing and stat: it is simply not part of this read


def _local_path(cfg: StreamConfig) -> str:
    path = cfg.path
    if path.lower().startswith("file://"):
        return unquote(urlsplit(path).path)
    if "://" in path:
        raise ConfigError(
            f"{cfg.field('path')} uses an unsupported scheme: {redact_url(path)}",
            hint="Use a local path, a glob, or an http(s) URL.",
            field=cfg.field("path"),
        )
    return os.path.expanduser(path)


def _matches(cfg: StreamConfig, path: str) -> list[str]:
    if any(c in path for c in "*?["):
        found = sorted(m for m in glob.glob(path, recursive=True) if os.path.isfile(m))
        if not found:
            raise ConfigError(
                f"no file matches the pattern {cfg.path!r} of stream {cfg.name!r}",
                hint=f"Check {cfg.field('path')}; a relative pattern is resolved from {os.getcwd()}.",
                field=cfg.field("path"),
            )
        return found
    if os.path.isdir(path):
        raise ConfigError(
            f"{cfg.path!r} of stream {cfg.name!r} is a directory",
            hint=f"Use a glob such as {os.path.join(cfg.path, '*.csv')!r} in {cfg.field('path')}.",
            field=cfg.field("path"),
        )
    if not os.path.isfile(path):
        raise ConfigError(
            f"file not found: {cfg.path!r} (stream {cfg.name!r})",
            hint=f"Check {cfg.field('path')}; a relative path is resolved from {os.getcwd()}.",
            field=cfg.field("path"),
        )
    return [path]


def list_files(cfg: StreamConfig) -> list[FileRef]:
    """The stream's files, oldest first (by last-modified time, then name)."""
    if is_url(cfg.path):
        return [FileRef(redact_url(cfg.path), cfg.path, None)]
    refs = []
    for match in _matches(cfg, _local_path(cfg)):
        absolute = os.path.abspath(match)
        modified = _mtime(absolute)
        if modified is not None:
            refs.append(FileRef(absolute, absolute, modified))
    return sorted(refs, key=lambda r: (r.last_modified or _EPOCH, r.url))


def _open_local(ref: FileRef, cfg: StreamConfig) -> BinaryIO:
    try:
        return open(ref.target, "rb")
    except FileNotFoundError:
        raise TransientError(
            f"file {ref.url} was removed before it could be read",
            hint="Run the sync again.",
            field=cfg.field("path"),
        ) from None
    except PermissionError:
        raise ConfigError(
            f"no permission to read {ref.url}",
            hint="Let the user running Ferry read the file.",
            field=cfg.field("path"),
        ) from None


@contextmanager
def open_file(ref: FileRef, cfg: StreamConfig, logger: logging.Logger) -> Iterator[SourceFile]:
    """Open one file (a local file, or an HTTP GET) and decompress it on the fly."""
    fmt = format_of(ref.url, cfg)
    compression = compression_of(ref.url, cfg)
    local_path: str | None = None
    if is_url(ref.target):
        raw, modified = open_url(ref.target, cfg.http_timeout, cfg.field("path"))
        if modified is None:
            logger.info("%s sends no Last-Modified header; incremental syncs read it every time", ref.url)
            modified = dt.datetime.now(dt.UTC)
    else:
        raw, modified = _open_local(ref, cfg), ref.last_modified or _EPOCH
        local_path = ref.target if compression is None else None
    stream = decompressed(raw, compression)
    try:
        yield SourceFile(ref.url, modified, fmt, compression, stream, local_path, cfg, logger)
    finally:
        stream.close()
