"""Per-stream manifest: the committed files Ferry wrote, their generation, and the live temp files.

It lives at `<base>/.ferry/streams/<key>/manifest.json` and is always replaced atomically.
Ferry only ever deletes files listed here, so data it did not write is never touched.

Order of operations keeps it honest across crashes:
- commit: the new files are listed first, then renamed into place; an entry whose file never
  appeared (a crash between the two) is dropped at the next open, and its records are re-sent
  because their state was never acknowledged;
- overwrite: old files are deleted first, then unlisted; a crash between leaves entries whose
  files are gone, dropped at the next open the same way;
- temp files are listed as `pending` before they are created, so the next open can remove them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ferry.connectors.destinations.local_files.durable import write_atomic
from ferry.errors import ConfigError

VERSION = 1


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    """Relative to the base directory, with '/' separators."""
    lineage: str
    """Which writes this file belongs to: the generation, else the sync, else one run (see StreamPlan)."""
    generation: int | None
    sync_id: int | None
    rows: int

    def to_json(self) -> dict[str, Any]:
        # Spelled out rather than dataclasses.asdict, which deep-copies and dominates saving a long list.
        return {
            "path": self.path,
            "lineage": self.lineage,
            "generation": self.generation,
            "sync_id": self.sync_id,
            "rows": self.rows,
        }


@dataclass(slots=True)
class Manifest:
    location: Path
    stream: dict[str, str | None]
    files: list[FileEntry] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, location: Path, stream: dict[str, str | None]) -> Manifest:
        try:
            raw = orjson.loads(location.read_bytes())
        except FileNotFoundError:
            return cls(location, stream)
        except orjson.JSONDecodeError as exc:
            raise _unreadable(location, str(exc)) from None
        try:
            if raw.get("version") != VERSION:
                raise _unreadable(location, f"unknown version {raw.get('version')!r}")
            files = [FileEntry(**entry) for entry in raw["files"]]
            return cls(location, stream, files, [str(p) for p in raw.get("pending", [])])
        except (AttributeError, KeyError, TypeError) as exc:
            raise _unreadable(location, f"unexpected content ({exc})") from None

    def save(self) -> None:
        body: dict[str, Any] = {
            "version": VERSION,
            "stream": self.stream,
            "files": [f.to_json() for f in self.files],
            "pending": self.pending,
        }
        write_atomic(self.location, orjson.dumps(body, option=orjson.OPT_INDENT_2))

    @property
    def paths(self) -> set[str]:
        return {f.path for f in self.files}


def _unreadable(location: Path, why: str) -> ConfigError:
    return ConfigError(
        f"the local-files manifest {location} cannot be read: {why}",
        hint="Restore it from a backup, or delete it: Ferry then forgets which files it wrote and an "
        "overwrite will not remove them.",
    )
