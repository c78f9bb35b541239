"""The routes whose schema lists the registered job types (the create body, the list's and
the bulk actions' jobType), added when an app is made so that every job type registered by
then is in them. No ``from __future__ import annotations`` here: FastAPI reads these
routes' annotations, which name models built in the functions below.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from jobcore import bulk
from jobcore.api.problems import HTTPProblem, responses_for
from jobcore.api.tokens import DB, Caller, single_query_values
from jobcore.api.wire import (
    BulkDone,
    BulkOutcome,
    BulkRefusal,
    FilterStatus,
    IsoDateTime,
    JobCreated,
    JobList,
    bulk_body_model,
    create_body_model,
    job_type_name,
    summary_record,
)
from jobcore.jobs import runner, store

_COMMON = responses_for(401, 403, 422, 503)


def typed_routes() -> APIRouter:
    """Create, list and the bulk actions, their schema naming today's job types."""
    router = APIRouter()
    _add_create(router, create_body_model())
    _add_list(router, job_type_name())
    _add_bulk(router, bulk_body_model())
    return router


def _add_create(router: APIRouter, CreateJobBody: Any) -> None:  # noqa: N803
    @router.post("/api/admin/jobs", response_model=JobCreated, status_code=201,
              responses={**_COMMON, **responses_for(400, 404, 409)}, response_model_by_alias=True)
    async def create_job(body: CreateJobBody, caller: Caller, db: DB) -> JobCreated:
        """Validate the config, count the items server-side, create a pending job."""
        config = body.config.model_dump(by_alias=True, exclude_unset=True)
        created = await run_in_threadpool(runner.create_job, body.job_type, config,
                                          org_id=body.org_id, created_by=caller, engine=db,
                                          background=body.background)
        return JobCreated(job_id=created.id, total_items=created.total_items)


def _add_list(router: APIRouter, JobTypeName: Any) -> None:  # noqa: N803
    @router.get("/api/admin/jobs", response_model=JobList, responses=_COMMON,
             response_model_by_alias=True, dependencies=[Depends(single_query_values)])
    async def list_jobs(caller: Caller, db: DB,
                  job_type: Annotated[JobTypeName | None, Query(alias="jobType")] = None,
                  status: Annotated[FilterStatus | None, Query()] = None,
                  created_by: Annotated[str | None, Query(alias="createdBy", min_length=1,
                                                          max_length=200)] = None,
                  created_since: Annotated[IsoDateTime | None, Query(alias="createdSince")] = None,
                  limit: Annotated[int, Query(ge=1, le=100)] = 20) -> JobList:
        """Jobs newest first, filtered by type, status ("paused": processing, but no chunk for
        30 s), creator and creation time; limit 1..100 (default 20).
        """
        jobs = await run_in_threadpool(runner.list_jobs, job_type=job_type, status=status,
                                       created_by=created_by, created_since=created_since,
                                       limit=limit, engine=db)
        return JobList(jobs=[summary_record(job) for job in jobs])


async def _bulk(action: str, body: Any, caller: str, db: Engine) -> BulkOutcome:
    filters = store.JobFilter(body.job_type, body.status, body.created_by, body.created_since)
    planned = await run_in_threadpool(bulk.plan, action, filters, engine=db)
    refused = [BulkRefusal(job_id=r.job_id, reason=r.reason) for r in planned.refusals]
    if body.dry_run:
        return BulkOutcome(action=action, dry_run=True, matching=planned.matching,
                           jobs=len(planned.job_ids), job_ids=list(planned.job_ids),
                           succeeded=[], refused=refused)
    if body.job_ids is None:
        raise HTTPProblem(422, "invalid", "jobIds: required to act; send dryRun: true first "
                           "and confirm the jobIds it answers", field="jobIds")
    planned = bulk.confirmed(planned, body.job_ids)
    done = await run_in_threadpool(bulk.apply, planned, by=caller, engine=db)
    return BulkOutcome(
        action=action, dry_run=False, matching=planned.matching, jobs=len(done.succeeded),
        job_ids=[d.job_id for d in done.succeeded],
        succeeded=[BulkDone(job_id=d.job_id, created_job_id=d.created) for d in done.succeeded],
        refused=[BulkRefusal(job_id=r.job_id, reason=r.reason)
                 for r in (*planned.refusals, *done.refused)])


def _add_bulk(router: APIRouter, BulkBody: Any) -> None:  # noqa: N803
    @router.post("/api/admin/bulk/cancel", response_model=BulkOutcome,
                 responses={**_COMMON, **responses_for(400)}, response_model_by_alias=True)
    async def bulk_cancel(body: BulkBody, caller: Caller, db: DB) -> BulkOutcome:
        """Cancel every unfinished job the filters match (at most 10,000). First with
        ``dryRun: true``: how many match, the jobIds taken, and why the others are not; then
        with those ``jobIds``: only those are cancelled (one that no longer qualifies is
        refused with the reason; one that matches only now is left alone). The outcome lists
        what was cancelled and what was refused.
        """
        return await _bulk(bulk.CANCEL, body, caller, db)

    @router.post("/api/admin/bulk/retry-errors", response_model=BulkOutcome,
                 responses={**_COMMON, **responses_for(400)}, response_model_by_alias=True)
    async def bulk_retry_errors(body: BulkBody, caller: Caller, db: DB) -> BulkOutcome:
        """A retry job for the errors of every finished job the filters match that has errors
        and no retry running (at most 10,000 jobs); dry run and confirmation as for cancel.
        """
        return await _bulk(bulk.RETRY_ERRORS, body, caller, db)
