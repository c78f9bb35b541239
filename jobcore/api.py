"""HTTP API for the job system: the seed's routes on top of jobcore (FastAPI).

Thin by design: request validation, bearer-token access and the mapping of jobcore's
results and errors to HTTP; every action is a jobcore call. Start it with
``python -m jobcore serve``; the OpenAPI document is at /openapi.json.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import time
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_type_hints

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel, to_pascal
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from jobcore import access, audit, bulk
from jobcore.classify import recovery
from jobcore.config import get_settings
from jobcore.db import get_engine, is_connection_error, unavailable
from jobcore.errors import (
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    JobBusy,
    JobcoreError,
    JobNotFound,
    JobNotRunnable,
    UnknownJobType,
    UnknownOrganization,
    UsageError,
)
from jobcore.jobs import runner, store
from jobcore.jobs.base import JOB_ID_PATTERN
from jobcore.jobs.registry import get_handler, job_types
from jobcore.schema import JOB_STATUSES

JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN, max_length=80)]
JobStatus = Literal[JOB_STATUSES]  # type: ignore[valid-type]
FilterStatus = Literal[store.FILTER_STATUSES]  # type: ignore[valid-type]
JobTypeName = Literal[tuple(job_types())]  # type: ignore[valid-type]


def _iso_date_time(value: object) -> object:
    """Only an ISO 8601 string (pydantic would also take a number as a Unix time)."""
    if not isinstance(value, str | datetime) or (
            isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()):
        raise ValueError("give an ISO 8601 date-time, for example 2026-12-01T00:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_date_time)]


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _create_body_model() -> Any:
    """The create body: one variant per registered job type, its config typed by that
    type's config model, told apart by ``jobType`` (so the OpenAPI document is exact).
    """
    variants = []
    for job_type in job_types():
        config_model = get_handler(job_type).config_model
        variants.append(create_model(
            f"Create{to_pascal(job_type)}Job", __base__=_Wire,
            job_type=(Literal[job_type], ...),  # type: ignore[valid-type]
            config=(config_model, Field(default_factory=config_model)),
            org_id=(int | None, Field(default=None, ge=1, le=2**62)),
            # handed to the workers (python -m jobcore worker) instead of driven by calls
            background=(bool, Field(default=False)),
        ))
    if len(variants) == 1:
        return variants[0]
    return Annotated[Union[tuple(variants)], Field(discriminator="job_type")]  # noqa: UP007


CreateJobBody = _create_body_model()


class JobCreated(_Wire):
    job_id: str
    total_items: int


class ProcessResult(_Wire):
    done: bool
    processed_items: int
    total_items: int
    success_count: int
    error_count: int
    skip_count: int


class JobError(_Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
    id: int | str | None = None
    name: str | None = None
    message: str


def _wire_model(name: str, source: type, *, base: type[BaseModel],
                overrides: dict[str, Any]) -> type[BaseModel]:
    """A wire model with the fields of the store's dataclass ``source`` (types from its
    annotations, some narrowed by ``overrides``): the two cannot drift apart.
    """
    hints = get_type_hints(source)
    return create_model(name, __base__=base, **{
        f.name: (overrides.get(f.name, hints[f.name]), ...) for f in dataclasses.fields(source)})


# A job as lists show it: every field of store.JobSummary (status as one of its values).
JobSummaryRecord = _wire_model("JobSummaryRecord", store.JobSummary, base=_Wire,
                               overrides={"status": JobStatus})


class JobRecord(JobSummaryRecord):  # type: ignore[misc, valid-type]
    """A whole job: its summary, errors and result (its cursor is the job system's own)."""

    errors: list[JobError]
    result: dict[str, Any]


class JobList(_Wire):
    jobs: list[JobSummaryRecord]


class AuditList(_Wire):
    entries: list[audit.AuditEntry]  # one field name per word: the wire spells them alike


class BulkBody(_Wire):
    """The filters of a bulk action (as the job list's) and its confirmation."""

    job_type: JobTypeName | None = None
    status: FilterStatus | None = None
    created_by: str | None = Field(default=None, min_length=1, max_length=200)
    created_since: IsoDateTime | None = None
    dry_run: bool = Field(default=False, strict=True)
    # the jobs a dry run said the action takes, as confirmed: required to act, so that an
    # action never covers a job nobody confirmed
    job_ids: list[JobId] | None = Field(default=None, max_length=bulk.MAX_JOBS)


class BulkRefusal(_Wire):
    job_id: str
    reason: str


class BulkDone(_Wire):
    job_id: str
    created_job_id: str | None = None


class BulkOutcome(_Wire):
    action: str
    dry_run: bool
    matching: int  # jobs the filters match
    jobs: int  # jobs the action takes (dry run) or took
    job_ids: list[str]  # those jobs (dry run)
    succeeded: list[BulkDone]
    refused: list[BulkRefusal]


class CancelBody(_Wire):
    status: Literal["cancelled"]


class ErrorDetail(_Wire):
    code: str
    message: str
    field: str | None = None


class ErrorBody(_Wire):
    error: ErrorDetail


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    return JSONResponse(body.model_dump(by_alias=True), status_code=status)


_ERRORS = {
    400: "Malformed request (for example a body that is not JSON)",
    401: "Missing or malformed bearer token",
    403: "Token not recognised",
    404: "No such job",
    409: "The job is busy (another process call holds it), finished, or the action "
         "conflicts with its state",
    422: "Invalid input; `field` names the offending field",
    503: "The database cannot be reached",
}


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _ERRORS[code]} for code in codes}


