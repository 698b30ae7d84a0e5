"""/jobs/{jobId}/logs: an attempt's log, a page at a time (Ferry's addition; Airbyte's public API has none).

Pages are cut by byte offset: start at `offset=0` and follow `nextOffset` until `complete` is true
(while the attempt still runs, later calls from the same offset return what it wrote since).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from ferry.control.api.deps import Caller, Ctx, JobIdPath
from ferry.control.api.models import Model
from ferry.control.services import logs

router = APIRouter(tags=["Jobs"])


class JobLogsResponse(Model):
    job_id: int
    attempt_number: int = Field(description="The attempt whose log this is (0 is the first).")
    attempts: int = Field(description="How many attempts the job has.")
    offset: int = Field(description="Byte offset of the first line of this page.")
    next_offset: int = Field(description="Byte offset to ask for the next page.")
    size: int = Field(description="The log's size in bytes now.")
    complete: bool = Field(description="True when this page reaches the current end of the log.")
    lines: list[str]


@router.get(
    "/jobs/{jobId}/logs",
    response_model=JobLogsResponse,
    operation_id="getJobLogs",
)
def get_job_logs(
    *,
    job_id: JobIdPath,
    ctx: Ctx,
    who: Caller,
    attempt_number: Annotated[
        int | None, Query(alias="attemptNumber", ge=0, le=10_000, description="Default: the latest attempt.")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=2**62, description="Byte offset to start at.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=logs.MAX_PAGE_BYTES, description="Most bytes to return (whole lines).")
    ] = logs.DEFAULT_PAGE_BYTES,
) -> JobLogsResponse:
    page = logs.read_page(ctx, who, job_id, attempt_number=attempt_number, offset=offset, limit=limit)
    return JobLogsResponse(
        job_id=page.job_id,
        attempt_number=page.attempt_number,
        attempts=page.attempts,
        offset=page.offset,
        next_offset=page.next_offset,
        size=page.size,
        complete=page.complete,
        lines=page.lines,
    )
