"""Request and response bodies of the public API, with Airbyte's camelCase names and enum spellings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _no_nul(value: str) -> str:
    # Postgres text cannot hold NUL; refuse it here rather than fail in the store.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul), Field(max_length=256)]
Name = Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=256)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
SyncModeName = Literal[
    "full_refresh_overwrite",
    "full_refresh_overwrite_deduped",
    "full_refresh_append",
    "full_refresh_update",
    "full_refresh_soft_delete",
    "incremental_append",
    "incremental_deduped_history",
    "incremental_update",
    "incremental_soft_delete",
]
NamespaceDefinition = Literal["source", "destination", "custom_format"]
NonBreaking = Literal["ignore", "disable_connection", "propagate_columns", "propagate_fully"]
ConnectionStatus = Literal["active", "inactive", "deprecated"]
JobType = Literal["sync", "reset", "refresh", "clear"]
JobStatus = Literal["pending", "running", "incomplete", "failed", "succeeded", "cancelled"]
Path_ = Annotated[list[Annotated[str, AfterValidator(_no_nul), Field(max_length=256)]], Field(max_length=32)]


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


# -- workspaces ---------------------------------------------------------------------------------


class WorkspaceCreateRequest(Model):
    name: Name
    organization_id: Text | None = None
    region_id: Text | None = None
    notifications: dict[str, Any] | None = None


class WorkspaceUpdateRequest(Model):
    name: Name | None = None
    region_id: Text | None = None
    notifications: dict[str, Any] | None = None


class WorkspaceResponse(Model):
    workspace_id: str
    name: str
    data_residency: str
    notifications: dict[str, Any]


class WorkspacesResponse(Model):
    data: list[WorkspaceResponse]
    next: str = ""
    previous: str = ""


# -- sources and destinations --------------------------------------------------------------------


class SourceCreateRequest(Model):
    name: Name
    workspace_id: Id
    configuration: dict[str, Any]
    definition_id: Id | None = None
    secret_id: Text | None = None


class SourcePatchRequest(Model):
    name: Name | None = None
    configuration: dict[str, Any] | None = None
    workspace_id: Id | None = None
    secret_id: Text | None = None


class SourcePutRequest(Model):
    name: Name
    configuration: dict[str, Any]


class SourceResponse(Model):
    source_id: str
    name: str
    source_type: str
    definition_id: str
    workspace_id: str
    configuration: dict[str, Any]
    created_at: int


class SourcesResponse(Model):
    data: list[SourceResponse]
    next: str = ""
    previous: str = ""


class DestinationCreateRequest(Model):
    name: Name
    workspace_id: Id
    configuration: dict[str, Any]
    definition_id: Id | None = None


class DestinationPatchRequest(Model):
    name: Name | None = None
    configuration: dict[str, Any] | None = None


class DestinationPutRequest(Model):
    name: Name
    configuration: dict[str, Any]


class DestinationResponse(Model):
    destination_id: str
    name: str
    destination_type: str
    definition_id: str
    workspace_id: str
    configuration: dict[str, Any]
    created_at: int


class DestinationsResponse(Model):
    data: list[DestinationResponse]
    next: str = ""
    previous: str = ""


# -- connections ---------------------------------------------------------------------------------


class SelectedField(Model):
    field_path: Path_


class StreamConfiguration(Model):
    name: Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=1024)]
    namespace: Annotated[str, AfterValidator(_no_nul), Field(max_length=1024)] | None = None
    sync_mode: SyncModeName | None = None
    cursor_field: Path_ | None = None
    primary_key: Annotated[list[Path_], Field(max_length=32)] | None = None
    selected_fields: Annotated[list[SelectedField], Field(max_length=10_000)] | None = None


class StreamConfigurations(Model):
    streams: Annotated[list[StreamConfiguration], Field(max_length=10_000)] | None = None


class ConnectionSchedule(Model):
    schedule_type: Literal["manual", "cron"]
    cron_expression: Text | None = None


class ConnectionScheduleResponse(Model):
    schedule_type: Literal["manual", "cron", "basic"]
    cron_expression: str | None = None
    basic_timing: str | None = None


class ConnectionCreateRequest(Model):
    source_id: Id
    destination_id: Id
    name: Name | None = None
    configurations: StreamConfigurations | None = None
    schedule: ConnectionSchedule | None = None
    namespace_definition: NamespaceDefinition | None = None
    namespace_format: Text | None = None
    prefix: Text | None = None
    non_breaking_schema_updates_behavior: NonBreaking | None = None
    status: ConnectionStatus | None = None


class ConnectionPatchRequest(Model):
    name: Name | None = None
    configurations: StreamConfigurations | None = None
    schedule: ConnectionSchedule | None = None
    namespace_definition: NamespaceDefinition | None = None
    namespace_format: Text | None = None
    prefix: Text | None = None
    non_breaking_schema_updates_behavior: NonBreaking | None = None
    status: ConnectionStatus | None = None


class StreamConfigurationResponse(Model):
    name: str
    namespace: str | None = None
    sync_mode: SyncModeName
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    selected_fields: list[SelectedField] | None = None


class StreamConfigurationsResponse(Model):
    streams: list[StreamConfigurationResponse]


class ConnectionResponse(Model):
    connection_id: str
    name: str
    source_id: str
    destination_id: str
    workspace_id: str
    status: ConnectionStatus
    schedule: ConnectionScheduleResponse
    configurations: StreamConfigurationsResponse
    created_at: int
    tags: list[dict[str, Any]]
    namespace_definition: NamespaceDefinition
    namespace_format: str | None = None
    non_breaking_schema_updates_behavior: NonBreaking
    prefix: str


class ConnectionsResponse(Model):
    data: list[ConnectionResponse]
    next: str = ""
    previous: str = ""


# -- jobs and streams ----------------------------------------------------------------------------


class JobCreateRequest(Model):
    connection_id: Id
    job_type: JobType


class JobResponse(Model):
    job_id: int
    status: JobStatus
    job_type: JobType
    start_time: str
    connection_id: str
    last_updated_at: str | None = None
    duration: str | None = None
    bytes_synced: int | None = None
    rows_synced: int | None = None


class JobsResponse(Model):
    data: list[JobResponse]
    next: str = ""
    previous: str = ""


class StreamProperties(BaseModel):
    # Airbyte spells `streamnamespace` in lowercase; the model keeps its exact keys.
    streamName: str  # noqa: N815 - the wire name
    streamnamespace: str | None = None
    syncModes: list[SyncModeName]  # noqa: N815
    defaultCursorField: list[str] | None = None  # noqa: N815
    sourceDefinedCursorField: bool = False  # noqa: N815
    sourceDefinedPrimaryKey: list[list[str]] | None = None  # noqa: N815
    propertyFields: list[list[str]] = Field(default_factory=list)  # noqa: N815


# -- tokens --------------------------------------------------------------------------------------


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