def hash_token(token: str) -> str:
    """How a token is stored in settings: its SHA-256, hex (tokens are long and random)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_token_entries(entries: list[str]) -> dict[str, tuple[str, access.Role]]:
    """``owner:role:sha256hex`` entries (API_TOKENS) -> {hash: (owner, role)}; an entry
    without a role (``owner:sha256hex``, made before roles) is an operator's.
    """
    tokens: dict[str, tuple[str, access.Role]] = {}
    for entry in entries:
        rest, _, digest = entry.rpartition(":")
        owner, _, role = rest.rpartition(":") if rest.count(":") else (rest, "", "operator")
        if owner and len(digest) == 64 and role in access.ROLES:
            tokens[digest.lower()] = (owner, access.role_named(role))
    return tokens


_bearer = HTTPBearer(auto_error=False)


# Routes and dependencies are async so that FastAPI does not hop to a worker thread for each
# of them (and for the response's validation); the one jobcore call of a route runs in the
# thread pool (run_in_threadpool), since it blocks on the database.
async def _caller(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None,
                                         Depends(_bearer)]) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _HTTPProblem(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
    digest = hash_token(credentials.credentials)
    for known, (owner, role) in request.app.state.tokens.items():
        if hmac.compare_digest(known, digest):
            # the request's operations act as the token's owner, with its role (the
            # context goes with the request's calls into the thread pool)
            actor = access.Actor(owner, role, "api")
            access.set_actor(actor)
            if _first_use_lately(request.app, known):
                await run_in_threadpool(
                    audit.record_outcome, "token_use", actor=actor, outcome="done",
                    details={"route": f"{request.method} {request.url.path}"},
                    engine=await _engine(request))
            return owner
    raise _HTTPProblem(403, "forbidden", "This token is not recognised.")


TOKEN_USE_EVERY = 3600.0  # seconds: a token's use is logged once an hour, not per call


def _first_use_lately(app: FastAPI, digest: str) -> bool:
    """Whether this token's use is to be logged now (the first call, then once an hour)."""
    now = time.monotonic()
    last = app.state.token_used.get(digest)
    if last is not None and now - last < TOKEN_USE_EVERY:
        return False
    app.state.token_used[digest] = now
    return True


