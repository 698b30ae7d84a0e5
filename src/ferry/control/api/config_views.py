"""Store rows and service views in the config API's shapes (SourceRead, ConnectionRead, JobInfoRead, ...)."""

from __future__ import annotations

from typing import Any

from ferry.control.services import streams
from ferry.control.services.actors import ActorView
from ferry.control.services.jobs import JobView
from ferry.control.store.models import Connection, Source, Workspace
from ferry.protocol import Catalog

_STREAM_MODE = {name: (sync.value, dest.value) for name, (sync, dest) in streams.SYNC_MODES.items()}
_COMBINED = {pair: name for name, pair in _STREAM_MODE.items()}


def workspace(row: Workspace) -> dict[str, Any]:
    return {
        "workspaceId": row.id,
        "customerId": row.id,
        "name": row.name,
        "slug": row.name.lower().replace(" ", "-"),
        "initialSetupComplete": True,
        "organizationId": None,
    }


def actor(view: ActorView) -> dict[str, Any]:
    kind = "source" if isinstance(view.row, Source) else "destination"
    return {
        f"{kind}Id": view.row.id,
        f"{kind}DefinitionId": view.definition.id,
        "workspaceId": view.row.workspace_id,
        "connectionConfiguration": view.masked_configuration,
        "name": view.row.name,
        f"{kind}Name": view.definition.name,
        "createdAt": int(view.row.created_at.timestamp()),
    }


def catalog(found: Catalog) -> dict[str, Any]:
    out = []
    for s in found.streams:
        modes = [m.value for m in s.supported_sync_modes]
        incremental = "incremental" in modes and bool(s.default_cursor_field)
        out.append(
            {
                "stream": {
                    "name": s.name,
                    "namespace": s.namespace,
                    "jsonSchema": s.json_schema,
                    "supportedSyncModes": modes,
                    "sourceDefinedCursor": bool(s.source_defined_cursor),
                    "defaultCursorField": s.default_cursor_field or [],
                    "sourceDefinedPrimaryKey": s.source_defined_primary_key or [],
                },
                "config": {
                    "syncMode": "incremental" if incremental else "full_refresh",
                    "destinationSyncMode": "append" if incremental else "overwrite",
                    "cursorField": s.default_cursor_field or [],
                    "primaryKey": s.source_defined_primary_key or [],
                    "selected": True,
                    "aliasName": s.name,
                    "fieldSelectionEnabled": False,
                },
            }
        )
    return {"streams": out}


def stream_configs(sync_catalog: Any) -> list[dict[str, Any]] | None:
    """A config API `syncCatalog` as public-API stream configurations (selected streams only)."""
    if not isinstance(sync_catalog, dict):
        return None
    out = []
    for entry in sync_catalog.get("streams") or []:
        stream, config = (entry or {}).get("stream") or {}, (entry or {}).get("config") or {}
        if config.get("selected") is False:
            continue
        pair = (config.get("syncMode") or "full_refresh", config.get("destinationSyncMode") or "overwrite")
        item: dict[str, Any] = {
            "name": stream.get("name"),
            "namespace": stream.get("namespace"),
            "syncMode": _COMBINED.get(pair, "full_refresh_overwrite"),
        }
        if config.get("cursorField"):
            item["cursorField"] = config["cursorField"]
        if config.get("primaryKey"):
            item["primaryKey"] = config["primaryKey"]
        if config.get("fieldSelectionEnabled") and config.get("selectedFields"):
            item["selectedFields"] = config["selectedFields"]
        out.append(item)
    return out


