"""One stream of the file source: every file its path matches, read incrementally by last-modified time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ferry.cdk.source import Checkpoint, ReadContext, Stream, StreamItem
from ferry.connectors.sources.file.config import StreamConfig
from ferry.connectors.sources.file.conform import Plan
from ferry.connectors.sources.file.discovery import infer_schema, read_file
from ferry.connectors.sources.file.files import list_files, open_file
from ferry.connectors.sources.file.names import FILE_MODIFIED_COLUMN
from ferry.connectors.sources.file.state import files_read, is_new, state_of

_LOGGER = logging.getLogger("ferry.source.file")
# A read samples the files again for the schema discover already showed; its warnings would only repeat.
_RESAMPLE_LOGGER = logging.getLogger("ferry.source.file.resample")
_RESAMPLE_LOGGER.setLevel(logging.ERROR)


class FileStream(Stream):
    """All files matching one path, as one stream; the cursor is each file's last-modified time."""

    cursor_field = [FILE_MODIFIED_COLUMN]
    source_defined_cursor = True

    def __init__(self, cfg: StreamConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.primary_key = [[column] for column in cfg.primary_key] or None
        self._schema: dict[str, Any] | None = None

    def json_schema(self) -> dict[str, Any]:
        return self._infer(_LOGGER)

    def _infer(self, logger: logging.Logger) -> dict[str, Any]:
        if self._schema is None:
            self._schema = infer_schema(self.cfg, list_files(self.cfg), logger)
        return self._schema

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        """Full refresh reads every file; incremental reads files new or modified since the state.

        A checkpoint follows each file, so a failed sync resumes at the first file not yet committed.
        """
        plan = Plan.of(self._infer(_RESAMPLE_LOGGER))
        read_before = files_read(ctx.state, ctx.logger) if ctx.incremental else {}
        done = dict(read_before)
        files_done = 0
        for ref in list_files(self.cfg):
            known = ref.last_modified
            if ctx.incremental and known is not None and not is_new(read_before, ref.url, known):
                continue
            with open_file(ref, self.cfg, ctx.logger) as file:
                # An HTTP file's time is known only once the response arrives.
                if ctx.incremental and not is_new(read_before, file.url, file.last_modified):
                    continue
                yield from read_file(file, plan)
                done[file.url] = file.last_modified
            files_done += 1
            yield Checkpoint(state_of(done))
        if not files_done:
            # Nothing new: the stream still ends on a state (the one it was given), with zero records.
            yield Checkpoint(state_of(done))
