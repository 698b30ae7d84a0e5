"""The local-files Writer: one StreamFiles per configured stream, driven by the kit's write loop."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from ferry.cdk.batching import RecordBatch
from ferry.cdk.destination import Writer
from ferry.connectors.destinations.local_files.columns import split_batch
from ferry.connectors.destinations.local_files.config import FilesConfig, parse_config
from ferry.connectors.destinations.local_files.durable import make_dirs
from ferry.connectors.destinations.local_files.plan import StreamPlan
from ferry.connectors.destinations.local_files.stream_files import StreamFiles
from ferry.errors import ConfigError, InternalError
from ferry.protocol import ConfiguredCatalog, StreamDescriptor

logger = logging.getLogger(__name__)


def prepare_base(settings: FilesConfig) -> None:
    """Create the base directory; ConfigError names it when that is impossible."""
    try:
        make_dirs(settings.base.absolute())
    except OSError as exc:
        raise ConfigError(
            f"cannot create the directory {settings.base}: {exc.strerror or exc}",
            hint="Choose a path Ferry may create and write, or fix its permissions.",
            field="path",
        ) from None


def check_distinct_paths(streams: list[StreamFiles]) -> None:
    """Two streams must never render the same file name: their files would mix in one place."""
    seen: dict[str, StreamDescriptor] = {}
    for files in streams:
        path = files.render(0)
        other = seen.setdefault(path, files.plan.descriptor)
        if other != files.plan.descriptor:
            raise ConfigError(
                f"streams '{other}' and '{files.plan.descriptor}' would write the same file '{path}'",
                hint="Put {stream} (and {namespace} when names repeat across namespaces) in path_pattern.",
                field="path_pattern",
            )


class LocalFilesWriter(Writer):
    def __init__(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        super().__init__(config, catalog)
        self.settings = parse_config(config)
        run_token = uuid.uuid4().hex
        plans = [StreamPlan.of(s, run_token) for s in catalog.streams]
        self.streams = {plan.descriptor: StreamFiles(self.settings, plan) for plan in plans}

    def open(self) -> None:
        prepare_base(self.settings)
        check_distinct_paths(list(self.streams.values()))
        for files in self.streams.values():
            files.open()

    def _files(self, stream: StreamDescriptor) -> StreamFiles:
        files = self.streams.get(stream)
        if files is None:
            raise InternalError(f"local-files got records of stream '{stream}', which is not in the catalog")
        return files

    def write(self, batch: RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        files = self._files(batch.stream)
        plan = files.plan
        files.write(split_batch(batch, plan.sync_id, plan.row_generation))

    def commit(self) -> None:
        for files in self.streams.values():
            files.commit()

    def complete(self, stream: StreamDescriptor) -> None:
        self._files(stream).complete()

    def close(self) -> None:
        for files in self.streams.values():
            try:
                files.abort()
            except Exception:  # one stream's cleanup failing must not stop the others' nor hide the cause
                logger.warning("could not clean up stream %s", files.plan.descriptor, exc_info=True)
