"""Workspaces: create, read, list, rename, delete. A non-admin who creates one becomes its admin."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session

from ferry.control.errors import ConflictError, NotFoundError
from ferry.control.services.context import Control, Principal
from ferry.control.services.paging import Page, fetch
from ferry.control.store.models import (
    ACTIVE_JOB_STATUSES,
    Connection,
    Destination,
    Job,
    Membership,
    Source,
    Workspace,
)
from ferry.control.store.types import utc_now


def create(ctx: Control, who: Principal, name: str, notifications: dict[str, Any] | None = None) -> Workspace:
    workspace = Workspace(id=str(uuid.uuid4()), name=name, notifications=notifications or {})
    with ctx.store.write() as session:
        session.add(workspace)
        if not who.is_admin:
            session.flush()
            session.add(Membership(user_id=who.user_id, workspace_id=workspace.id, role="admin"))
    return workspace


def get(ctx: Control, who: Principal, workspace_id: str) -> Workspace:
    with ctx.store.read() as session:
        return load(session, who, workspace_id)


def load(session: Session, who: Principal, workspace_id: str, role: str = "reader") -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None or workspace.deleted_at is not None:
        raise NotFoundError("workspace", workspace_id)
    who.require(workspace_id, role, "workspace", workspace_id)
    return workspace


def list_(
    ctx: Control, who: Principal, ids: Sequence[str], include_deleted: bool, page: Page
) -> list[Workspace]:
    statement = select(Workspace).order_by(Workspace.created_at, Workspace.id)
    if ids:
        statement = statement.where(Workspace.id.in_(ids))
    if not who.is_admin:
        statement = statement.where(Workspace.id.in_(list(who.roles)))
    if not include_deleted:
        statement = statement.where(Workspace.deleted_at.is_(None))
    with ctx.store.read() as session:
        return fetch(session, statement, page)


def update(
    ctx: Control, who: Principal, workspace_id: str, name: str | None, notifications: dict[str, Any] | None
) -> Workspace:
    with ctx.store.write() as session:
        workspace = load(session, who, workspace_id, "admin")
        if name is not None:
            workspace.name = name
        if notifications is not None:
            workspace.notifications = notifications
    return workspace


def delete(ctx: Control, who: Principal, workspace_id: str) -> None:
    """Marks the workspace and everything in it deleted; refused while one of its jobs is running."""
    with ctx.store.write() as session:
        workspace = load(session, who, workspace_id, "admin")
        running = session.scalar(
            select(Job.id)
            .where(Job.workspace_id == workspace_id, Job.status.in_(ACTIVE_JOB_STATUSES))
            .limit(1)
        )
        if running is not None:
            raise ConflictError(
                f"workspace {workspace_id} has a running job ({running})",
                hint="Cancel it or wait for it to finish, then delete the workspace.",
            )
        now = utc_now()
        for model in (Connection, Source, Destination):
            session.execute(
                sa_update(model)
                .where(model.workspace_id == workspace_id, model.deleted_at.is_(None))
                .values(deleted_at=now)
            )
        workspace.deleted_at = now
