"""The stream table of the connection form: per stream selected / sync mode / cursor / primary key.

Only the sync modes that both the stream and the destination support are offered; a cursor is
asked for only in incremental modes and a primary key only in deduplicating ones, and fields the
source defines itself are shown fixed. The streams service still checks every combination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ferry.control.services import streams
from ferry.errors import ConfigError
from ferry.protocol import Catalog, DestinationSyncMode, Stream, SyncMode

Fields = Mapping[str, list[str]]
_KEYED = (DestinationSyncMode.append_dedup, DestinationSyncMode.overwrite_dedup, DestinationSyncMode.update)
MODE_LABELS = {
    "full_refresh_overwrite": "Full refresh | Overwrite",
    "full_refresh_overwrite_deduped": "Full refresh | Overwrite + Deduped",
    "full_refresh_append": "Full refresh | Append",
    "full_refresh_update": "Full refresh | Update",
    "full_refresh_soft_delete": "Full refresh | Soft delete",
    "incremental_append": "Incremental | Append",
    "incremental_deduped_history": "Incremental | Append + Deduped",
    "incremental_update": "Incremental | Update",
    "incremental_soft_delete": "Incremental | Soft delete",
}


@dataclass(frozen=True, slots=True)
class Mode:
    value: str
    label: str
    cursor: bool
    key: bool


@dataclass
class Row:
    index: int
    name: str
    namespace: str | None
    selected: bool
    modes: list[Mode]
    mode: str
    fields: list[str]
    cursor: str | None
    cursor_fixed: bool
    key: list[str] = field(default_factory=list)
    key_fixed: bool = False

    @property
    def needs_cursor(self) -> bool:
        return any(m.cursor for m in self.modes if m.value == self.mode)

    @property
    def needs_key(self) -> bool:
        return any(m.key for m in self.modes if m.value == self.mode)


def modes_for(stream: Stream, destination_modes: Sequence[DestinationSyncMode]) -> list[Mode]:
    out = []
    for name in streams.combined_modes(stream, destination_modes):
        sync, dest = streams.SYNC_MODES[name]
        out.append(Mode(name, MODE_LABELS.get(name, name), sync is SyncMode.incremental, dest in _KEYED))
    return out


def rows(
    catalog: Catalog,
    destination_modes: Sequence[DestinationSyncMode],
    configured: Sequence[Mapping[str, Any]] | None,
) -> list[Row]:
    """One row per stream of the catalog, filled from the stored (or posted) configurations."""
    chosen = {(c.get("name"), c.get("namespace")): c for c in configured or []}
    out = []
    for index, stream in enumerate(catalog.streams):
        config = chosen.get((stream.name, stream.namespace))
        modes = modes_for(stream, destination_modes)
        out.append(_row(index, stream, modes, config, selected=config is not None or configured is None))
    return out


def _row(
    index: int, stream: Stream, modes: list[Mode], config: Mapping[str, Any] | None, *, selected: bool
) -> Row:
    config = config or {}
    values = [m.value for m in modes]
    mode = config.get("syncMode") if config.get("syncMode") in values else _default_mode(values)
    defined_cursor = list(stream.default_cursor_field or []) if stream.source_defined_cursor else []
    cursor = (config.get("cursorField") or defined_cursor or stream.default_cursor_field or [None])[0]
    defined_key = [p[0] for p in stream.source_defined_primary_key or [] if p]
    key = [p[0] for p in config.get("primaryKey") or [] if p] or defined_key
    return Row(
        index=index,
        name=stream.name,
        namespace=stream.namespace,
        selected=selected,
        modes=modes,
        mode=mode or "",
        fields=_scalar_fields(stream),
        cursor=cursor,
        cursor_fixed=bool(defined_cursor),
        key=key,
        key_fixed=bool(defined_key),
    )


def _default_mode(values: list[str]) -> str | None:
    return streams.DEFAULT_MODE if streams.DEFAULT_MODE in values else (values[0] if values else None)


def _scalar_fields(stream: Stream) -> list[str]:
    """Top-level fields that can be a cursor or a key: not objects or arrays."""
    out = []
    for name, prop in (stream.json_schema.get("properties") or {}).items():
        kinds = prop.get("type") if isinstance(prop, Mapping) else None
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not {"object", "array"} & set(kinds):
            out.append(name)
    return out


def parse(catalog: Catalog, fields: Fields) -> list[dict[str, Any]]:
    """The stream configurations of the selected rows, in the streams service's shape.

    Rows name their stream (a hidden field), so a catalog that changed since the form was shown
    cannot shift a row's settings onto another stream.
    """
    out = []
    for index, stream in enumerate(catalog.streams):
        prefix = f"s.{index}"
        if "on" not in fields.get(f"{prefix}.selected", []):
            continue
        if _first(fields, f"{prefix}.name") not in (None, stream.name):
            raise ConfigError(
                "the source's streams changed since this form was shown",
                hint="Reload the page and choose the streams again.",
                field="configurations.streams",
            )
        mode = _first(fields, f"{prefix}.mode") or streams.DEFAULT_MODE
        config: dict[str, Any] = {"name": stream.name, "namespace": stream.namespace, "syncMode": mode}
        sync, dest = streams.SYNC_MODES.get(mode, streams.SYNC_MODES[streams.DEFAULT_MODE])
        cursor = _first(fields, f"{prefix}.cursor")
        if sync is SyncMode.incremental and cursor and not stream.source_defined_cursor:
            config["cursorField"] = [cursor]
        key = [k for k in fields.get(f"{prefix}.key", []) if k]
        if dest in _KEYED and key and not stream.source_defined_primary_key:
            config["primaryKey"] = [[k] for k in key]
        out.append(config)
    return out


def _first(fields: Fields, name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None
