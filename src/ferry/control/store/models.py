"""The config store's tables as SQLAlchemy 2 models. Ids are UUID text, except jobs and attempts (int64).

Deleting a workspace, source, destination or connection marks it (`deleted_at`) so that job history
keeps its references; lists leave marked rows out unless asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ferry.control.store.types import BigId, UTCDateTime, utc_now

ACTIVE_JOB_STATUSES = ("pending", "running", "incomplete")
_ACTIVE_JOB_SQL = "status IN ('pending', 'running', 'incomplete')"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class _Stamped:
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Workspace(_Stamped, Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    data_residency: Mapped[str] = mapped_column(String(64), default="auto")
    notifications: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class User(_Stamped, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)


class Application(Base):
    """A client id and hashed secret that a user exchanges for tokens."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    client_id: Mapped[str] = mapped_column(String(128), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Membership(Base):
    """A user's role in a workspace: admin, editor, runner or reader."""

    __tablename__ = "memberships"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))


class Definition(_Stamped, Base):
    """A kind of connector: a built-in one found in the registry, or an external reference."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("kind", "workspace_id", "name", name="uq_definitions_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # source | destination
    name: Mapped[str] = mapped_column(String(256))
    reference: Mapped[str] = mapped_column(String(512))  # registry name, pypi:..., docker:..., command:...
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    workspace_id: Mapped[str | None] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    docker_repository: Mapped[str | None] = mapped_column(String(512))
    docker_image_tag: Mapped[str | None] = mapped_column(String(128))
    documentation_url: Mapped[str | None] = mapped_column(String(1024))
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


def _listed(table: str) -> Index:
    """The index a workspace's list query walks: its filter, then its order (created_at, id), so a
    page is read from the index in order instead of sorting every row of the workspace."""
    return Index(f"ix_{table}_workspace_created", "workspace_id", "created_at", "id")


class Actor(_Stamped):
    """What sources and destinations share."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    definition_id: Mapped[str] = mapped_column(ForeignKey("definitions.id"))
    name: Mapped[str] = mapped_column(String(256))
    configuration: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The connector config with every secret value replaced by its encrypted form."""
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Source(Actor, Base):
    __tablename__ = "sources"
    __table_args__ = (_listed("sources"),)

    catalog: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """The last discovered catalog (protocol JSON), so that connection checks need not rediscover."""
    catalog_at: Mapped[datetime | None] = mapped_column(default=None)


class Destination(Actor, Base):
    __tablename__ = "destinations"
    __table_args__ = (_listed("destinations"),)


class Connection(_Stamped, Base):
    __tablename__ = "connections"
    __table_args__ = (_listed("connections"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    destination_id: Mapped[str] = mapped_column(ForeignKey("destinations.id"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | inactive | deprecated
    streams: Mapped[list[Any]] = mapped_column(default=list)
    """Stream configurations in the public API's shape: name, namespace, syncMode, cursorField, ..."""
    schedule_type: Mapped[str] = mapped_column(String(16), default="manual")  # manual | basic | cron
    cron_expression: Mapped[str | None] = mapped_column(String(256))
    cron_time_zone: Mapped[str | None] = mapped_column(String(64))
    basic_units: Mapped[int | None] = mapped_column(Integer)
    basic_time_unit: Mapped[str | None] = mapped_column(String(16))  # minutes | hours | days | weeks | months
    next_run_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    namespace_definition: Mapped[str] = mapped_column(String(32), default="destination")
    namespace_format: Mapped[str | None] = mapped_column(String(256))
    prefix: Mapped[str] = mapped_column(String(256), default="")
    non_breaking_changes: Mapped[str] = mapped_column(String(32), default="ignore")
    fence: Mapped[int] = mapped_column(Integer, default=0)
    """Raised for each new attempt and each cancel: only the attempt holding the current value saves state."""
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class ConnectionState(Base):
    """The connection's engine state (ferry.engine ConnectionState JSON), one row per connection."""

    __tablename__ = "connection_states"

    connection_id: Mapped[str] = mapped_column(ForeignKey("connections.id"), primary_key=True)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Job(_Stamped, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # At most one pending or running job per connection, enforced by the database for every server.
        Index(
            "uq_jobs_one_active",
            "connection_id",
            unique=True,
            sqlite_where=text(_ACTIVE_JOB_SQL),
            postgresql_where=text(_ACTIVE_JOB_SQL),
        ),
        # A scheduled run is created once per due time, even by two schedulers.
        UniqueConstraint("connection_id", "scheduled_for", name="uq_jobs_due"),
        # The job lists: by workspace, by connection, or all (an admin's default), each in its order.
        Index("ix_jobs_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_jobs_connection_created", "connection_id", "created_at", "id"),
        Index("ix_jobs_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("connections.id"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    job_type: Mapped[str] = mapped_column(String(16))  # sync | reset | clear | refresh
    status: Mapped[str] = mapped_column(String(16), default="pending")
    scheduled_for: Mapped[datetime | None] = mapped_column(default=None)
    streams: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    """For clear/reset: the stream descriptors to clear (None means all)."""
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class Attempt(_Stamped, Base):
    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("job_id", "number", name="uq_attempts_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | failed | succeeded
    fence: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(256))
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    log_path: Mapped[str | None] = mapped_column(Text)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class StreamStats(Base):
    """Per-stream counts of one attempt; the empty string stands for 'no namespace' in the key."""

    __tablename__ = "stream_stats"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True)
    stream_name: Mapped[str] = mapped_column(String(512), primary_key=True)
    stream_namespace: Mapped[str] = mapped_column(String(512), primary_key=True, default="")
    records_emitted: Mapped[int] = mapped_column(BigId, default=0)
    bytes_emitted: Mapped[int] = mapped_column(BigId, default=0)
    records_committed: Mapped[int] = mapped_column(BigId, default=0)
    bytes_committed: Mapped[int] = mapped_column(BigId, default=0)
    duration_ms: Mapped[int] = mapped_column(BigId, default=0)


class AttemptLog(Base):
    """A finished attempt's log (as written, secrets masked) in numbered pieces, so that a server that did
    not run the attempt can show it; at most the log's tail is kept (see services.logs)."""

    __tablename__ = "attempt_logs"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
