"""/jobs: trigger a sync or a clear, list with filters and order, get, cancel (DELETE answers 200)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from ferry.control.api import models as m
from ferry.control.api.deps import Caller, Ctx, IdsQuery, JobIdPath, Paging, id_list, page_links
from ferry.control.api.public import views
from ferry.control.services import jobs
from ferry.control.services.jobs import JobFilter

router = APIRouter(tags=["Jobs"])
Moment = Annotated[datetime | None, Query(description="ISO date-time, e.g. 2024-01-01T00:00:00Z")]


@router.post("/jobs", response_model=m.JobResponse, operation_id="createJob")
def create_job(body: m.JobCreateRequest, ctx: Ctx, who: Caller) -> m.JobResponse:
    return views.job(jobs.create(ctx, who, body.connection_id, body.job_type))


@router.get("/jobs", response_model=m.JobsResponse, operation_id="listJobs")
def list_jobs(
    *,
    request: Request,
    ctx: Ctx,
    who: Caller,
    page: Paging,
    connection_id: Annotated[
        str | None, Query(alias="connectionId", max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    ] = None,
    workspace_ids: IdsQuery = None,
    job_type: Annotated[m.JobType | None, Query(alias="jobType")] = None,
    status: Annotated[m.JobStatus | None, Query()] = None,
    created_at_start: Annotated[datetime | None, Query(alias="createdAtStart")] = None,
    created_at_end: Annotated[datetime | None, Query(alias="createdAtEnd")] = None,
    updated_at_start: Annotated[datetime | None, Query(alias="updatedAtStart")] = None,
    updated_at_end: Annotated[datetime | None, Query(alias="updatedAtEnd")] = None,
    order_by: Annotated[
        str, Query(alias="orderBy", max_length=64, description="field|ASC or field|DESC")
    ] = "createdAt|ASC",
) -> m.JobsResponse:
    filters = JobFilter(
        connection_id=connection_id,
        workspace_ids=id_list(workspace_ids, "workspaceIds"),
        job_type=job_type,
        status=status,
        created_from=_utc(created_at_start),
        created_to=_utc(created_at_end),
        updated_from=_utc(updated_at_start),
        updated_to=_utc(updated_at_end),
        order_by=order_by,
    )
    found = jobs.list_(ctx, who, filters, page)
    following, preceding = page_links(request, page, len(found))
    return m.JobsResponse(data=[views.job(v) for v in found], next=following, previous=preceding)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/jobs/{jobId}", response_model=m.JobResponse, operation_id="getJob")
def get_job(job_id: JobIdPath, ctx: Ctx, who: Caller) -> m.JobResponse:
    return views.job(jobs.get(ctx, who, job_id))


@router.delete("/jobs/{jobId}", response_model=m.JobResponse, operation_id="cancelJob")
def cancel_job(job_id: JobIdPath, ctx: Ctx, who: Caller) -> m.JobResponse:
    return views.job(jobs.cancel(ctx, who, job_id))
