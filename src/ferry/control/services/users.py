"""Users, their client credentials and workspace roles; the first admin is made on first start."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import func, select

from ferry.control import auth
from ferry.control.errors import InvalidInputError
from ferry.control.services.context import ROLES, Control, Principal
from ferry.control.store.models import Application, Membership, User


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: str
    client_id: str
    client_secret: str


def create_user(
    ctx: Control, name: str, *, is_admin: bool = False, roles: Mapping[str, str] | None = None
) -> Credentials:
    """A user with one application (client id + secret); the secret is returned here and never again."""
    for workspace_id, role in (roles or {}).items():
        if role not in ROLES:
            raise InvalidInputError(f"unknown role '{role}' for workspace {workspace_id}", field="role")
    user = User(id=str(uuid.uuid4()), name=name, is_admin=is_admin)
    client_id, secret = auth.new_client_id(), auth.new_client_secret()
    with ctx.store.write() as session:
        session.add(user)
        session.flush()
        session.add(_application(user.id, name, client_id, secret))
        for workspace_id, role in (roles or {}).items():
            session.add(Membership(user_id=user.id, workspace_id=workspace_id, role=role))
    return Credentials(user.id, client_id, secret)


def grant(ctx: Control, user_id: str, workspace_id: str, role: str) -> None:
    if role not in ROLES:
        raise InvalidInputError(f"unknown role '{role}'", field="role")
    with ctx.store.write() as session:
        membership = session.get(Membership, (user_id, workspace_id))
        if membership is None:
            session.add(Membership(user_id=user_id, workspace_id=workspace_id, role=role))
        else:
            membership.role = role


def _application(user_id: str, name: str, client_id: str, secret: str) -> Application:
    return Application(
        id=str(uuid.uuid4()),
        user_id=user_id,
        name=name,
        client_id=client_id,
        secret_hash=auth.hash_secret(secret),
    )


def bootstrap_admin(ctx: Control, out: TextIO | None = None) -> None:
    """On first start, make the admin: from FERRY_ADMIN_CLIENT_ID/SECRET, or generated and printed once.

    With the environment variables set, their secret is (re)applied on every start, so rotating it
    is a restart.
    """
    settings = ctx.settings
    if settings.admin_client_id and settings.admin_client_secret:
        _apply_env_admin(ctx, settings.admin_client_id, settings.admin_client_secret)
        return
    with ctx.store.write() as session:
        if session.scalar(select(func.count()).select_from(User).where(User.is_admin.is_(True))):
            return
        user = User(id=str(uuid.uuid4()), name="admin", is_admin=True)
        session.add(user)
        session.flush()
        client_id, secret = auth.new_client_id(), auth.new_client_secret()
        session.add(_application(user.id, "admin", client_id, secret))
    _announce(out or sys.stderr, client_id, secret)


def _apply_env_admin(ctx: Control, client_id: str, secret: str) -> None:
    with ctx.store.write() as session:
        application = session.scalar(select(Application).where(Application.client_id == client_id))
        if application is not None:
            if not auth.verify_secret(secret, application.secret_hash):
                application.secret_hash = auth.hash_secret(secret)
            return
        user = User(id=str(uuid.uuid4()), name="admin", is_admin=True)
        session.add(user)
        session.flush()
        session.add(_application(user.id, "admin", client_id, secret))


def _announce(out: TextIO, client_id: str, secret: str) -> None:
    # Printed straight to the terminal, never through logging: it is shown this once and stored hashed.
    out.write(
        "\nFerry created the first admin. Keep these credentials; the secret is not shown again:\n"
        f"  client_id:     {client_id}\n"
        f"  client_secret: {secret}\n"
        "Get a token: POST /api/public/v1/applications/token with client_id and client_secret.\n"
        "To choose them yourself, set FERRY_ADMIN_CLIENT_ID and FERRY_ADMIN_CLIENT_SECRET.\n\n"
    )
    out.flush()


def authenticate(ctx: Control, client_id: str, secret: str) -> str | None:
    """The user id owning these credentials, or None."""
    with ctx.store.read() as session:
        application = session.scalar(select(Application).where(Application.client_id == client_id))
    if application is None or not auth.verify_secret(secret, application.secret_hash):
        return None
    return application.user_id


def principal(ctx: Control, user_id: str) -> Principal | None:
    with ctx.store.read() as session:
        user = session.get(User, user_id)
        if user is None:
            return None
        rows = session.execute(
            select(Membership.workspace_id, Membership.role).where(Membership.user_id == user_id)
        )
        roles = {str(w): str(r) for w, r in rows}
    return Principal(user.id, user.is_admin, roles)
