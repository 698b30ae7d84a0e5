"""The real `airbyte-api` SDK (0.53.0) drives a running `ferry serve` through a connection's whole life."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest
from airbyte_api import AirbyteAPI, api, models
from airbyte_api._hooks.clientcredentials import ClientCredentialsHook

from tests.control.conftest import ADMIN_ID, ADMIN_SECRET, Server

# The SDK decodes `configuration` into a union of Airbyte's own connector models and warns when a
# Ferry connector's config matches none of them; the raw JSON is intact (reference section 4.3).
pytestmark = pytest.mark.filterwarnings("ignore:Failed to decode:UserWarning")


def _sdk(server: Server) -> AirbyteAPI:
    # The SDK caches tokens per client id for the whole process; each test server has its own keys.
    ClientCredentialsHook.sessions.clear()
    security = models.Security(
        client_credentials=models.SchemeClientCredentials(
            client_id=ADMIN_ID, client_secret=ADMIN_SECRET, token_url=f"{server.public}/applications/token"
        )
    )
    return AirbyteAPI(server_url=server.public, security=security)


def test_sdk_lifecycle(server: Server, tmp_path: Path) -> None:
    sdk = _sdk(server)
    assert sdk.health.get_health_check().status_code == 200

    workspace = sdk.workspaces.create_workspace(
        models.WorkspaceCreateRequest(name="sdk lifecycle")
    ).workspace_response
    assert workspace is not None
    assert workspace.name == "sdk lifecycle"

    source = sdk.sources.create_source(
        models.SourceCreateRequest(
            name="sample",
            workspace_id=workspace.workspace_id,
            configuration={"sourceType": "sample-data", "count": 30},
        )
    ).source_response
    assert source is not None
    assert source.source_type == "sample-data"

    warehouse = tmp_path / "warehouse.duckdb"
    destination = sdk.destinations.create_destination(
        models.DestinationCreateRequest(
            name="duck",
            workspace_id=workspace.workspace_id,
            configuration={"destinationType": "duckdb", "path": str(warehouse)},
        )
    ).destination_response
    assert destination is not None

    streams = sdk.streams.get_stream_properties(
        api.GetStreamPropertiesRequest(source_id=source.source_id)
    ).stream_properties_response
    assert streams is not None
    assert {s.stream_name for s in streams} == {"users", "products", "purchases"}

    connection = sdk.connections.create_connection(
        models.ConnectionCreateRequest(
            source_id=source.source_id,
            destination_id=destination.destination_id,
            name="sample to duck",
            configurations=models.StreamConfigurations(
                streams=[
                    models.StreamConfiguration(
                        name="users", sync_mode=models.ConnectionSyncModeEnum.INCREMENTAL_DEDUPED_HISTORY
                    ),
                    models.StreamConfiguration(
                        name="products", sync_mode=models.ConnectionSyncModeEnum.FULL_REFRESH_OVERWRITE
                    ),
                ]
            ),
        )
    ).connection_response
    assert connection is not None
    assert connection.status == models.ConnectionStatusEnum.ACTIVE
    assert connection.schedule.schedule_type == models.ScheduleTypeWithBasicEnum.MANUAL
    assert [s.name for s in connection.configurations.streams] == ["users", "products"]
    assert connection.configurations.streams[0].primary_key == [["id"]]

    job = sdk.jobs.create_job(
        models.JobCreateRequest(connection_id=connection.connection_id, job_type=models.JobTypeEnum.SYNC)
    ).job_response
    assert job is not None
    deadline = time.monotonic() + 60
    while (
        job.status in (models.JobStatusEnum.PENDING, models.JobStatusEnum.RUNNING)
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
        job = sdk.jobs.get_job(api.GetJobRequest(job_id=job.job_id)).job_response
        assert job is not None
    assert job.status == models.JobStatusEnum.SUCCEEDED
    assert job.rows_synced == 60
    assert job.last_updated_at

    listed = sdk.jobs.list_jobs(api.ListJobsRequest(connection_id=connection.connection_id)).jobs_response
    assert listed is not None
    assert [j.job_id for j in listed.data] == [job.job_id]

    with duckdb.connect(str(warehouse), read_only=True) as db:
        assert db.execute("select count(*) from main.users").fetchone() == (30,)

    patched = sdk.connections.patch_connection(
        api.PatchConnectionRequest(
            connection_id=connection.connection_id,
            connection_patch_request=models.ConnectionPatchRequest(
                schedule=models.AirbyteAPIConnectionSchedule(
                    schedule_type=models.ScheduleTypeEnum.CRON, cron_expression="0 0 12 * * ?"
                )
            ),
        )
    ).connection_response
    assert patched is not None
    assert patched.schedule.schedule_type == models.ScheduleTypeWithBasicEnum.CRON
    assert patched.schedule.cron_expression == "0 0 12 * * ? UTC"

    for response in (
        sdk.connections.delete_connection(
            api.DeleteConnectionRequest(connection_id=connection.connection_id)
        ),
        sdk.sources.delete_source(api.DeleteSourceRequest(source_id=source.source_id)),
        sdk.destinations.delete_destination(
            api.DeleteDestinationRequest(destination_id=destination.destination_id)
        ),
        sdk.workspaces.delete_workspace(api.DeleteWorkspaceRequest(workspace_id=workspace.workspace_id)),
    ):
        assert response.status_code == 204
    left = sdk.sources.list_sources(
        api.ListSourcesRequest(workspace_ids=[workspace.workspace_id])
    ).sources_response
    assert left is not None
    assert left.data == []


def test_sdk_default_token_url_resolves_to_host_root(server: Server) -> None:
    # Without token_url the SDK posts to the relative /applications/token, i.e. the host root.
    ClientCredentialsHook.sessions.clear()
    security = models.Security(
        client_credentials=models.SchemeClientCredentials(client_id=ADMIN_ID, client_secret=ADMIN_SECRET)
    )
    sdk = AirbyteAPI(server_url=server.public, security=security)
    listed = sdk.workspaces.list_workspaces(api.ListWorkspacesRequest()).workspaces_response
    assert listed is not None


def test_sdk_raises_on_conflict_with_the_409_body(server: Server, tmp_path: Path) -> None:
    from airbyte_api.errors import SDKError

    sdk = _sdk(server)
    with pytest.raises(SDKError) as caught:
        sdk.jobs.create_job(
            models.JobCreateRequest(connection_id="no-such-connection", job_type=models.JobTypeEnum.SYNC)
        )
    assert caught.value.status_code == 404
