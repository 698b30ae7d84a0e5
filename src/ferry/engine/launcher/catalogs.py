"""The catalog an external connector gets: only sync modes the Airbyte protocol knows (airbyte-compat 1.12).

`overwrite_dedup` exists in Ferry (and Airbyte's platform) but not in the protocol, and older
connectors reject `update` and `soft_delete`; they are rewritten before a catalog leaves Ferry.
"""

from __future__ import annotations

import dataclasses

from ferry.protocol import ConfiguredCatalog, DestinationSyncMode

_SOURCE_MODES = {
    DestinationSyncMode.update: DestinationSyncMode.append,
    DestinationSyncMode.soft_delete: DestinationSyncMode.append,
    DestinationSyncMode.overwrite_dedup: DestinationSyncMode.overwrite,
}
_WITH_REFRESHES = {
    # The truncate is carried by generation ids (minimum_generation_id), as Airbyte does.
    DestinationSyncMode.overwrite: DestinationSyncMode.append,
    DestinationSyncMode.overwrite_dedup: DestinationSyncMode.append_dedup,
}
_WITHOUT_REFRESHES = {DestinationSyncMode.overwrite_dedup: DestinationSyncMode.overwrite}


def _mapped(
    catalog: ConfiguredCatalog, modes: dict[DestinationSyncMode, DestinationSyncMode]
) -> ConfiguredCatalog:
    streams = [
        dataclasses.replace(
            s, destination_sync_mode=modes.get(s.destination_sync_mode, s.destination_sync_mode)
        )
        for s in catalog.streams
    ]
    return dataclasses.replace(catalog, streams=streams)


def for_source(catalog: ConfiguredCatalog) -> ConfiguredCatalog:
    return _mapped(catalog, _SOURCE_MODES)


def for_destination(catalog: ConfiguredCatalog, supports_refreshes: bool) -> ConfiguredCatalog:
    return _mapped(catalog, _WITH_REFRESHES if supports_refreshes else _WITHOUT_REFRESHES)


def destination_modes(
    declared: list[DestinationSyncMode] | None, supports_refreshes: bool
) -> list[DestinationSyncMode]:
    """The modes a user may choose for an external destination: those its spec declares (Airbyte's usual
    three when it declares none), plus overwrite_dedup only where refreshes make it possible."""
    modes = list(
        declared
        or (DestinationSyncMode.append, DestinationSyncMode.overwrite, DestinationSyncMode.append_dedup)
    )
    modes = [m for m in modes if m is not DestinationSyncMode.overwrite_dedup]
    if supports_refreshes and {DestinationSyncMode.overwrite, DestinationSyncMode.append_dedup} <= set(modes):
        modes.append(DestinationSyncMode.overwrite_dedup)
    return modes
