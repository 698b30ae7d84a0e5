"""Config as code: `ferry apply` makes the store match pipeline files, `ferry export` writes them back.

Objects are matched by name: the workspace by its name, the source and the destination by their
names in that workspace (default: the pipeline's name), the connection by the pipeline's name. An
object that already matches its file is left untouched, so applying twice changes nothing. Secrets
come from ${ENV} in the files and are written back as ${ENV} placeholders, never as values.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from ferry.cdk.spec import MASK, typed_like_spec
from ferry.control import pipeline_files as files
from ferry.control.errors import UnprocessableError
from ferry.control.pipeline_files import NamedConnectorRef, ScheduleSpec, ServerPipeline
from ferry.control.schedule import parse_cron
from ferry.control.services import actors, catalogs, connections, definitions, streams, workspaces
from ferry.control.services.actors import ActorView
from ferry.control.services.connections import Schedule
from ferry.control.services.connections import Settings as ConnectionSettings
from ferry.control.services.context import SYSTEM, Control
from ferry.control.store.models import Actor, Connection, Definition, Destination, Source, Workspace
from ferry.engine.catalog import configure_catalog
from ferry.engine.mapping import NamespaceDefinition
from ferry.errors import ConfigError
from ferry.protocol import ConfiguredStream, to_obj

Kind = Literal["source", "destination"]
Action = Literal["created", "updated", "unchanged"]
_MODELS: dict[str, type[Actor]] = {"source": Source, "destination": Destination}
_COMBINED = {pair: name for name, pair in streams.SYNC_MODES.items()}


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    name: str
    action: Action


@dataclass(frozen=True, slots=True)
class Exported:
    path: Path
    variables: list[str] = field(default_factory=list)
    """The environment variables that the file's secret placeholders name."""


# -- apply -------------------------------------------------------------------------------------


def apply_file(ctx: Control, path: Path) -> list[Change]:
    return apply(ctx, files.load(path), default_name=path.stem)


def apply(ctx: Control, pipeline: ServerPipeline, default_name: str) -> list[Change]:
    """Creates or updates the workspace, source, destination and connection of one pipeline."""
    name = pipeline.name or default_name
    workspace, changes = _workspace(ctx, pipeline.workspace or files.DEFAULT_WORKSPACE)
    source, source_change = _actor(ctx, "source", workspace.id, pipeline.source, name)
    destination, destination_change = _actor(ctx, "destination", workspace.id, pipeline.destination, name)
    rediscover = source_change.action != "unchanged"
    connection_change = _connection(ctx, name, source, destination, pipeline, rediscover=rediscover)
    return [*changes, source_change, destination_change, connection_change]


def _workspace(ctx: Control, name: str) -> tuple[Workspace, list[Change]]:
    with ctx.store.read() as session:
        found = session.scalars(
            select(Workspace)
            .where(Workspace.name == name, Workspace.deleted_at.is_(None))
            .order_by(Workspace.created_at)
        ).first()
    if found is not None:
        return found, []
    return workspaces.create(ctx, SYSTEM, name), [Change("workspace", name, "created")]


def _actor(
    ctx: Control, kind: Kind, workspace_id: str, ref: NamedConnectorRef, default_name: str
) -> tuple[ActorView, Change]:
    name = ref.name or default_name
    definition = _definition(ctx, kind, workspace_id, ref.type)
    config = typed_like_spec(ref.config, definitions.spec_of(definition))
    model = _MODELS[kind]
    with ctx.store.read() as session:
        row = session.scalars(
            select(model)
            .where(model.workspace_id == workspace_id, model.name == name, model.deleted_at.is_(None))
            .order_by(model.created_at)
        ).first()
    if row is None:
        view = actors.create(
            ctx,
            SYSTEM,
            kind,
            workspace_id=workspace_id,
            name=name,
            configuration=config,
            definition_id=definition.id,
        )
        return view, Change(kind, name, "created")
    if row.definition_id != definition.id:
        raise ConfigError(
            f"{kind} '{name}' exists with another connector type than '{ref.type}'",
            hint=f"Give the {kind} another name in the file, or delete the existing one first.",
            field=f"{kind}.type",
        )
    view = ActorView(row, definition)
    if actors.plain_config(ctx, view) == config:
        return view, Change(kind, name, "unchanged")
    updated = actors.update(ctx, SYSTEM, kind, row.id, configuration=config, replace=True)
    return updated, Change(kind, name, "updated")


