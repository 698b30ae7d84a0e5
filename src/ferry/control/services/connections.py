"""Connections: a source, a destination, the streams between them, a schedule and how to name things."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ferry.control.errors import ConflictError, InvalidInputError, NotFoundError
from ferry.control.schedule import basic_interval, parse_cron
from ferry.control.services import actors, catalogs, streams
from ferry.control.services.actors import ActorView
from ferry.control.services.context import Control, Principal
from ferry.control.services.paging import Page, fetch
from ferry.control.store.models import ACTIVE_JOB_STATUSES, Connection, ConnectionState, Job
from ferry.control.store.types import utc_now
from ferry.engine.mapping import NamespaceDefinition, StreamMapping
from ferry.errors import ConfigError
from ferry.protocol import DestinationSyncMode, StreamDescriptor

STATUSES = ("active", "inactive", "deprecated")
NAMESPACE_DEFINITIONS = tuple(d.value for d in NamespaceDefinition)
NON_BREAKING = ("ignore", "disable_connection", "propagate_columns", "propagate_fully")


@dataclass(frozen=True, slots=True)
class Schedule:
    """manual, cron (Quartz expression + time zone) or basic (every N minutes/hours/days/weeks/months)."""

    type: str = "manual"
    cron_expression: str | None = None
    time_zone: str | None = None
    units: int | None = None
    time_unit: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """The optional parts of a connection; None leaves a value as it is (on update) or at its default."""

    name: str | None = None
    streams: Sequence[dict[str, Any]] | None = None
    schedule: Schedule | None = None
    namespace_definition: str | None = None
    namespace_format: str | None = None
    prefix: str | None = None
    non_breaking_changes: str | None = None
    status: str | None = None


def create(
    ctx: Control, who: Principal, source_id: str, destination_id: str, settings: Settings
) -> Connection:
    source, destination = _endpoints(ctx, who, source_id, destination_id)
    row = Connection(
        id=str(uuid.uuid4()),
        workspace_id=source.row.workspace_id,
        source_id=source_id,
        destination_id=destination_id,
        name=settings.name or f"{source.row.name} → {destination.row.name}",
        # Set now, not at insert, because the naming check below reads them (Airbyte's defaults).
        namespace_definition=NamespaceDefinition.destination.value,
        prefix="",
    )
    row.streams = streams.normalise(
        catalogs.catalog_of(ctx, source), settings.streams, destination_modes(destination)
    )
    _apply(row, settings, streams_checked=True)
    _check_naming(row)
    with ctx.store.write() as session:
        session.add(row)
        session.flush()
        session.add(ConnectionState(connection_id=row.id))
    return row


def _endpoints(
    ctx: Control, who: Principal, source_id: str, destination_id: str
) -> tuple[ActorView, ActorView]:
    with ctx.store.read() as session:
        source = actors.load(session, who, "source", source_id, "editor")
        destination = actors.load(session, who, "destination", destination_id, "editor")
    if source.row.workspace_id != destination.row.workspace_id:
        raise InvalidInputError(
            "the source and the destination belong to different workspaces", field="destinationId"
        )
    return source, destination


def destination_modes(destination: ActorView) -> Sequence[DestinationSyncMode]:
    if not destination.definition.builtin:
        return tuple(DestinationSyncMode)
    from ferry.connectors import registry

    return registry.destination(destination.definition.reference).supported_sync_modes


def _apply(row: Connection, settings: Settings, *, streams_checked: bool = False) -> None:
    for value, allowed, field in (
        (settings.status, STATUSES, "status"),
        (settings.namespace_definition, NAMESPACE_DEFINITIONS, "namespaceDefinition"),
        (settings.non_breaking_changes, NON_BREAKING, "nonBreakingSchemaUpdatesBehavior"),
    ):
        if value is not None and value not in allowed:
            raise InvalidInputError(f"{field} '{value}' is not one of: {', '.join(allowed)}", field=field)
    if settings.name is not None:
        row.name = settings.name
    if settings.status is not None:
        row.status = settings.status
    if settings.namespace_definition is not None:
        row.namespace_definition = settings.namespace_definition
    if settings.namespace_format is not None:
        row.namespace_format = settings.namespace_format
    if settings.prefix is not None:
        row.prefix = settings.prefix
    if settings.non_breaking_changes is not None:
        row.non_breaking_changes = settings.non_breaking_changes
    if row.namespace_definition == "custom_format" and not row.namespace_format:
        raise InvalidInputError(
            "namespaceDefinition custom_format needs a namespaceFormat", field="namespaceFormat"
        )
    if settings.schedule is not None:
        _set_schedule(row, settings.schedule)
    row.updated_at = utc_now()


def stream_mapping(row: Connection) -> StreamMapping:
    """The connection's namespace definition, namespace format and prefix, as a sync applies them."""
    return StreamMapping(
        NamespaceDefinition(row.namespace_definition), row.namespace_format, row.prefix or ""
    )


