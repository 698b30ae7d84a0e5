"""What every use case gets: the store, secrets and settings (`Control`), and who is asking (`Principal`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ferry.control.errors import ForbiddenError, NotFoundError
from ferry.control.secrets import SecretBox
from ferry.control.settings import Settings
from ferry.control.store.db import Store

if TYPE_CHECKING:
    from ferry.control.executor import Executor

ROLES = ("reader", "runner", "editor", "admin")
"""Workspace roles, each allowed what the ones before it may do, and more."""


@dataclass
class Control:
    store: Store
    box: SecretBox
    settings: Settings
    executor: Executor | None = None

    def submit(self, job_id: int) -> None:
        if self.executor is not None:
            self.executor.submit(job_id)

    def cancel(self, job_id: int) -> None:
        if self.executor is not None:
            self.executor.cancel(job_id)


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller: an instance admin sees every workspace; anyone else only those they have a role in."""

    user_id: str
    is_admin: bool = False
    roles: Mapping[str, str] = field(default_factory=dict)

    def sees(self, workspace_id: str) -> bool:
        return self.is_admin or workspace_id in self.roles

    def require(self, workspace_id: str, role: str, kind: str, object_id: object) -> None:
        """NotFound if the workspace is not visible (hidden existence); Forbidden if the role is too low."""
        if self.is_admin:
            return
        held = self.roles.get(workspace_id)
        if held is None:
            raise NotFoundError(kind, object_id)
        if ROLES.index(held) < ROLES.index(role):
            raise ForbiddenError(
                f"your role '{held}' in this workspace does not allow this; it needs '{role}'"
            )


SYSTEM = Principal("system", is_admin=True)
"""The scheduler and executors act as this principal."""