def _definition(ctx: Control, kind: Kind, workspace_id: str, reference: str) -> Definition:
    """The built-in definition, or the workspace's definition of an external reference (made once)."""
    from ferry.engine.connectors import parse_reference, resolve

    with ctx.store.read() as session:
        try:
            return definitions.resolve(session, kind, workspace_id, None, reference)
        except UnprocessableError:
            if not parse_reference(reference).external:
                raise
    spec = resolve(reference, kind).spec()  # may install the connector: outside any transaction
    definition = Definition(
        id=str(uuid.uuid4()),
        kind=kind,
        name=reference,
        reference=reference,
        builtin=False,
        workspace_id=workspace_id,
        spec=to_obj(spec),
    )
    with ctx.store.write() as session:
        session.add(definition)
    return definition


def _connection(
    ctx: Control,
    name: str,
    source: ActorView,
    destination: ActorView,
    pipeline: ServerPipeline,
    *,
    rediscover: bool,
) -> Change:
    catalog = catalogs.catalog_of(ctx, source, use_cache=not rediscover)
    modes = connections.destination_modes(destination)
    configured = configure_catalog(catalog, pipeline.selections(), modes)
    configs = [_stream_config(s) for s in configured.streams]
    schedule = _schedule(pipeline.schedule)
    workspace_id = source.row.workspace_id
    with ctx.store.read() as session:
        row = session.scalars(
            select(Connection)
            .where(
                Connection.workspace_id == workspace_id,
                Connection.name == name,
                Connection.deleted_at.is_(None),
            )
            .order_by(Connection.created_at)
        ).first()
    naming = _naming(pipeline)
    if row is None:
        settings = ConnectionSettings(name=name, streams=configs, schedule=schedule, **naming)
        connections.create(ctx, SYSTEM, source.row.id, destination.row.id, settings)
        return Change("connection", name, "created")
    if (row.source_id, row.destination_id) != (source.row.id, destination.row.id):
        raise ConfigError(
            f"connection '{name}' exists between another source and destination",
            hint="A connection's source and destination cannot change: rename the pipeline, or delete "
            "the connection first.",
            field="name",
        )
    new_streams = streams.normalise(catalog, configs, modes) != row.streams
    new_schedule = not _same_schedule(row, schedule)
    new_naming = not _same_naming(row, pipeline)
    if not new_streams and not new_schedule and not new_naming:
        return Change("connection", name, "unchanged")
    settings = ConnectionSettings(
        streams=configs if new_streams else None,
        schedule=schedule if new_schedule else None,
        **(naming if new_naming else {}),
    )
    connections.update(ctx, SYSTEM, row.id, settings)
    return Change("connection", name, "updated")


def _naming(pipeline: ServerPipeline) -> dict[str, Any]:
    """The file's namespace definition and prefix as connection settings (a file's default is to keep
    the source's names, so the same file lands its streams in the same place on a server as with
    `ferry sync`)."""
    return {
        "namespace_definition": pipeline.namespace_definition.value,
        "namespace_format": pipeline.namespace_format,
        "prefix": pipeline.prefix,
    }


def _same_naming(row: Connection, pipeline: ServerPipeline) -> bool:
    custom = pipeline.namespace_definition is NamespaceDefinition.custom_format
    return (
        row.namespace_definition == pipeline.namespace_definition.value
        and row.prefix == pipeline.prefix
        and (not custom or row.namespace_format == pipeline.namespace_format)
    )


def _stream_config(stream: ConfiguredStream) -> dict[str, Any]:
    """A configured stream in the public API's stream-configuration shape."""
    config: dict[str, Any] = {
        "name": stream.stream.name,
        "namespace": stream.stream.namespace,
        "syncMode": _COMBINED[(stream.sync_mode, stream.destination_sync_mode)],
    }
    if stream.cursor_field:
        config["cursorField"] = list(stream.cursor_field)
    if stream.primary_key:
        config["primaryKey"] = [list(p) for p in stream.primary_key]
    return config


def _schedule(spec: Literal["manual"] | ScheduleSpec | None) -> Schedule:
    if not isinstance(spec, ScheduleSpec):
        return Schedule("manual")
    if spec.cron is not None:
        return Schedule("cron", spec.cron, spec.time_zone)
    units, unit = spec.interval() or (0, "")
    return Schedule("basic", units=units, time_unit=unit)