def _check_naming(row: Connection) -> None:
    """Two selected streams must not land in one destination stream (e.g. same-named tables of two
    schemas with namespace definition `destination`); a sync would refuse to run."""
    try:
        stream_mapping(row).bind(StreamDescriptor(s["name"], s.get("namespace")) for s in row.streams)
    except ConfigError as exc:
        raise InvalidInputError(exc.message, hint=exc.hint, field="namespaceDefinition") from None


def _set_schedule(row: Connection, schedule: Schedule) -> None:
    now = utc_now()
    row.cron_expression = row.cron_time_zone = row.basic_time_unit = None
    row.basic_units = None
    row.next_run_at = None
    if schedule.type == "cron":
        if not schedule.cron_expression:
            raise InvalidInputError("a cron schedule needs a cronExpression", field="schedule.cronExpression")
        cron = parse_cron(schedule.cron_expression, schedule.time_zone)
        row.cron_expression, row.cron_time_zone = cron.expression, cron.time_zone
        row.next_run_at = cron.next_after(now)
    elif schedule.type == "basic":
        units, unit = schedule.units or 0, schedule.time_unit or ""
        row.next_run_at = now + basic_interval(units, unit)
        row.basic_units, row.basic_time_unit = units, unit
    elif schedule.type != "manual":
        raise InvalidInputError(
            f"scheduleType '{schedule.type}' is not one of: manual, cron, basic",
            field="schedule.scheduleType",
        )
    row.schedule_type = schedule.type


def load(session: Session, who: Principal, connection_id: str, role: str = "reader") -> Connection:
    row = session.get(Connection, connection_id)
    if row is None or row.deleted_at is not None:
        raise NotFoundError("connection", connection_id)
    who.require(row.workspace_id, role, "connection", connection_id)
    return row


def get(ctx: Control, who: Principal, connection_id: str) -> Connection:
    with ctx.store.read() as session:
        return load(session, who, connection_id)


def list_(
    ctx: Control, who: Principal, workspace_ids: Sequence[str], include_deleted: bool, page: Page
) -> list[Connection]:
    statement = select(Connection).order_by(Connection.created_at, Connection.id)
    if workspace_ids:
        statement = statement.where(Connection.workspace_id.in_(workspace_ids))
    if not who.is_admin:
        statement = statement.where(Connection.workspace_id.in_(list(who.roles)))
    if not include_deleted:
        statement = statement.where(Connection.deleted_at.is_(None))
    with ctx.store.read() as session:
        return fetch(session, statement, page)


def update(ctx: Control, who: Principal, connection_id: str, settings: Settings) -> Connection:
    checked: list[dict[str, Any]] | None = None
    if settings.streams is not None:
        row = get(ctx, who, connection_id)
        source, destination = _endpoints(ctx, who, row.source_id, row.destination_id)
        checked = streams.normalise(
            catalogs.catalog_of(ctx, source), settings.streams, destination_modes(destination)
        )
    with ctx.store.write() as session:
        row = load(session, who, connection_id, "editor")
        _apply(row, settings)
        if checked is not None:
            row.streams = checked
        _check_naming(row)
    return row


def delete(ctx: Control, who: Principal, connection_id: str) -> None:
    with ctx.store.write() as session:
        row = load(session, who, connection_id, "editor")
        running = session.scalar(
            select(Job.id).where(Job.connection_id == connection_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        )
        if running is not None:
            raise ConflictError(
                f"connection {connection_id} has a running job ({running})", hint="Cancel the job first."
            )
        row.deleted_at = utc_now()
        row.status = "deprecated"


def due(ctx: Control, now: datetime, limit: int = 500) -> list[Connection]:
    """Active connections whose next run time has come (the scheduler's query)."""
    statement = (
        select(Connection)
        .where(Connection.deleted_at.is_(None), Connection.status == "active", Connection.next_run_at <= now)
        .order_by(Connection.next_run_at)
        .limit(limit)
    )
    with ctx.store.read() as session:
        return list(session.scalars(statement))
