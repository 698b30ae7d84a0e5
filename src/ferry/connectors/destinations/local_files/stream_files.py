"""The files of one stream during a sync: parts under temp names, rolled by size, renamed in at commit.

A part is closed, synced and renamed to its final name only at commit; until then readers cannot
see it. Part numbers skip every name that exists or that the manifest lists, so a resumed attempt
never overwrites a file an earlier attempt committed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ferry.connectors.destinations.local_files.columns import Rows
from ferry.connectors.destinations.local_files.config import FileFormat, FilesConfig
from ferry.connectors.destinations.local_files.durable import (
    StreamLock,
    fsync_dirs,
    make_dirs,
    prune_empty_dirs,
    remove_quietly,
    temp_name,
)
from ferry.connectors.destinations.local_files.encoders import csv_table, jsonl_lines, parquet_table
from ferry.connectors.destinations.local_files.manifest import FileEntry, Manifest
from ferry.connectors.destinations.local_files.parts import (
    PartFile,
    Payload,
    open_part,
    payload_rows,
    payload_slice,
)
from ferry.connectors.destinations.local_files.paths import (
    METADATA_DIR,
    namespace_segment,
    part_label,
    safe_segment,
)
from ferry.connectors.destinations.local_files.plan import StreamPlan
from ferry.errors import InternalError

logger = logging.getLogger(__name__)

_ENCODERS: dict[FileFormat, Callable[[Rows], Payload]] = {
    FileFormat.PARQUET: parquet_table,
    FileFormat.CSV: csv_table,
    FileFormat.JSONL: jsonl_lines,
}


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class StreamFiles:
    def __init__(
        self, config: FilesConfig, plan: StreamPlan, today: Callable[[], dt.date] = utc_today
    ) -> None:
        self.config = config
        self.plan = plan
        self.base = config.base.absolute()
        self._today = today
        home = self.base / METADATA_DIR / "streams" / plan.key
        descriptor = {"name": plan.descriptor.name, "namespace": plan.descriptor.namespace}
        self.manifest = Manifest(home / "manifest.json", descriptor)
        self._lock = StreamLock(home / "lock", str(plan.descriptor))
        self._encode = _ENCODERS[config.format]
        self._current: PartFile | None = None
        self._finished: list[PartFile] = []
        self._next_part = 0

    # --- paths ---------------------------------------------------------------------------

    def render(self, part: int) -> str:
        values = {
            "namespace": namespace_segment(self.plan.descriptor.namespace),
            "stream": safe_segment(self.plan.descriptor.name),
            "sync_id": str(self.plan.sync_id or 0),
            "generation": str(self.plan.row_generation),
            "date": self._today().isoformat(),
            "ext": self.config.extension,
            "part": part_label(part),
        }
        return self.config.pattern.render(values)

    def _inside(self, relative: str) -> Path:
        """The absolute path of a manifest entry, refusing one that would point outside the base."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            raise InternalError(
                f"manifest {self.manifest.location} lists a path outside the base: {relative!r}"
            )
        return self.base.joinpath(*pure.parts)

    def _claimed(self) -> set[str]:
        claimed = self.manifest.paths | {p.final for p in self._finished}
        if self._current is not None:
            claimed.add(self._current.final)
        return claimed

    def _next_final(self) -> str:
        claimed = self._claimed()
        while True:
            relative = self.render(self._next_part)
            self._next_part += 1
            if relative not in claimed and not self._inside(relative).exists():
                return relative

    # --- lifecycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Lock the stream, remove temp files a crashed run left, forget entries whose files are gone."""
        self._lock.acquire()
        self.manifest = Manifest.load(self.manifest.location, self.manifest.stream)
        for leftover in self.manifest.location.parent.glob(f"{self.manifest.location.name}.*.tmp"):
            remove_quietly(leftover)
        kept = [e for e in self.manifest.files if self._inside(e.path).exists()]
        if self.manifest.pending or len(kept) != len(self.manifest.files):
            for relative in self.manifest.pending:
                remove_quietly(self._inside(relative))
            self.manifest.files, self.manifest.pending = kept, []
            self.manifest.save()

    def write(self, rows: Rows) -> None:
        payload = self._encode(rows)
        total = payload_rows(payload)
        offset = 0
        while offset < total:
            part = self._current if self._current is not None and self._current.fits(payload) else None
            if part is None:
                part = self._start(payload)
            take = min(self.config.max_rows_per_file - part.rows, total - offset)
            part.write(payload_slice(payload, offset, take))
            offset += take
            if part.rows >= self.config.max_rows_per_file or part.nbytes >= self.config.max_bytes_per_file:
                self._finish_current()

    def _start(self, payload: Payload) -> PartFile:
        self._finish_current()
        final = self._next_final()
        directory = self._inside(final).parent
        temp = temp_name(directory)
        # Listed before it exists, so that a crash at any point leaves a temp file the next open finds.
        self.manifest.pending.append(temp.relative_to(self.base).as_posix())
        self.manifest.save()
        make_dirs(directory)
        self._current = open_part(self.config.format, self.config.compression, temp, final, payload)
        return self._current

    def _finish_current(self) -> None:
        part, self._current = self._current, None
        if part is None:
            return
        if part.rows == 0:
            part.discard()
            return
        part.finish()
        self._finished.append(part)

    def commit(self) -> None:
        """Make every part written so far visible under its final name, durably."""
        self._finish_current()
        if not self._finished:
            return
        parts, self._finished = self._finished, []
        plan = self.plan
        entries = [FileEntry(p.final, plan.lineage, plan.generation_id, plan.sync_id, p.rows) for p in parts]
        self.manifest.files.extend(entries)
        # The temps stay listed as pending on disk: a crash before the renames must still find them.
        self.manifest.save()
        for part in parts:
            os.replace(part.temp, self._inside(part.final))
        fsync_dirs(p.temp.parent for p in parts)
        temps = {p.temp.relative_to(self.base).as_posix() for p in parts}
        self.manifest.pending = [t for t in self.manifest.pending if t not in temps]

    def complete(self) -> None:
        """The stream ended well: an overwrite now deletes the files its new generation replaces."""
        self.commit()
        if not self.plan.truncates:
            return
        stale = [e for e in self.manifest.files if self.plan.is_stale(e)]
        if not stale:
            return
        paths = [self._inside(e.path) for e in stale]
        for path in paths:
            remove_quietly(path)  # files first, entries after: a crash between leaves entries open() drops
        fsync_dirs(p.parent for p in paths if p.parent.exists())
        self.manifest.files = [e for e in self.manifest.files if not self.plan.is_stale(e)]
        self.manifest.save()
        for directory in {p.parent for p in paths}:
            prune_empty_dirs(directory, self.base)
        logger.info("stream %s: replaced %d file(s) of older generations", self.plan.descriptor, len(stale))

    def abort(self) -> None:
        """Discard every uncommitted part and release the stream."""
        try:
            parts = [p for p in [self._current, *self._finished] if p is not None]
            self._current, self._finished = None, []
            temps: set[str] = set()
            for part in parts:
                try:
                    part.discard()
                    temps.add(part.temp.relative_to(self.base).as_posix())
                except Exception:  # cleanup after a failure must not hide it; open() retries the removal
                    logger.warning("could not remove the temp file %s", part.temp, exc_info=True)
            if temps:
                self.manifest.pending = [t for t in self.manifest.pending if t not in temps]
                self.manifest.save()
        finally:
            self._lock.release()
