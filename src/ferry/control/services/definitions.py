"""Connector definitions: the built-ins found in the connector registry, and workspace-level external ones."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ferry import __version__
from ferry.connectors import registry
from ferry.control.errors import NotFoundError, UnprocessableError
from ferry.control.store.models import Definition

Kind = Literal["source", "destination"]
_NAMESPACE = uuid.UUID("6f1d0c2e-4a55-4e0b-9f57-1d4b0f3c9a11")


def builtin_id(kind: Kind, name: str) -> str:
    """The same id for a built-in on every Ferry install, so that scripts can name it."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def sync_builtins(session: Session) -> None:
    """Adds a definition for every connector in the registry that has none yet."""
    known = set(session.scalars(select(Definition.id).where(Definition.builtin.is_(True))))
    for kind in ("source", "destination"):
        for name in registry.names(kind):
            definition_id = builtin_id(kind, name)
            if definition_id in known:
                continue
            session.add(
                Definition(
                    id=definition_id,
                    kind=kind,
                    name=name,
                    reference=name,
                    builtin=True,
                    docker_repository=f"ferry/{kind}-{name}",
                    docker_image_tag=__version__,
                )
            )


def resolve(
    session: Session, kind: Kind, workspace_id: str, definition_id: str | None, type_name: Any
) -> Definition:
    """The definition named by id, or else by the `sourceType` / `destinationType` short name."""
    type_key = f"{kind}Type"
    if definition_id:
        found = session.get(Definition, definition_id)
        if found is None or found.kind != kind or found.workspace_id not in (None, workspace_id):
            raise NotFoundError(f"{kind} definition", definition_id, field="definitionId")
        return found
    if not isinstance(type_name, str) or not type_name:
        raise UnprocessableError(
            f"configuration.{type_key} is missing, and no definitionId was given",
            hint=f"Set configuration.{type_key} to one of: {', '.join(registry.names(kind))}.",
            field=f"configuration.{type_key}",
        )
    match = session.scalars(
        select(Definition).where(
            Definition.kind == kind,
            Definition.reference == type_name,
            or_(Definition.workspace_id.is_(None), Definition.workspace_id == workspace_id),
        )
    ).first()
    if match is None:
        raise UnprocessableError(
            f"unknown {kind} type '{type_name}'",
            hint=f"Known {kind}s: {', '.join(registry.names(kind))}.",
            field=f"configuration.{type_key}",
        )
    return match


def spec_of(definition: Definition) -> dict[str, Any]:
    """The connection specification (JSON schema) of a definition's connector; {} when unknown."""
    if definition.builtin:
        return dict(_builtin_spec(definition.kind, definition.reference))
    return dict((definition.spec or {}).get("connectionSpecification") or {})


@cache
def _builtin_spec(kind: str, name: str) -> dict[str, Any]:
    connector = registry.source(name) if kind == "source" else registry.destination(name)
    return dict(connector.spec().connection_specification)


def list_visible(session: Session, kind: Kind, workspace_id: str) -> list[Definition]:
    statement = select(Definition).where(
        Definition.kind == kind,
        or_(Definition.workspace_id.is_(None), Definition.workspace_id == workspace_id),
    )
    return list(session.scalars(statement.order_by(Definition.name)))
