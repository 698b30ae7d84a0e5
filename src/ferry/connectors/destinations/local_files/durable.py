"""Durable file operations: fsync a file or directory, atomic replace, atomic small writes, a stream lock.

A rename is only durable once the directory holding it has been synced, so every helper that
creates or renames a name syncs the parent directory as well.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from ferry.errors import TransientError

TEMP_PREFIX = ".ferry-part-"
TEMP_SUFFIX = ".tmp"


def temp_name(directory: Path) -> Path:
    """A fresh temporary file name in `directory`, hidden from readers that skip dot files."""
    return directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}{TEMP_SUFFIX}"


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dirs(directories: Iterable[Path]) -> None:
    for directory in set(directories):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def make_dirs(directory: Path) -> None:
    """Create `directory` and make its creation durable (its parent's entry is synced too)."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    directory.mkdir(parents=True, exist_ok=True)
    fsync_dirs(p.parent for p in missing)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` by `data` so that a crash leaves either the old or the new content."""
    make_dirs(path.parent)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dirs([path.parent])


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def prune_empty_dirs(start: Path, stop: Path) -> None:
    """Remove `start` and its parents while they are empty, never `stop` or anything above it."""
    current = start
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): stop climbing
        current = current.parent


class StreamLock:
    """An exclusive advisory lock on one stream's files; the OS drops it when the process dies."""

    def __init__(self, path: Path, stream: str) -> None:
        self.path = path
        self.stream = stream
        self._fd: int | None = None

    def acquire(self) -> None:
        make_dirs(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise TransientError(
                f"another sync is writing stream '{self.stream}' under this path",
                hint="Wait for it to finish, or give the two connections different paths.",
                stream=self.stream,
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
