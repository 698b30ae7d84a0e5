"""Reads attempt logs for the job page: the tail, new lines since an offset, a search, the first errors.

Log lines look like `2024-05-01T10:00:00 ERROR text`; a message may run over several lines, and the
lines after the first have no time stamp. Reads are bounded, so a huge log never fills the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TAIL_LINES = 2000
CHUNK_BYTES = 256 * 1024
SEARCH_LIMIT = 1000
_ERROR_LEVELS = ("ERROR", "FATAL")
_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Chunk:
    """Complete lines of a log, and the byte offset just after the last of them."""

    lines: list[str] = field(default_factory=list)
    offset: int = 0
    skipped: bool = False
    """True when earlier lines exist that are not in `lines`."""


def tail(path: Path, max_lines: int = TAIL_LINES) -> Chunk:
    """The last `max_lines` complete lines."""
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, 2)
            data, start = b"", end
            while start > 0 and data.count(b"\n") <= max_lines:
                start = max(0, start - _BLOCK)
                handle.seek(start)
                data = handle.read(end - start)
    except FileNotFoundError:
        return Chunk()
    complete = data[: data.rfind(b"\n") + 1]
    lines = _decode(complete).splitlines()
    skipped = start > 0 or len(lines) > max_lines
    if start > 0 and lines:
        lines = lines[1:]  # the first line read from mid-file is likely cut
    return Chunk(lines[-max_lines:], start + len(complete), skipped)


def since(path: Path, offset: int, max_bytes: int = CHUNK_BYTES) -> Chunk:
    """The complete lines written from byte `offset` on (at most `max_bytes` of them)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(offset, 0))
            data = handle.read(max_bytes)
    except FileNotFoundError:
        return Chunk(offset=offset)
    complete = data[: data.rfind(b"\n") + 1]
    return Chunk(_decode(complete).splitlines(), offset + len(complete))


def search(path: Path, query: str, limit: int = SEARCH_LIMIT) -> list[tuple[int, str]]:
    """(line number, line) of the lines containing `query`, ignoring case."""
    needle = query.lower()
    found = []
    for number, line in enumerate(_lines(path), start=1):
        if needle in line.lower():
            found.append((number, line))
            if len(found) >= limit:
                break
    return found


def first_errors(path: Path, limit: int = 12) -> list[str]:
    """The first error messages, with the lines that continue them."""
    out: list[str] = []
    inside = False
    for line in _lines(path):
        level = _level(line)
        if level in _ERROR_LEVELS:
            inside = True
            out.append(line)
        elif level is None and inside:
            out.append(line)
        else:
            inside = False
        if len(out) >= limit:
            break
    return out


def _level(line: str) -> str | None:
    """The level word of a stamped line; None for a continuation line."""
    parts = line.split(" ", 2)
    if len(parts) >= 2 and len(parts[0]) >= 19 and parts[0][4:5] == "-" and "T" in parts[0]:
        return parts[1]
    return None


def _lines(path: Path) -> Iterator[str]:
    try:
        with path.open("rb") as handle:
            for raw in handle:
                yield _decode(raw).rstrip("\r\n")
    except FileNotFoundError:
        return


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")
