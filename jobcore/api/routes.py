"""The routes whose schema does not depend on the registered job types."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from jobcore import audit
from jobcore.api.problems import responses_for
from jobcore.api.tokens import DB, Caller, single_query_values
from jobcore.api.wire import (
    AuditList,
    IsoDateTime,
    JobCreated,
    JobId,
    JobRecord,
    JobSummaryRecord,
    ProcessResult,
    Wire,
    summary_record,
)
from jobcore.classify import recovery
from jobcore.errors import (
    JobNotRunnable,
)
from jobcore.jobs import runner


class CancelBody(Wire):
    status: Literal["cancelled"]


_COMMON = responses_for(401, 403, 422, 503)
log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/api/admin/jobs/{job_id}/process", response_model=ProcessResult,
          responses={**_COMMON, **responses_for(404, 409)}, response_model_by_alias=True)
async def process(job_id: JobId, caller: Caller, db: DB) -> Response:
    """Process one chunk; 409 when another call holds the job or it has finished."""
    report = await run_in_threadpool(runner.process_chunk, job_id, engine=db,
                                     driven_by=f"{caller} (API)")
    result = ProcessResult(done=report.done, processed_items=report.processed_items,
                           total_items=report.total_items,
                           success_count=report.success_count,
                           error_count=report.error_count, skip_count=report.skip_count)
    # The hot path of a client's loop: serialised once here, not validated again.
    return Response(result.model_dump_json(by_alias=True), media_type="application/json")

@router.get("/api/admin/jobs/{job_id}", response_model=JobRecord,
         responses={**_COMMON, **responses_for(404)}, response_model_by_alias=True)
async def get_job(job_id: JobId, caller: Caller, db: DB) -> JobRecord:
    """The whole job record, errors and result included."""
    job = await run_in_threadpool(runner.get_job, job_id, engine=db)
    return JobRecord.model_validate(
        {name: getattr(job, name) for name in JobRecord.model_fields})

@router.patch("/api/admin/jobs/{job_id}", response_model=JobSummaryRecord,
           responses={**_COMMON, **responses_for(400, 404, 409)},
           response_model_by_alias=True)
async def cancel(job_id: JobId, body: CancelBody, caller: Caller,
                 db: DB) -> JobSummaryRecord:
    """Cancel the job (the only change allowed); it takes effect between chunks."""
    return summary_record(await run_in_threadpool(runner.cancel_job, job_id,
                                                   by=caller, engine=db))

@router.post("/api/admin/jobs/{job_id}/resume", response_model=JobSummaryRecord,
          responses={**_COMMON, **responses_for(404, 409)}, response_model_by_alias=True)
async def resume(job_id: JobId, caller: Caller, db: DB) -> JobSummaryRecord:
    """Put a failed job back to processing from its saved cursor (recorded in its events);
    409 unless it failed.
    """
    return summary_record(await run_in_threadpool(runner.resume_job, job_id,
                                                   created_by=caller, engine=db))

@router.post("/api/admin/jobs/{job_id}/rollback", response_model=JobCreated, status_code=201,
          responses={**_COMMON, **responses_for(404, 409)}, response_model_by_alias=True)
async def rollback(job_id: JobId, caller: Caller, db: DB) -> JobCreated:
    """A new reclassify job that restores what this completed reclassify job changed."""
    created = await run_in_threadpool(recovery.create_rollback, job_id, created_by=caller,
                                      engine=db)
    return JobCreated(job_id=created.id, total_items=created.total_items)

@router.post("/api/admin/jobs/{job_id}/retry-errors", response_model=JobCreated,
          status_code=201, responses={**_COMMON, **responses_for(404, 409)},
          response_model_by_alias=True)
async def retry_errors(job_id: JobId, caller: Caller, db: DB) -> JobCreated:
    """A new reclassify job over only the topics in this job's errors."""
    created = await run_in_threadpool(recovery.create_retry, job_id, created_by=caller,
                                      engine=db)
    return JobCreated(job_id=created.id, total_items=created.total_items)


@router.post("/api/admin/jobs/{job_id}/background", response_model=JobSummaryRecord,
             responses={**_COMMON, **responses_for(404, 409)}, response_model_by_alias=True)
async def to_background(job_id: JobId, caller: Caller, db: DB) -> JobSummaryRecord:
    """Hand an unfinished job to the workers (python -m jobcore worker); 409 when a chunk
    of it runs for more than 3 s.
    """
    await run_in_threadpool(runner.run_in_background, job_id, by=caller, engine=db)
    job = await run_in_threadpool(runner.get_job_summary, job_id, engine=db)
    if job.is_finished:
        raise JobNotRunnable(f"Job {job_id} is {job.status}; only an unfinished job can run "
                             "in the background.")
    return summary_record(job)

@router.post("/api/admin/jobs/{job_id}/take-over", response_model=JobSummaryRecord,
             responses={**_COMMON, **responses_for(404, 409)}, response_model_by_alias=True)
async def take_over(job_id: JobId, caller: Caller, db: DB) -> JobSummaryRecord:
    """Take a job back from the workers: it goes on only through process calls."""
    await run_in_threadpool(runner.take_over, job_id, by=caller, engine=db)
    return summary_record(await run_in_threadpool(runner.get_job_summary, job_id, engine=db))


@router.get("/api/admin/audit", response_model=AuditList, responses=_COMMON,
            response_model_by_alias=True, dependencies=[Depends(single_query_values)])
async def read_audit_log(caller: Caller, db: DB,
                    actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
                    action: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
                    outcome: Annotated[Literal["done", "refused", "failed"] | None,
                                       Query()] = None,
                    since: Annotated[IsoDateTime | None, Query()] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditList:
    """The audit log, newest first (admin tokens only): who did what, when, through what
    and with what outcome; filtered by actor, action, outcome and time.
    """
    rows = await run_in_threadpool(audit.entries, audit.AuditFilter(
        actor=actor, action=action, outcome=outcome, since=since), limit=limit, engine=db)
    return AuditList(entries=rows)