async def _engine(request: Request) -> Engine:
    if request.app.state.engine is None:
        request.app.state.engine = await run_in_threadpool(get_engine)
    return request.app.state.engine


class _HTTPProblem(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


async def _single_query_values(request: Request) -> None:
    """Refuse a query parameter given more than once (the schema allows one value)."""
    keys = [key for key, _ in request.query_params.multi_items()]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise _HTTPProblem(422, "invalid", f"{repeated[0]}: give this parameter only once",
                           field=repeated[0])
    route = request.scope.get("route")
    if route is not None and hasattr(route, "dependant"):  # the schema allows no others
        known = {field.alias for field in route.dependant.query_params}
        unknown = sorted(set(keys) - known)
        if unknown:
            raise _HTTPProblem(422, "invalid", f"{unknown[0]!r}: no such parameter (known: "
                               f"{', '.join(sorted(known))})", field=unknown[0])


Caller = Annotated[str, Depends(_caller)]
DB = Annotated[Engine, Depends(_engine)]


def _summary_record(job: store.JobSummary) -> JobSummaryRecord:
    return JobSummaryRecord.model_validate(
        {name: getattr(job, name) for name in JobSummaryRecord.model_fields})


_COMMON = _responses(401, 403, 422, 503)
log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/api/admin/jobs", response_model=JobCreated, status_code=201,
          responses={**_COMMON, **_responses(400, 404, 409)}, response_model_by_alias=True)
async def create_job(body: CreateJobBody, caller: Caller, db: DB) -> JobCreated:
    """Validate the config, count the items server-side, create a pending job."""
    config = body.config.model_dump(by_alias=True, exclude_unset=True)
    created = await run_in_threadpool(runner.create_job, body.job_type, config,
                                      org_id=body.org_id, created_by=caller, engine=db,
                                      background=body.background)
    return JobCreated(job_id=created.id, total_items=created.total_items)

@router.post("/api/admin/jobs/{job_id}/process", response_model=ProcessResult,
          responses={**_COMMON, **_responses(404, 409)}, response_model_by_alias=True)
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
         responses={**_COMMON, **_responses(404)}, response_model_by_alias=True)
async def get_job(job_id: JobId, caller: Caller, db: DB) -> JobRecord:
    """The whole job record, errors and result included."""
    job = await run_in_threadpool(runner.get_job, job_id, engine=db)
    return JobRecord.model_validate(
        {name: getattr(job, name) for name in JobRecord.model_fields})

@router.get("/api/admin/jobs", response_model=JobList, responses=_COMMON,
         response_model_by_alias=True, dependencies=[Depends(_single_query_values)])
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
    return JobList(jobs=[_summary_record(job) for job in jobs])

@router.patch("/api/admin/jobs/{job_id}", response_model=JobSummaryRecord,
           responses={**_COMMON, **_responses(400, 404, 409)},
           response_model_by_alias=True)
async def cancel(job_id: JobId, body: CancelBody, caller: Caller,
                 db: DB) -> JobSummaryRecord:
    """Cancel the job (the only change allowed); it takes effect between chunks."""
    return _summary_record(await run_in_threadpool(runner.cancel_job, job_id,
                                                   by=caller, engine=db))

@router.post("/api/admin/jobs/{job_id}/resume", response_model=JobSummaryRecord,
          responses={**_COMMON, **_responses(404, 409)}, response_model_by_alias=True)
async def resume(job_id: JobId, caller: Caller, db: DB) -> JobSummaryRecord:
    """Put a failed job back to processing from its saved cursor (recorded in its events);
    409 unless it failed.
    """
    return _summary_record(await run_in_threadpool(runner.resume_job, job_id,
                                                   created_by=caller, engine=db))

@router.post("/api/admin/jobs/{job_id}/rollback", response_model=JobCreated, status_code=201,
          responses={**_COMMON, **_responses(404, 409)}, response_model_by_alias=True)
