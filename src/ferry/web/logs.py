"""Attempt logs as the job page needs them: the tail, lines since an offset, a search, the first errors.

Everything is read through the logs service (`ferry.control.services.logs.read_page`), which checks
who may read the job, keeps to the server's log folder and masks secrets, a page of bytes at a time,
so a huge log never fills memory or the page. Log lines look like `2024-05-01T10:00:00 ERROR text`;
a message may run over several lines, and only its first line has the time stamp.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ferry.control.services import logs as log_service
from ferry.control.services.context import Control, Principal

TAIL_LINES = 2000
TAIL_BYTES = 512 * 1024
LIVE_BYTES = 256 * 1024
SEARCH_LIMIT = 1000
_END = 2**62
_ERROR_LEVELS = ("ERROR", "FATAL")


@dataclass(frozen=True, slots=True)
class Chunk:
    """Lines of a log, and the byte offset to read on from."""

    lines: list[str] = field(default_factory=list)
    offset: int = 0
    skipped: bool = False
    """True when earlier lines exist that are not in `lines`."""


@dataclass(frozen=True, slots=True)
class Log:
    """One attempt's log, read as `who`."""

    ctx: Control
    who: Principal
    job_id: int
    attempt: int

    def _page(self, offset: int, limit: int) -> log_service.LogPage:
        return log_service.read_page(
            self.ctx, self.who, self.job_id, attempt_number=self.attempt, offset=offset, limit=limit
        )

    def size(self) -> int:
        return self._page(_END, 1).size

    def tail(self, max_lines: int = TAIL_LINES, max_bytes: int = TAIL_BYTES) -> Chunk:
        start = max(self.size() - max_bytes, 0)
        page = self._page(start, max_bytes)
        lines = page.lines[1:] if start > 0 and page.lines else page.lines  # the first was likely cut
        return Chunk(lines[-max_lines:], page.next_offset, start > 0 or len(lines) > max_lines)

    def since(self, offset: int, max_bytes: int = LIVE_BYTES) -> Chunk:
        page = self._page(offset, max_bytes)
        return Chunk(page.lines, page.next_offset)

    def pages(self) -> Iterator[list[str]]:
        """The whole log as it is now, a page of lines at a time."""
        offset = 0
        while True:
            page = self._page(offset, log_service.MAX_PAGE_BYTES)
            if page.lines:
                yield page.lines
            if page.complete or page.next_offset <= offset:
                return
            offset = page.next_offset

    def lines(self) -> Iterator[str]:
        for page in self.pages():
            yield from page

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[tuple[int, str]]:
        """(line number, line) of the lines containing `query`, ignoring case."""
        needle = query.lower()
        found = []
        for number, line in enumerate(self.lines(), start=1):
            if needle in line.lower():
                found.append((number, line))
                if len(found) >= limit:
                    break
        return found

    def first_errors(self, limit: int = 12) -> list[str]:
        """The first error messages, with the lines that continue them."""
        out: list[str] = []
        inside = False
        for line in self.lines():
            level = level_of(line)
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

    def download(self) -> Iterator[bytes]:
        for page in self.pages():
            yield ("\n".join(page) + "\n").encode()


def level_of(line: str) -> str | None:
    """The level word of a stamped line; None for a line that continues the one before."""
    parts = line.split(" ", 2)
    if len(parts) >= 2 and len(parts[0]) >= 19 and parts[0][4:5] == "-" and "T" in parts[0]:
        return parts[1]
    return None