def _same_schedule(row: Connection, schedule: Schedule) -> bool:
    if row.schedule_type != schedule.type:
        return False
    if schedule.type == "cron":
        cron = parse_cron(schedule.cron_expression or "", schedule.time_zone)
        return (cron.expression, cron.time_zone) == (row.cron_expression, row.cron_time_zone)
    if schedule.type == "basic":
        return (schedule.units, schedule.time_unit) == (row.basic_units, row.basic_time_unit)
    return True


# -- export ------------------------------------------------------------------------------------


def export(ctx: Control, directory: Path, workspace: str | None = None) -> list[Exported]:
    """Writes one pipeline file per connection (of one workspace, by name, or of all)."""
    directory.mkdir(parents=True, exist_ok=True)
    out: list[Exported] = []
    used: set[str] = set()
    for document, variables in _documents(ctx, workspace):
        stem = files.slug(document["name"])
        if stem in used:
            stem = f"{stem}-{files.slug(document['workspace'])}"
        used.add(stem)
        path = directory / f"{stem}.yaml"
        path.write_text(files.dump(document), encoding="utf-8")
        out.append(Exported(path, variables))
    return out


def _documents(ctx: Control, workspace: str | None) -> list[tuple[dict[str, Any], list[str]]]:
    with ctx.store.read() as session:
        statement = (
            select(Connection, Workspace.name)
            .join(Workspace, Workspace.id == Connection.workspace_id)
            .where(Connection.deleted_at.is_(None), Workspace.deleted_at.is_(None))
            .order_by(Workspace.name, Connection.name, Connection.id)
        )
        if workspace is not None:
            statement = statement.where(Workspace.name == workspace)
        rows = list(session.execute(statement))
        documents = []
        for connection, workspace_name in rows:
            variables: list[str] = []
            parts = {}
            for kind, actor_id in (
                ("source", connection.source_id),
                ("destination", connection.destination_id),
            ):
                view = actors.load(session, SYSTEM, kind, actor_id)  # type: ignore[arg-type]
                parts[kind] = _connector_document(view, connection.name, kind, variables)
            documents.append((_document(connection, workspace_name, parts), variables))
    return documents


def _document(connection: Connection, workspace: str, parts: dict[str, Any]) -> dict[str, Any]:
    document = {
        "name": connection.name,
        "workspace": workspace,
        "schedule": _schedule_document(connection),
        "source": parts["source"],
        "destination": parts["destination"],
        "streams": [_stream_document(s) for s in connection.streams],
    }
    # Written only when they differ from a file's defaults, which keep the source's names.
    if connection.namespace_definition != NamespaceDefinition.source.value:
        document["namespace_definition"] = connection.namespace_definition
    if connection.namespace_definition == NamespaceDefinition.custom_format.value:
        document["namespace_format"] = connection.namespace_format
    if connection.prefix:
        document["prefix"] = connection.prefix
    return document


def _connector_document(
    view: ActorView, connection_name: str, kind: str, variables: list[str]
) -> dict[str, Any]:
    document: dict[str, Any] = {"type": view.definition.reference}
    if view.row.name != connection_name:
        document["name"] = view.row.name
    document["config"] = _placeholders(view.masked_configuration, (connection_name, kind), variables)
    return document


def _placeholders(value: Any, path: Sequence[str], variables: list[str]) -> Any:
    """The masked config with each secret replaced by a ${VAR} placeholder (named after its path)."""
    if isinstance(value, Mapping):
        return {k: _placeholders(v, (*path, str(k)), variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, (*path, str(i)), variables) for i, v in enumerate(value)]
    if value == MASK:
        name = files.env_name(*path)
        variables.append(name)
        return f"${{{name}}}"
    return value


def _schedule_document(row: Connection) -> Any:
    if row.schedule_type == "cron":
        return {"cron": row.cron_expression, "time_zone": row.cron_time_zone or "UTC"}
    if row.schedule_type == "basic":
        return {"every": f"{row.basic_units} {row.basic_time_unit}"}
    return "manual"


def _stream_document(config: Mapping[str, Any]) -> dict[str, Any]:
    sync, destination = streams.SYNC_MODES[config.get("syncMode") or streams.DEFAULT_MODE]
    document: dict[str, Any] = {"name": config["name"]}
    if config.get("namespace"):
        document["namespace"] = config["namespace"]
    document["sync_mode"] = sync.value
    document["destination_sync_mode"] = destination.value
    if config.get("cursorField"):
        document["cursor_field"] = list(config["cursorField"])
    if config.get("primaryKey"):
        document["primary_key"] = [list(p) for p in config["primaryKey"]]
    return document