async def rollback(job_id: JobId, caller: Caller, db: DB) -> JobCreated:
    """A new reclassify job that restores what this completed reclassify job changed."""
    created = await run_in_threadpool(recovery.create_rollback, job_id, created_by=caller,
                                      engine=db)
    return JobCreated(job_id=created.id, total_items=created.total_items)

@router.post("/api/admin/jobs/{job_id}/retry-errors", response_model=JobCreated,
          status_code=201, responses={**_COMMON, **_responses(404, 409)},
          response_model_by_alias=True)
async def retry_errors(job_id: JobId, caller: Caller, db: DB) -> JobCreated:
    """A new reclassify job over only the topics in this job's errors."""
    created = await run_in_threadpool(recovery.create_retry, job_id, created_by=caller,
                                      engine=db)
    return JobCreated(job_id=created.id, total_items=created.total_items)


async def _bulk(action: str, body: BulkBody, caller: str, db: Engine) -> BulkOutcome:
    filters = store.JobFilter(body.job_type, body.status, body.created_by, body.created_since)
    planned = await run_in_threadpool(bulk.plan, action, filters, engine=db)
    refused = [BulkRefusal(job_id=r.job_id, reason=r.reason) for r in planned.refusals]
    if body.dry_run:
        return BulkOutcome(action=action, dry_run=True, matching=planned.matching,
                           jobs=len(planned.job_ids), job_ids=list(planned.job_ids),
                           succeeded=[], refused=refused)
    if body.job_ids is None:
        raise _HTTPProblem(422, "invalid", "jobIds: required to act; send dryRun: true first "
                           "and confirm the jobIds it answers", field="jobIds")
    planned = bulk.confirmed(planned, body.job_ids)
    done = await run_in_threadpool(bulk.apply, planned, by=caller, engine=db)
    return BulkOutcome(
        action=action, dry_run=False, matching=planned.matching, jobs=len(done.succeeded),
        job_ids=[d.job_id for d in done.succeeded],
        succeeded=[BulkDone(job_id=d.job_id, created_job_id=d.created) for d in done.succeeded],
        refused=[BulkRefusal(job_id=r.job_id, reason=r.reason)
                 for r in (*planned.refusals, *done.refused)])

@router.post("/api/admin/bulk/cancel", response_model=BulkOutcome,
             responses={**_COMMON, **_responses(400)}, response_model_by_alias=True)
async def bulk_cancel(body: BulkBody, caller: Caller, db: DB) -> BulkOutcome:
    """Cancel every unfinished job the filters match (at most 10,000). First with
    ``dryRun: true``: how many match, the jobIds taken, and why the others are not; then
    with those ``jobIds``: only those are cancelled (one that no longer qualifies is
    refused with the reason; one that matches only now is left alone). The outcome lists
    what was cancelled and what was refused.
    """
    return await _bulk(bulk.CANCEL, body, caller, db)

@router.post("/api/admin/bulk/retry-errors", response_model=BulkOutcome,
             responses={**_COMMON, **_responses(400)}, response_model_by_alias=True)
async def bulk_retry_errors(body: BulkBody, caller: Caller, db: DB) -> BulkOutcome:
    """A retry job for the errors of every finished job the filters match that has errors
    and no retry running (at most 10,000 jobs); dry run and confirmation as for cancel.
    """
    return await _bulk(bulk.RETRY_ERRORS, body, caller, db)

@router.post("/api/admin/jobs/{job_id}/background", response_model=JobSummaryRecord,
             responses={**_COMMON, **_responses(404, 409)}, response_model_by_alias=True)
async def to_background(job_id: JobId, caller: Caller, db: DB) -> JobSummaryRecord:
    """Hand an unfinished job to the workers (python -m jobcore worker); 409 when a chunk
    of it runs for more than 3 s.
    """
    await run_in_threadpool(runner.run_in_background, job_id, by=caller, engine=db)
    job = await run_in_threadpool(runner.get_job_summary, job_id, engine=db)
    if job.is_finished:
        raise JobNotRunnable(f"Job {job_id} is {job.status}; only an unfinished job can run "
                             "in the background.")
    return _summary_record(job)

