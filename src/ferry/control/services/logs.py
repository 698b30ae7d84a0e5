"""Attempt logs (FERRY_HOME/logs/<job>/attempt-<n>.log), read a page at a time, and their copy in the store.

A page is at most `limit` bytes from a byte `offset`, cut at the last line end so that no line is
split between pages (a single line longer than a page comes in pieces). Logs are never read whole.
Lines are masked again on the way out with the connection's current secrets, in case a secret
reached the log before the attempt knew it.

A worker on another machine writes its log file on its own disk, so when an attempt ends its log
(already masked) is copied into the store in pieces: the API reads the file when it is on this
machine (a running attempt's live log) and the stored copy otherwise, with the same paging. The copy
keeps at most the log's last STORED_MAX_BYTES, after a line saying how much was cut, so that a
runaway connector cannot fill the store.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, insert, select

from ferry.cdk.secrets import Masker
from ferry.control.errors import NotFoundError
from ferry.control.services import jobs
from ferry.control.services.context import Control, Principal
from ferry.control.store.models import Attempt, AttemptLog, Connection, Destination, Source
from ferry.protocol import Level

DEFAULT_PAGE_BYTES = 64 * 1024
MAX_PAGE_BYTES = 1024 * 1024
TAIL_BYTES = 256 * 1024
TAIL_LINES = 1000
STORED_CHUNK_BYTES = 256 * 1024
STORED_MAX_BYTES = 16 * 1024 * 1024

_AttemptRow = tuple[int, int, str | None]  # id, number, log_path


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
        attempts: list[_AttemptRow] = [
            (row.id, row.number, row.log_path)
            for row in session.execute(
                select(Attempt.id, Attempt.number, Attempt.log_path)
                .where(Attempt.job_id == job_id)
                .order_by(Attempt.number)
            )
        ]
        connection = session.get(Connection, job.connection_id)
    if not attempts:
        if attempt_number is not None:
            raise NotFoundError(f"attempt {attempt_number} of job", job_id, field="attemptNumber")
        return LogPage(job_id, 0, 0, offset, offset, 0)
    attempt_id, number, log_path = (
        attempts[-1] if attempt_number is None else _find(attempts, job_id, attempt_number)
    )
    size, _, data = _read(ctx, attempt_id, log_path, offset, min(max(limit, 1), MAX_PAGE_BYTES))
    if offset + len(data) < size:
        cut = data.rfind(b"\n")
        if cut >= 0:
            data = data[: cut + 1]
    mask = _masker(ctx, connection)
    lines = [mask(line) for line in data.decode("utf-8", errors="replace").splitlines()]
    return LogPage(job_id, number, len(attempts), offset, offset + len(data), size, lines)


def _find(attempts: list[_AttemptRow], job_id: int, number: int) -> _AttemptRow:
    for row in attempts:
        if row[1] == number:
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


def _read(
    ctx: Control, attempt_id: int, log_path: str | None, start: int | None, limit: int
) -> tuple[int, int, bytes]:
    """(the log's size, where the bytes start, at most `limit` bytes from `start`, or its last `limit`
    bytes when `start` is None): from the file on this machine, else from the store's copy."""
    path = _safe_path(ctx, log_path)
    if path is None:
        return _read_stored(ctx, attempt_id, start, limit)
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        begin = max(size - limit, 0) if start is None else start
        if begin >= size:
            return size, begin, b""
        handle.seek(begin)
        return size, begin, handle.read(limit)


def _read_stored(ctx: Control, attempt_id: int, start: int | None, limit: int) -> tuple[int, int, bytes]:
    """As `_read`, from the stored pieces (empty when there are none): only the pieces the range meets."""
    of_attempt = AttemptLog.attempt_id == attempt_id
    with ctx.store.read() as session:
        lengths = session.execute(
            select(AttemptLog.chunk, func.length(AttemptLog.data))
            .where(of_attempt)
            .order_by(AttemptLog.chunk)
        ).all()
        size = sum(int(length) for _, length in lengths)
        begin = max(size - limit, 0) if start is None else start
        end = min(begin + limit, size)
        wanted: list[int] = []
        first = at = 0
        for chunk, length in lengths:
            if at < end and at + length > begin:
                first = first if wanted else at
                wanted.append(chunk)
            at += length
        if not wanted:
            return size, begin, b""
        pieces = session.scalars(
            select(AttemptLog.data).where(of_attempt, AttemptLog.chunk.in_(wanted)).order_by(AttemptLog.chunk)
        )
        data = b"".join(pieces)
    return size, begin, data[begin - first : end - first]


def tails(ctx: Control, view: jobs.JobView) -> dict[int, list[str]]:
    """The end of each attempt's log (masked), by attempt id: what the config API's jobs/get shows."""
    if not view.attempts:
        return {}
    with ctx.store.read() as session:
        mask = _masker(ctx, session.get(Connection, view.job.connection_id))
    return {a.id: [mask(line) for line in _tail(ctx, a.id, a.log_path)] for a in view.attempts}


def _tail(
    ctx: Control, attempt_id: int, log_path: str | None, lines: int = TAIL_LINES, limit: int = TAIL_BYTES
) -> list[str]:
    """The last lines of a log (at most `lines`, from at most its last `limit` bytes)."""
    _, start, data = _read(ctx, attempt_id, log_path, None, limit)
    text = data.decode("utf-8", errors="replace").splitlines()
    if start > 0 and text:
        text = text[1:]  # the first line was cut
    return text[-lines:]


def store_copy(ctx: Control, attempt_id: int, path: Path) -> int:
    """Copies a finished attempt's log file into the store, replacing an earlier copy: all of it, or its
    last STORED_MAX_BYTES after a line saying how much was cut. Returns the number of bytes stored."""
    stored = 0
    with path.open("rb") as handle, ctx.store.write() as session:
        session.execute(delete(AttemptLog).where(AttemptLog.attempt_id == attempt_id))
        for chunk, data in enumerate(_pieces(handle)):
            # Core inserts: no ORM object keeps a piece in memory after it is sent.
            session.execute(insert(AttemptLog).values(attempt_id=attempt_id, chunk=chunk, data=data))
            stored += len(data)
    return stored


def _pieces(
    handle: BinaryIO, keep: int = STORED_MAX_BYTES, size: int = STORED_CHUNK_BYTES
) -> Iterator[bytes]:
    """The log's stored form in pieces of `size` bytes (the last one shorter), read a piece at a time."""
    total = os.fstat(handle.fileno()).st_size
    buffer = b""
    if total > keep:
        handle.seek(total - keep)
        partial = handle.readline(keep)  # the kept tail starts with the next whole line, if there is one
        if not partial.endswith(b"\n") or handle.tell() >= total:
            handle.seek(total - keep)
        buffer = _cut_note(handle.tell(), keep)
    remaining = total - handle.tell()  # the file ends where it ended when the copy began
    while remaining > 0 and (data := handle.read(min(size, remaining))):
        remaining -= len(data)
        buffer += data
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


def _cut_note(cut: int, keep: int) -> bytes:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    note = f"the first {cut} bytes of this log were cut: the store keeps at most its last {keep} bytes"
    return f"{stamp} {Level.WARN.value} {note}\n".encode()


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
