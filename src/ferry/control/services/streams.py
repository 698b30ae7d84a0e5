"""Stream configurations of a connection: the public API's combined sync modes, checked against the catalog.

Each check names the offending field as `configurations.streams[i].<field>`, as Airbyte's server
does on connection create and update.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ferry.control.errors import InvalidInputError
from ferry.engine.catalog import StreamSelection, configure_catalog
from ferry.errors import ConfigError
from ferry.protocol import Catalog, ConfiguredCatalog, DestinationSyncMode, Stream, SyncMode

FULL, INCR = SyncMode.full_refresh, SyncMode.incremental
D = DestinationSyncMode
SYNC_MODES: dict[str, tuple[SyncMode, DestinationSyncMode]] = {
    "full_refresh_overwrite": (FULL, D.overwrite),
    "full_refresh_overwrite_deduped": (FULL, D.overwrite_dedup),
    "full_refresh_append": (FULL, D.append),
    "full_refresh_update": (FULL, D.update),
    "full_refresh_soft_delete": (FULL, D.soft_delete),
    "incremental_append": (INCR, D.append),
    "incremental_deduped_history": (INCR, D.append_dedup),
    "incremental_update": (INCR, D.update),
    "incremental_soft_delete": (INCR, D.soft_delete),
}
DEFAULT_MODE = "full_refresh_overwrite"
_DEDUP = (D.append_dedup, D.overwrite_dedup, D.update)


def combined_modes(stream: Stream, destination_modes: Sequence[DestinationSyncMode]) -> list[str]:
    """The public sync modes a stream can use with a destination."""
    return [
        name
        for name, (sync, dest) in SYNC_MODES.items()
        if sync in stream.supported_sync_modes and dest in destination_modes
    ]


def normalise(
    catalog: Catalog,
    configs: Sequence[dict[str, Any]] | None,
    destination_modes: Sequence[DestinationSyncMode],
) -> list[dict[str, Any]]:
    """Validated stream configurations to store; None selects every stream as full_refresh_overwrite."""
    if configs is None:
        configs = [
            {"name": s.name, "namespace": s.namespace, "syncMode": DEFAULT_MODE} for s in catalog.streams
        ]
    seen: set[tuple[str, str | None]] = set()
    out = []
    for index, config in enumerate(configs):
        where = f"configurations.streams[{index}]"
        stream = _find(catalog, config, where)
        if (stream.name, stream.namespace) in seen:
            raise InvalidInputError(f"stream '{stream.name}' is configured twice", field=f"{where}.name")
        seen.add((stream.name, stream.namespace))
        out.append(_check(stream, config, destination_modes, where))
    if not out:
        raise InvalidInputError("a connection needs at least one stream", field="configurations.streams")
    configured_catalog(catalog, out, destination_modes)
    return out


def _find(catalog: Catalog, config: dict[str, Any], where: str) -> Stream:
    name, namespace = config.get("name"), config.get("namespace")
    for stream in catalog.streams:
        if stream.name == name and (namespace is None or stream.namespace == namespace):
            return stream
    available = ", ".join(sorted(s.name for s in catalog.streams)) or "none"
    raise InvalidInputError(
        f"stream '{name}' is not in the source's catalog",
        hint=f"Available streams: {available}.",
        field=f"{where}.name",
    )


def _check(
    stream: Stream, config: dict[str, Any], destination_modes: Sequence[DestinationSyncMode], where: str
) -> dict[str, Any]:
    mode = config.get("syncMode") or DEFAULT_MODE
    sync, dest = SYNC_MODES[mode]
    if sync not in stream.supported_sync_modes or dest not in destination_modes:
        allowed = ", ".join(combined_modes(stream, destination_modes)) or "none"
        raise InvalidInputError(
            f"stream '{stream.name}' cannot use sync mode '{mode}'",
            hint=f"Allowed: {allowed}.",
            field=f"{where}.syncMode",
        )
    properties = set((stream.json_schema.get("properties") or {}).keys())
    cursor = _cursor(stream, config.get("cursorField"), sync, properties, f"{where}.cursorField")
    key = _key(stream, config.get("primaryKey"), dest, properties, f"{where}.primaryKey")
    selected = _selected(config.get("selectedFields"), properties, cursor, key, f"{where}.selectedFields")
    return {
        "name": stream.name,
        "namespace": stream.namespace,
        "syncMode": mode,
        "cursorField": cursor,
        "primaryKey": key,
        "selectedFields": selected,
    }


def _cursor(
    stream: Stream, given: list[str] | None, sync: SyncMode, properties: set[str], field: str
) -> list[str] | None:
    defined = stream.default_cursor_field if stream.source_defined_cursor else None
    if defined and given and list(given) != list(defined):
        raise InvalidInputError(
            f"stream '{stream.name}' defines its own cursor {defined}; {given} cannot replace it", field=field
        )
    cursor = list(given or defined or stream.default_cursor_field or []) or None
    if sync is INCR and not cursor:
        raise InvalidInputError(
            f"stream '{stream.name}' is incremental but has no cursor field",
            hint="Set cursorField.",
            field=field,
        )
    if cursor and cursor[0] not in properties:
        raise InvalidInputError(
            f"cursor field '{'.'.join(cursor)}' is not in the schema of stream '{stream.name}'",
            hint=_fields(properties),
            field=field,
        )
    return cursor if sync is INCR or given else None


def _key(
    stream: Stream, given: list[list[str]] | None, dest: DestinationSyncMode, properties: set[str], field: str
) -> list[list[str]] | None:
    defined = stream.source_defined_primary_key or None
    if defined and given and [list(p) for p in given] != [list(p) for p in defined]:
        raise InvalidInputError(
            f"stream '{stream.name}' defines its own primary key {defined}; {given} cannot replace it",
            field=field,
        )
    key = [list(p) for p in (given or defined or [])] or None
    if dest in _DEDUP and not key:
        raise InvalidInputError(
            f"stream '{stream.name}' is deduplicated but has no primary key",
            hint="Set primaryKey.",
            field=field,
        )
    for path in key or []:
        if not path or path[0] not in properties:
            raise InvalidInputError(
                f"primary key field '{'.'.join(path)}' is not in the schema of stream '{stream.name}'",
                hint=_fields(properties),
                field=field,
            )
    return key


def _selected(
    given: list[dict[str, Any]] | None,
    properties: set[str],
    cursor: list[str] | None,
    key: list[list[str]] | None,
    field: str,
) -> list[dict[str, Any]] | None:
    if given is None:
        return None
    paths = [list(item.get("fieldPath") or []) for item in given]
    if not paths:
        raise InvalidInputError("selectedFields is empty; leave it out to select every field", field=field)
    names = []
    for path in paths:
        if len(path) != 1:
            raise InvalidInputError(f"selected field {path} is not a top-level field", field=field)
        if path[0] not in properties:
            raise InvalidInputError(
                f"selected field '{path[0]}' is not in the stream's schema",
                hint=_fields(properties),
                field=field,
            )
        names.append(path[0])
    if len(set(names)) != len(names):
        raise InvalidInputError("selectedFields names a field twice", field=field)
    for required in [*(cursor or [])[:1], *(p[0] for p in key or [])]:
        if required not in names:
            raise InvalidInputError(
                f"selectedFields must include the cursor and primary key field '{required}'", field=field
            )
    return [{"fieldPath": p} for p in paths]


def _fields(properties: set[str]) -> str:
    return f"Fields: {', '.join(sorted(properties)) or 'none'}."


def configured_catalog(
    catalog: Catalog, configs: Sequence[dict[str, Any]], destination_modes: Sequence[DestinationSyncMode]
) -> ConfiguredCatalog:
    """The engine's configured catalog for stored stream configurations (selected fields applied)."""
    selections = []
    for config in configs:
        sync, dest = SYNC_MODES[config.get("syncMode") or DEFAULT_MODE]
        selections.append(
            StreamSelection(
                config["name"],
                config.get("namespace"),
                sync,
                dest,
                config.get("cursorField"),
                config.get("primaryKey"),
            )
        )
    try:
        configured = configure_catalog(_with_selected_fields(catalog, configs), selections, destination_modes)
    except ConfigError as exc:
        raise InvalidInputError(exc.message, hint=exc.hint, field="configurations.streams") from None
    return configured


def _with_selected_fields(catalog: Catalog, configs: Sequence[dict[str, Any]]) -> Catalog:
    import dataclasses

    chosen = {(c["name"], c.get("namespace")): c.get("selectedFields") for c in configs}
    streams = []
    for stream in catalog.streams:
        selected = chosen.get((stream.name, stream.namespace))
        if not selected:
            streams.append(stream)
            continue
        keep = {item["fieldPath"][0] for item in selected}
        properties = {k: v for k, v in (stream.json_schema.get("properties") or {}).items() if k in keep}
        streams.append(
            dataclasses.replace(stream, json_schema={**stream.json_schema, "properties": properties})
        )
    return Catalog(streams)
