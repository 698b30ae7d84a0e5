"""Low-level failures while reading a file, turned into Ferry errors that name the file and what to do."""

from __future__ import annotations

import csv
import gzip
import http.client
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa
import zstandard

from ferry.connectors.sources.file.files import SourceFile
from ferry.errors import DataError, FerryError, TransientError

_MAX_DETAIL = 300


def _detail(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


@contextmanager
def reading(file: SourceFile) -> Iterator[None]:
    """Wrap the reading of one file: network trouble is transient, bad bytes are the data's fault."""
    stream = file.cfg.name
    try:
        yield
    except FerryError:
        raise
    except (TimeoutError, ConnectionError, http.client.IncompleteRead) as exc:
        raise TransientError(
            f"reading {file.url} failed: {_detail(exc)}", hint="Retry the sync.", stream=stream
        ) from exc
    except (EOFError, gzip.BadGzipFile, zlib.error, zstandard.ZstdError) as exc:
        raise DataError(
            f"{file.url} is not valid {file.compression or 'uncompressed'} data, or it is cut short: "
            f"{_detail(exc)}",
            hint=f"Check the file, or set {file.cfg.field('compression')}.",
            stream=stream,
        ) from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{file.url} is not valid {file.cfg.csv.encoding} text: {_detail(exc)}",
            hint=f"Set {file.cfg.field('csv_options')}.encoding to the file's encoding.",
            stream=stream,
        ) from exc
    except (pa.ArrowException, OSError, csv.Error) as exc:
        raise DataError(
            f"cannot read {file.url} as {file.format}: {_detail(exc)}",
            hint=f"Check the file, {file.cfg.field('format')} and {file.cfg.field('compression')}.",
            stream=stream,
        ) from exc
