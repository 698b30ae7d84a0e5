"""Builds store objects through the services, as the API would, for tests that work below HTTP."""

from __future__ import annotations

from pathlib import Path

from ferry.control.services import actors, connections, workspaces
from ferry.control.services.connections import Settings
from ferry.control.services.context import SYSTEM, Control
from ferry.control.store.models import Connection


def make_connection(ctx: Control, tmp: Path, count: int = 20) -> Connection:
    workspace = workspaces.create(ctx, SYSTEM, "store test")
    source = actors.create(
        ctx,
        SYSTEM,
        "source",
        workspace_id=workspace.id,
        name="s",
        configuration={"sourceType": "sample-data", "count": count},
    )
    destination = actors.create(
        ctx,
        SYSTEM,
        "destination",
        workspace_id=workspace.id,
        name="d",
        configuration={"destinationType": "duckdb", "path": str(tmp / "w.duckdb")},
    )
    return connections.create(
        ctx, SYSTEM, source.row.id, destination.row.id, Settings(streams=[{"name": "users"}])
    )