@router.post("/api/admin/jobs/{job_id}/take-over", response_model=JobSummaryRecord,
             responses={**_COMMON, **_responses(404, 409)}, response_model_by_alias=True)
async def take_over(job_id: JobId, caller: Caller, db: DB) -> JobSummaryRecord:
    """Take a job back from the workers: it goes on only through process calls."""
    await run_in_threadpool(runner.take_over, job_id, by=caller, engine=db)
    return _summary_record(await run_in_threadpool(runner.get_job_summary, job_id, engine=db))


@router.get("/api/admin/audit", response_model=AuditList, responses=_COMMON,
            response_model_by_alias=True, dependencies=[Depends(_single_query_values)])
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


def create_app(*, engine: Engine | None = None,
               tokens: dict[str, tuple[str, access.Role]] | None = None) -> FastAPI:
    """The API app; ``engine`` and ``tokens`` ({sha256: (owner, role)}) default to the
    settings.
    """
    app = FastAPI(title="AudienceGPT Admin Jobs API", version="1.0",
                  description="Create, process, poll, cancel, roll back and retry admin jobs.")
    app.state.engine = engine
    app.state.token_used = {}  # token hash -> when its use was last logged (monotonic)
    app.state.tokens = tokens if tokens is not None else parse_token_entries(
        get_settings().api_tokens)
    _install_error_handlers(app)
    app.include_router(router)
    return app


# jobcore's errors as HTTP: the first matching class wins (subclasses before their bases).
_ERROR_MAP: tuple[tuple[type[JobcoreError], int, str, str | None], ...] = (
    (ConfigError, 422, "invalid_config", None),  # the field comes from the error itself
    (UnknownJobType, 422, "unknown_job_type", "jobType"),
    (UnknownOrganization, 422, "unknown_organization", "orgId"),
    (Forbidden, 403, "forbidden", None),
    (JobNotFound, 404, "not_found", None),
    (JobBusy, 409, "busy", None),
    (JobNotRunnable, 409, "finished", None),
    (Conflict, 409, "conflict", None),
    (DatabaseUnavailable, 503, "database_unavailable", None),
    (UsageError, 422, "invalid", None),
)


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method any route serves at this path (Starlette lists only one route's)."""
    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches({"type": "http", "path": path, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        response = _error(exc.status_code, codes.get(exc.status_code, "http_error"),
                          str(exc.detail))
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        return response

    @app.exception_handler(_HTTPProblem)
    def problem(_: Request, exc: _HTTPProblem) -> JSONResponse:
        response = _error(exc.status, exc.code, exc.message, exc.field)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first["loc"] if p not in ("body", "query", "path")]
        if loc and loc[0] in job_types():  # the tag of the body's per-job-type variant
            loc = loc[1:]
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            return _error(422, "unknown_job_type",
                          f"jobType must be one of {', '.join(job_types())}", "jobType")
        field = ".".join(loc) or None
        return _error(422, "invalid", f"{field or 'request'}: {first['msg']}", field)

    @app.exception_handler(sa.exc.DBAPIError)
    def database_error(_: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        if is_connection_error(exc):  # the server restarting or away: try again later
            return _error(503, "database_unavailable", str(unavailable(exc)))
        log.error("database error", exc_info=exc)
        return _error(500, "internal", f"Database error: {type(exc.orig).__name__}")

    @app.exception_handler(Exception)
    def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return _error(500, "internal", f"Internal error: {type(exc).__name__}")

    @app.exception_handler(JobcoreError)
    def jobcore_error(_: Request, exc: JobcoreError) -> JSONResponse:
        for error_class, status, code, field in _ERROR_MAP:
            if isinstance(exc, error_class):
                if isinstance(exc, ConfigError):
                    field = exc.field
                return _error(status, code, str(exc), field)
        return _error(500, "internal", str(exc))