def connection(row: Connection) -> dict[str, Any]:
    entries = []
    for s in row.streams:
        sync, dest = _STREAM_MODE[s["syncMode"]]
        entries.append(
            {
                "stream": {"name": s["name"], "namespace": s.get("namespace")},
                "config": {
                    "syncMode": sync,
                    "destinationSyncMode": dest,
                    "cursorField": s.get("cursorField") or [],
                    "primaryKey": s.get("primaryKey") or [],
                    "selected": True,
                    "aliasName": s["name"],
                    "fieldSelectionEnabled": bool(s.get("selectedFields")),
                    "selectedFields": s.get("selectedFields") or [],
                },
            }
        )
    return {
        "connectionId": row.id,
        "name": row.name,
        "sourceId": row.source_id,
        "destinationId": row.destination_id,
        "workspaceId": row.workspace_id,
        "status": row.status,
        "syncCatalog": {"streams": entries},
        "scheduleType": row.schedule_type,
        "scheduleData": _schedule_data(row),
        "namespaceDefinition": {"custom_format": "customformat"}.get(
            row.namespace_definition, row.namespace_definition
        ),
        "namespaceFormat": row.namespace_format,
        "prefix": row.prefix,
        "nonBreakingChangesPreference": {"disable_connection": "disable"}.get(
            row.non_breaking_changes, row.non_breaking_changes
        ),
        "breakingChange": False,
        "createdAt": int(row.created_at.timestamp()),
    }


def _schedule_data(row: Connection) -> dict[str, Any] | None:
    if row.schedule_type == "cron":
        return {"cron": {"cronExpression": row.cron_expression, "cronTimeZone": row.cron_time_zone}}
    if row.schedule_type == "basic":
        return {"basicSchedule": {"timeUnit": row.basic_time_unit, "units": row.basic_units}}
    return None


def config_type(job_type: str) -> str:
    return {"clear": "reset_connection", "reset": "reset_connection"}.get(job_type, job_type)


def job_read(view: JobView) -> dict[str, Any]:
    row, totals = view.job, view.totals
    return {
        "id": row.id,
        "configType": config_type(row.job_type),
        "configId": row.connection_id,
        "createdAt": int(row.created_at.timestamp()),
        "updatedAt": int(row.updated_at.timestamp()),
        "startedAt": int(row.started_at.timestamp()) if row.started_at else None,
        "status": row.status,
        "aggregatedStats": {
            "recordsEmitted": totals.records_emitted,
            "bytesEmitted": totals.bytes_emitted,
            "recordsCommitted": totals.records_committed,
            "bytesCommitted": totals.bytes_committed,
            "recordsRejected": 0,
        },
        "streamAggregatedStats": [
            {
                "streamName": s.stream_name,
                "streamNamespace": s.stream_namespace or None,
                "stats": {
                    "recordsEmitted": s.records_emitted,
                    "recordsCommitted": s.records_committed,
                    "bytesEmitted": s.bytes_emitted,
                    "bytesCommitted": s.bytes_committed,
                },
            }
            for s in view.streams
        ],
    }


def job_with_attempts(view: JobView) -> dict[str, Any]:
    attempts = [
        {
            "id": a.number,
            "status": a.status,
            "createdAt": int(a.created_at.timestamp()),
            "updatedAt": int(a.updated_at.timestamp()),
            "endedAt": int(a.ended_at.timestamp()) if a.ended_at else None,
            "recordsSynced": sum(s.records_committed for s in view.streams if s.attempt_id == a.id),
            "bytesSynced": sum(s.bytes_committed for s in view.streams if s.attempt_id == a.id),
            "failureSummary": {"failures": [a.failure]} if a.failure else None,
        }
        for a in view.attempts
    ]
    return {"job": job_read(view), "attempts": attempts}


def job_info(view: JobView, log_lines: dict[int, list[str]] | None = None) -> dict[str, Any]:
    """JobInfoRead; `log_lines` (by attempt id) fills each attempt's `logs.logLines`."""
    out = job_with_attempts(view)
    lines = log_lines or {}
    out["attempts"] = [
        {"attempt": shown, "logs": {"logLines": lines.get(attempt.id, [])}}
        for shown, attempt in zip(out["attempts"], view.attempts, strict=True)
    ]
    return out


def succeeded_job_info(config_type_name: str) -> dict[str, Any]:
    return {"configType": config_type_name, "succeeded": True, "logs": {"logLines": []}}
