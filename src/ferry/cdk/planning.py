"""What a SQL destination needs to know of a configured stream: does it replace, deduplicate, and on which fields."""

from __future__ import annotations

from ferry.errors import ConfigError
from ferry.protocol import ConfiguredStream, DestinationSyncMode

DEDUP_MODES = (DestinationSyncMode.append_dedup, DestinationSyncMode.overwrite_dedup)
OVERWRITE_MODES = (DestinationSyncMode.overwrite, DestinationSyncMode.overwrite_dedup)


def is_dedup(stream: ConfiguredStream) -> bool:
    return stream.destination_sync_mode in DEDUP_MODES


def is_truncating(stream: ConfiguredStream) -> bool:
    """Overwrite modes, and a truncate refresh (minimum generation == generation > 0) of any mode."""
    if stream.destination_sync_mode in OVERWRITE_MODES:
        return True
    gen, minimum = stream.generation_id, stream.minimum_generation_id
    return gen is not None and minimum is not None and gen > 0 and minimum == gen


def _top_level(path: list[str], names: dict[str, str], role: str, stream: ConfiguredStream) -> str:
    label = str(stream.descriptor)
    if len(path) != 1:
        raise ConfigError(
            f"the {role} {'.'.join(path)} of stream '{label}' is a nested field",
            hint=f"Deduplication needs top-level fields as {role}; choose a top-level field.",
            stream=label,
        )
    if path[0] not in names:
        raise ConfigError(
            f"the {role} '{path[0]}' of stream '{label}' is not a property of the stream's schema",
            hint=f"Pick a {role} among the stream's fields: {', '.join(names) or '(none)'}.",
            stream=label,
            field=path[0],
        )
    return names[path[0]]


def dedup_key(stream: ConfiguredStream, names: dict[str, str]) -> tuple[str, ...]:
    """The primary key as destination identifiers (`names` maps source field -> identifier)."""
    if not stream.key:
        label = str(stream.descriptor)
        raise ConfigError(
            f"stream '{label}' uses {stream.destination_sync_mode.value} but has no primary key",
            hint="Set primary_key for the stream, or use append / overwrite.",
            stream=label,
        )
    return tuple(_top_level(path, names, "primary key", stream) for path in stream.key)


def dedup_cursor(stream: ConfiguredStream, names: dict[str, str]) -> str | None:
    """The cursor as a destination identifier, or None when the stream has none."""
    cursor = stream.cursor
    return _top_level(cursor, names, "cursor", stream) if cursor else None
