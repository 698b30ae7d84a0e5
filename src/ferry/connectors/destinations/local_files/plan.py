"""What one configured stream asks of the files: ids to stamp on rows, and which old files an end replaces.

Generations (Airbyte refreshes): every row carries `_airbyte_generation_id` and the sync id. When a
stream completes, an overwrite keeps only the files of its own *lineage* and deletes the rest; an
append with `minimum_generation_id > 0` (a truncate refresh) deletes files of older generations.

The lineage is the generation id when the catalog gives one, so a retried attempt of the same
generation keeps the parts its earlier attempts committed. Without a generation it is the sync id,
and without either it is this run alone (nothing can be resumed then, and an overwrite replaces
everything written before).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from ferry.connectors.destinations.local_files.manifest import FileEntry
from ferry.protocol import ConfiguredStream, DestinationSyncMode, StreamDescriptor


@dataclass(frozen=True, slots=True)
class StreamPlan:
    descriptor: StreamDescriptor
    mode: DestinationSyncMode
    sync_id: int | None
    generation_id: int | None
    minimum_generation_id: int | None
    lineage: str

    @classmethod
    def of(cls, configured: ConfiguredStream, run_token: str | None = None) -> StreamPlan:
        if configured.generation_id is not None:
            lineage = f"generation:{configured.generation_id}"
        elif configured.sync_id is not None:
            lineage = f"sync:{configured.sync_id}"
        else:
            lineage = f"run:{run_token or uuid.uuid4().hex}"
        return cls(
            configured.descriptor,
            configured.destination_sync_mode,
            configured.sync_id,
            configured.generation_id,
            configured.minimum_generation_id,
            lineage,
        )

    @property
    def row_generation(self) -> int:
        """`_airbyte_generation_id` for new rows: the generation, or 0 when the catalog has none."""
        return self.generation_id or 0

    @property
    def truncates(self) -> bool:
        return self.mode is DestinationSyncMode.overwrite or bool(self.minimum_generation_id)

    def is_stale(self, entry: FileEntry) -> bool:
        """True for a file that completing this stream replaces."""
        if self.mode is DestinationSyncMode.overwrite:
            return entry.lineage != self.lineage
        if self.minimum_generation_id:
            return entry.generation is None or entry.generation < self.minimum_generation_id
        return False

    @property
    def key(self) -> str:
        """A short stable id for the stream, used to name its bookkeeping files."""
        raw = f"{self.descriptor.namespace or ''}\0{self.descriptor.name}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(raw).hexdigest()[:24]
