"""Incremental state: the last-modified time of every file already read, `{"files": {url: iso_time}}`.

A file is read again when it is new or its last-modified time is later than the one stored. Keeping
every file (not only a high-water mark) means a file that arrives with an old timestamp (copied with
its times preserved) is still read.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

FILES_KEY = "files"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def files_read(state: Mapping[str, Any] | None, logger: logging.Logger) -> dict[str, dt.datetime]:
    """The files a previous sync read, with their times; an unreadable entry means the file is read again."""
    raw = (state or {}).get(FILES_KEY)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        logger.warning("the stream state has no valid %r map; every file is read again", FILES_KEY)
        return {}
    out: dict[str, dt.datetime] = {}
    for url, value in raw.items():
        moment = _parse(value)
        if moment is None:
            logger.warning("the stream state holds no valid time for %s; the file is read again", url)
        else:
            out[url] = moment
    return out


def is_new(read_before: Mapping[str, dt.datetime], url: str, modified: dt.datetime) -> bool:
    previous = read_before.get(url)
    return previous is None or modified > previous


def state_of(files: Mapping[str, dt.datetime]) -> dict[str, Any]:
    return {FILES_KEY: {url: iso(moment) for url, moment in files.items()}}
