"""`local-files`: writes each stream as parquet, csv or jsonl files under a base directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from ferry.cdk.destination import Destination
from ferry.connectors.destinations.local_files.config import SPEC, parse_config
from ferry.connectors.destinations.local_files.durable import remove_quietly, temp_name
from ferry.connectors.destinations.local_files.writer import LocalFilesWriter, prepare_base
from ferry.errors import ConfigError
from ferry.protocol import ConfiguredCatalog, ConnectorSpecification, DestinationSyncMode


class LocalFilesDestination(Destination):
    name = "local-files"
    supported_sync_modes: ClassVar[tuple[DestinationSyncMode, ...]] = (
        DestinationSyncMode.append,
        DestinationSyncMode.overwrite,
    )

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=SPEC,
            documentation_url=self.documentation_url,
            supports_incremental=True,
            supported_destination_sync_modes=list(self.supported_sync_modes),
        )

    def check(self, config: Mapping[str, Any]) -> None:
        """The base directory can be created and a file in it written, synced and removed."""
        settings = parse_config(config)
        prepare_base(settings)
        probe = temp_name(settings.base.absolute())
        try:
            with open(probe, "wb") as handle:
                handle.write(b"ferry check\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ConfigError(
                f"cannot write files in {settings.base}: {exc.strerror or exc}",
                hint="Give the user running Ferry write permission there, or choose another path.",
                field="path",
            ) from None
        finally:
            remove_quietly(probe)

    def writer(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> LocalFilesWriter:
        return LocalFilesWriter(config, catalog)
