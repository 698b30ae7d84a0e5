"""From a discovered catalog and the user's stream choices to a validated configured catalog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ferry.errors import ConfigError
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConfiguredStream,
    DestinationSyncMode,
    Stream,
    StreamDescriptor,
    SyncMode,
)

DEDUP_MODES = (DestinationSyncMode.append_dedup, DestinationSyncMode.overwrite_dedup)
VALID_COMBINATIONS = {
    SyncMode.full_refresh: (
        DestinationSyncMode.overwrite,
        DestinationSyncMode.append,
        DestinationSyncMode.overwrite_dedup,
    ),
    SyncMode.incremental: (DestinationSyncMode.append, DestinationSyncMode.append_dedup),
}


@dataclass(slots=True)
class StreamSelection:
    """One stream as the user configured it; unset fields take the best mode the stream supports."""

    name: str
    namespace: str | None = None
    sync_mode: SyncMode | None = None
    destination_sync_mode: DestinationSyncMode | None = None
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None


def configure_catalog(
    discovered: Catalog,
    selections: Sequence[StreamSelection] | None,
    destination_modes: Sequence[DestinationSyncMode] = tuple(DestinationSyncMode),
) -> ConfiguredCatalog:
    """Every selected stream (all streams when `selections` is None), validated; errors name stream and field."""
    by_name = {(s.name, s.namespace): s for s in discovered.streams}
    by_plain_name = {s.name: s for s in discovered.streams}
    if selections is None:
        selections = [StreamSelection(s.name, s.namespace) for s in discovered.streams]
    configured = []
    seen: set[StreamDescriptor] = set()
    for selection in selections:
        stream = by_name.get((selection.name, selection.namespace)) or (
            by_plain_name.get(selection.name) if selection.namespace is None else None
        )
        if stream is None:
            available = ", ".join(sorted(s.name for s in discovered.streams)) or "none"
            raise ConfigError(
                f"stream '{selection.name}' does not exist in the source",
                hint=f"Available streams: {available}.",
                stream=selection.name,
            )
        if stream.descriptor in seen:
            raise ConfigError(f"stream '{selection.name}' is configured twice", stream=selection.name)
        seen.add(stream.descriptor)
        configured.append(_configure(stream, selection, destination_modes))
    return ConfiguredCatalog(streams=configured)


def _configure(
    stream: Stream, sel: StreamSelection, destination_modes: Sequence[DestinationSyncMode]
) -> ConfiguredStream:
    cursor = _cursor(stream, sel)
    key = sel.primary_key or stream.source_defined_primary_key or None
    sync_mode = sel.sync_mode or (
        SyncMode.incremental
        if SyncMode.incremental in stream.supported_sync_modes and cursor
        else SyncMode.full_refresh
    )
    if sync_mode not in stream.supported_sync_modes:
        supported = ", ".join(m.value for m in stream.supported_sync_modes)
        raise ConfigError(
            f"stream '{stream.name}' does not support sync_mode '{sync_mode.value}'",
            hint=f"Supported: {supported}.",
            stream=stream.name,
        )
    mode = sel.destination_sync_mode or _best_destination_mode(sync_mode, key, destination_modes)
    if mode not in VALID_COMBINATIONS[sync_mode]:
        allowed = ", ".join(m.value for m in VALID_COMBINATIONS[sync_mode])
        raise ConfigError(
            f"stream '{stream.name}': {sync_mode.value} cannot be combined with destination_sync_mode '{mode.value}'",
            hint=f"With {sync_mode.value} use one of: {allowed}.",
            stream=stream.name,
        )
    if mode not in destination_modes:
        raise ConfigError(
            f"stream '{stream.name}': the destination does not support '{mode.value}'",
            hint=f"It supports: {', '.join(m.value for m in destination_modes)}.",
            stream=stream.name,
        )
    if sync_mode is SyncMode.incremental and not cursor:
        raise ConfigError(
            f"stream '{stream.name}' is incremental but has no cursor field",
            hint="Set cursor_field to a column that grows with every change (e.g. updated_at).",
            stream=stream.name,
        )
    if cursor:
        _require_fields(stream, [cursor], "cursor field")
    if mode in DEDUP_MODES:
        if not key:
            raise ConfigError(
                f"stream '{stream.name}' uses {mode.value} but has no primary key",
                hint="Set primary_key for the stream, or use append / overwrite.",
                stream=stream.name,
            )
        _require_fields(stream, key, "primary key field")
    return ConfiguredStream(
        stream=stream,
        sync_mode=sync_mode,
        destination_sync_mode=mode,
        cursor_field=cursor if sync_mode is SyncMode.incremental or mode in DEDUP_MODES else sel.cursor_field,
        primary_key=key,
    )


def _cursor(stream: Stream, sel: StreamSelection) -> list[str] | None:
    if stream.source_defined_cursor and stream.default_cursor_field:
        if sel.cursor_field and sel.cursor_field != stream.default_cursor_field:
            raise ConfigError(
                f"stream '{stream.name}' defines its own cursor {stream.default_cursor_field}; "
                f"cursor_field {sel.cursor_field} cannot override it",
                hint="Remove cursor_field from the stream's configuration.",
                stream=stream.name,
            )
        return stream.default_cursor_field
    return sel.cursor_field or stream.default_cursor_field or None


def _best_destination_mode(
    sync_mode: SyncMode, key: list[list[str]] | None, destination_modes: Sequence[DestinationSyncMode]
) -> DestinationSyncMode:
    if sync_mode is SyncMode.incremental:
        preferred = [DestinationSyncMode.append_dedup] if key else []
        preferred.append(DestinationSyncMode.append)
    else:
        preferred = [DestinationSyncMode.overwrite, DestinationSyncMode.append]
    return next((m for m in preferred if m in destination_modes), preferred[-1])


def _require_fields(stream: Stream, paths: list[list[str]], what: str) -> None:
    properties = stream.json_schema.get("properties") or {}
    for path in paths:
        if not path or path[0] not in properties:
            available = ", ".join(properties) or "none"
            raise ConfigError(
                f"stream '{stream.name}': {what} '{'.'.join(path)}' is not in the stream's schema",
                hint=f"Fields: {available}.",
                stream=stream.name,
                field=".".join(path),
            )
