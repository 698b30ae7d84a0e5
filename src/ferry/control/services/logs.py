"""Attempt logs on disk (FERRY_HOME/logs/<job>/attempt-<n>.log), read a page at a time.

A page is at most `limit` bytes from a byte `offset`, cut at the last line end so that no line is
split between pages (a single line longer than a page comes in pieces). Files are never read whole.
Lines are masked again on the way out with the connection's current secrets, in case a secret
reached the log before the attempt knew it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ferry.cdk.secrets import Masker
from ferry.control.errors import NotFoundError
from ferry.control.services import jobs
from ferry.control.services.context import Control, Principal
from ferry.control.store.models import Attempt, Connection, Destination, Source

DEFAULT_PAGE_BYTES = 64 * 1024
MAX_PAGE_BYTES = 1024 * 1024
TAIL_BYTES = 256 * 1024
TAIL_LINES = 1000


@dataclass(frozen=True, slots=True)
class LogPage:
    job_id: int
    attempt_number: int
    attempts: int
    offset: int
    next_offset: int
    size: int
    lines: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when this page reaches the end of the log as it is now (a running attempt adds more)."""
        return self.next_offset >= self.size


def read_page(
    ctx: Control,
    who: Principal,
    job_id: int,
    *,
    attempt_number: int | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE_BYTES,
) -> LogPage:
    """A page of an attempt's log (the latest attempt by default); 404 for a job or attempt not found."""
    with ctx.store.read() as session:
        job = jobs.load(session, who, job_id)
        attempts: list[tuple[int, str | None]] = list(
            session.execute(
                select(Attempt.number, Attempt.log_path)
                .where(Attempt.job_id == job_id)
                .order_by(Attempt.number)
            )
        )
        connection = session.get(Connection, job.connection_id)
    if not attempts:
        if attempt_number is not None:
            raise NotFoundError(f"attempt {attempt_number} of job", job_id, field="attemptNumber")
        return LogPage(job_id, 0, 0, offset, offset, 0)
    number, log_path = attempts[-1] if attempt_number is None else _find(attempts, job_id, attempt_number)
    size, data = _read(_safe_path(ctx, log_path), offset, min(max(limit, 1), MAX_PAGE_BYTES))
    mask = _masker(ctx, connection)
    lines = [mask(line) for line in data.decode("utf-8", errors="replace").splitlines()]
    return LogPage(job_id, number, len(attempts), offset, offset + len(data), size, lines)


def _find(attempts: list[tuple[int, str | None]], job_id: int, number: int) -> tuple[int, str | None]:
    for row in attempts:
        if row[0] == number:
            return row
    raise NotFoundError(f"attempt {number} of job", job_id, field="attemptNumber")


def _safe_path(ctx: Control, log_path: str | None) -> Path | None:
    """The log file when it lies inside this server's log folder (a path in the store is not trusted
    to name any other file); None when it does not, or when another machine's worker wrote it."""
    if not log_path:
        return None
    root = ctx.settings.logs_dir.resolve()
    path = Path(log_path).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def _read(path: Path | None, offset: int, limit: int) -> tuple[int, bytes]:
    """(file size, the bytes of the page from `offset`, cut after its last complete line)."""
    if path is None:
        return 0, b""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if offset >= size:
            return size, b""
        handle.seek(offset)
        data = handle.read(limit)
    if offset + len(data) < size:
        cut = data.rfind(b"\n")
        if cut >= 0:
            data = data[: cut + 1]
    return size, data


def tails(ctx: Control, view: jobs.JobView) -> dict[int, list[str]]:
    """The end of each attempt's log (masked), by attempt id: what the config API's jobs/get shows."""
    if not view.attempts:
        return {}
    with ctx.store.read() as session:
        mask = _masker(ctx, session.get(Connection, view.job.connection_id))
    return {a.id: [mask(line) for line in _tail(_safe_path(ctx, a.log_path))] for a in view.attempts}


def _tail(path: Path | None, lines: int = TAIL_LINES, limit: int = TAIL_BYTES) -> list[str]:
    """The last lines of a log (at most `lines`, from at most its last `limit` bytes)."""
    if path is None:
        return []
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        start = max(size - limit, 0)
        handle.seek(start)
        data = handle.read(limit)
    text = data.decode("utf-8", errors="replace").splitlines()
    if start > 0 and text:
        text = text[1:]  # the first line was cut
    return text[-lines:]


def _masker(ctx: Control, connection: Connection | None) -> Masker:
    if connection is None:
        return Masker()
    found: set[str] = set()
    with ctx.store.read() as session:
        # Read directly, not through the actors service: a deleted source's secrets are still secret.
        for row in (
            session.get(Source, connection.source_id),
            session.get(Destination, connection.destination_id),
        ):
            if row is not None:
                found |= {str(s) for s in ctx.box.secrets(row.configuration)}
    return Masker(found)
