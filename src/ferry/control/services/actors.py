"""Sources and destinations ("actors"): configured connectors in a workspace, secrets sealed at rest."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session

from ferry.cdk.spec import validate_config
from ferry.control import secrets
from ferry.control.errors import ConflictError, InvalidInputError, NotFoundError
from ferry.control.services import definitions, workspaces
from ferry.control.services.context import Control, Principal
from ferry.control.services.paging import Page, fetch
from ferry.control.store.models import (
    ACTIVE_JOB_STATUSES,
    Actor,
    Connection,
    Definition,
    Destination,
    Job,
    Source,
)
from ferry.control.store.types import utc_now
from ferry.errors import ConfigError

Kind = Literal["source", "destination"]
_MODELS: dict[str, type[Actor]] = {"source": Source, "destination": Destination}


@dataclass(frozen=True, slots=True)
class ActorView:
    """An actor with its definition, and its config as responses show it (secrets masked)."""

    row: Actor
    definition: Definition

    @property
    def masked_configuration(self) -> dict[str, Any]:
        return secrets.masked(self.row.configuration)


def create(
    ctx: Control,
    who: Principal,
    kind: Kind,
    *,
    workspace_id: str,
    name: str,
    configuration: Mapping[str, Any],
    definition_id: str | None = None,
) -> ActorView:
    config = dict(configuration)
    type_name = config.pop(f"{kind}Type", None)
    with ctx.store.write() as session:
        workspaces.load(session, who, workspace_id, "editor")
        definition = definitions.resolve(session, kind, workspace_id, definition_id, type_name)
        sealed = _sealed(ctx, definition, config, None)
        row = Source() if kind == "source" else Destination()
        row.id, row.workspace_id, row.definition_id = str(uuid.uuid4()), workspace_id, definition.id
        row.name, row.configuration = name, sealed
        session.add(row)
    return ActorView(row, definition)


def _sealed(
    ctx: Control, definition: Definition, config: dict[str, Any], stored: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The config to store, after checking the plain values against the connector's spec."""
    schema = definitions.spec_of(definition)
    sealed = ctx.box.seal(schema, config, stored)
    if schema:
        try:
            validate_config(schema, ctx.box.open(sealed), definition.name)
        except ConfigError as exc:
            field = f"configuration.{exc.field}" if exc.field else "configuration"
            raise InvalidInputError(exc.message, hint=exc.hint, field=field) from None
    return sealed


def load(session: Session, who: Principal, kind: Kind, actor_id: str, role: str = "reader") -> ActorView:
    row = session.get(_MODELS[kind], actor_id)
    if row is None or row.deleted_at is not None:
        raise NotFoundError(kind, actor_id)
    who.require(row.workspace_id, role, kind, actor_id)
    definition = session.get(Definition, row.definition_id)
    assert definition is not None
    return ActorView(row, definition)


def get(ctx: Control, who: Principal, kind: Kind, actor_id: str) -> ActorView:
    with ctx.store.read() as session:
        return load(session, who, kind, actor_id)


def list_(
    ctx: Control,
    who: Principal,
    kind: Kind,
    *,
    workspace_ids: Sequence[str],
    include_deleted: bool,
    page: Page,
) -> list[ActorView]:
    model = _MODELS[kind]
    statement = select(model).order_by(model.created_at, model.id)
    if workspace_ids:
        statement = statement.where(model.workspace_id.in_(workspace_ids))
    if not who.is_admin:
        statement = statement.where(model.workspace_id.in_(list(who.roles)))
    if not include_deleted:
        statement = statement.where(model.deleted_at.is_(None))
    with ctx.store.read() as session:
        rows: list[Actor] = list(fetch(session, statement, page))
        found = {
            d.id: d
            for d in session.scalars(
                select(Definition).where(Definition.id.in_({r.definition_id for r in rows}))
            )
        }
    return [ActorView(r, found[r.definition_id]) for r in rows]


def update(
    ctx: Control,
    who: Principal,
    kind: Kind,
    actor_id: str,
    *,
    name: str | None = None,
    configuration: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> ActorView:
    """PATCH merges the given top-level config keys into the stored config; PUT (`replace`) swaps it whole."""
    with ctx.store.write() as session:
        view = load(session, who, kind, actor_id, "editor")
        row = view.row
        if name is not None:
            row.name = name
        if configuration is not None:
            incoming = {k: v for k, v in configuration.items() if k != f"{kind}Type"}
            merged = incoming if replace else {**secrets.masked(row.configuration), **incoming}
            row.configuration = _sealed(ctx, view.definition, merged, row.configuration)
        row.updated_at = utc_now()
    return view


def delete(ctx: Control, who: Principal, kind: Kind, actor_id: str) -> None:
    """Marks the actor and the connections using it deleted; refused while one of those connections runs."""
    column = Connection.source_id if kind == "source" else Connection.destination_id
    with ctx.store.write() as session:
        view = load(session, who, kind, actor_id, "editor")
        users = select(Connection.id).where(column == actor_id)
        running = session.scalar(
            select(Job.id).where(Job.connection_id.in_(users), Job.status.in_(ACTIVE_JOB_STATUSES))
        )
        if running is not None:
            raise ConflictError(
                f"a connection using {kind} {actor_id} is running job {running}", hint="Cancel the job first."
            )
        now = utc_now()
        session.execute(
            sa_update(Connection)
            .where(column == actor_id, Connection.deleted_at.is_(None))
            .values(deleted_at=now)
        )
        view.row.deleted_at = now


def plain_config(ctx: Control, view: ActorView) -> dict[str, Any]:
    """The decrypted config, for running the connector only."""
    return ctx.box.open(view.row.configuration)
