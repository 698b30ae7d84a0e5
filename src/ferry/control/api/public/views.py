"""Store rows and service views as public API response bodies."""

from __future__ import annotations

from datetime import UTC, datetime

from ferry.control.api import models as m
from ferry.control.services.actors import ActorView
from ferry.control.services.jobs import TERMINAL, JobView
from ferry.control.store.models import Connection, Workspace


def workspace(row: Workspace) -> m.WorkspaceResponse:
    return m.WorkspaceResponse(
        workspace_id=row.id,
        name=row.name,
        data_residency=row.data_residency,
        notifications=row.notifications or {},
    )


def source(view: ActorView) -> m.SourceResponse:
    return m.SourceResponse(
        source_id=view.row.id,
        name=view.row.name,
        source_type=view.definition.reference if view.definition.builtin else "",
        definition_id=view.definition.id,
        workspace_id=view.row.workspace_id,
        configuration=view.masked_configuration,
        created_at=_epoch(view.row.created_at),
    )


def destination(view: ActorView) -> m.DestinationResponse:
    return m.DestinationResponse(
        destination_id=view.row.id,
        name=view.row.name,
        destination_type=view.definition.reference if view.definition.builtin else "",
        definition_id=view.definition.id,
        workspace_id=view.row.workspace_id,
        configuration=view.masked_configuration,
        created_at=_epoch(view.row.created_at),
    )


def schedule(row: Connection) -> m.ConnectionScheduleResponse:
    if row.schedule_type == "cron":
        return m.ConnectionScheduleResponse(
            schedule_type="cron", cron_expression=f"{row.cron_expression} {row.cron_time_zone or 'UTC'}"
        )
    if row.schedule_type == "basic":
        return m.ConnectionScheduleResponse(
            schedule_type="basic",
            basic_timing=f"Every {row.basic_units} {(row.basic_time_unit or '').upper()}",
        )
    return m.ConnectionScheduleResponse(schedule_type="manual")


def connection(row: Connection) -> m.ConnectionResponse:
    return m.ConnectionResponse(
        connection_id=row.id,
        name=row.name,
        source_id=row.source_id,
        destination_id=row.destination_id,
        workspace_id=row.workspace_id,
        status=row.status,  # type: ignore[arg-type]  # the store holds only the enum's values
        schedule=schedule(row),
        configurations=m.StreamConfigurationsResponse(
            streams=[m.StreamConfigurationResponse.model_validate(s) for s in row.streams]
        ),
        created_at=_epoch(row.created_at),
        tags=[],
        namespace_definition=row.namespace_definition,  # type: ignore[arg-type]
        namespace_format=row.namespace_format,
        non_breaking_schema_updates_behavior=row.non_breaking_changes,  # type: ignore[arg-type]
        prefix=row.prefix,
    )


def job(view: JobView) -> m.JobResponse:
    row = view.job
    terminal = row.status in TERMINAL
    return m.JobResponse(
        job_id=row.id,
        status=row.status,  # type: ignore[arg-type]
        job_type=row.job_type,  # type: ignore[arg-type]
        start_time=iso(row.created_at),
        connection_id=row.connection_id,
        last_updated_at=iso(row.updated_at) if terminal else None,
        duration=None
        if row.status == "pending"
        else iso_duration(row.created_at, row.ended_at or row.updated_at),
        bytes_synced=view.totals.bytes_committed,
        rows_synced=view.totals.records_committed,
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(start: datetime, end: datetime) -> str:
    seconds = max(int((end - start).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
