"""The job contract, as every driver (page, API, CLI, worker) calls it: create a job (and
count or price it before), process one chunk, change its state (cancel, resume, hand to the
workers and back) and read it (the job, its errors, chunks, events, related jobs, its type's
detail links and tables). Driving a job chunk after chunk is jobs/drive.py; chunks in
flight are jobs/supervision.py.

process_chunk does one chunk in one transaction: lock the job row (NOWAIT, so a second
caller is told the job is busy), dispatch to the job type's handler, add the chunk's
counters and errors, save the cursor, and complete the job after its last chunk. An item's
error is recorded and the job goes on. Any other error rolls the chunk back: a transient
condition (``JobcoreError.transient``: the LLM API or the database briefly unavailable)
leaves the job as it was and reaches the caller; anything else (a job-level condition such
as missing credentials, or a bug) marks the job failed with its message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore import access, audit, warmup
from jobcore.config import get_settings
from jobcore.db import get_engine, is_connection_error, unavailable
from jobcore.errors import (
    DatabaseUnavailable,
    JobcoreError,
    JobNotRunnable,
    NotHandedOver,
    UnknownOrganization,
    UsageError,
)
from jobcore.jobs import store
from jobcore.jobs.registry import get_handler, job_types
from jobcore.jobs.relations import relation_of
from jobcore.schema import organizations

log = logging.getLogger(__name__)

# Per chunk transaction: a statement hung far past the budget is cut off rather than holding
# the job's lock; and the commit is durable (waits for the WAL flush) unless the
# CHUNK_COMMIT setting says 'fast' (see jobcore.config: a server crash may then forget the
# last acknowledged chunks, whole, never half).
_CHUNK_SETTINGS = sa.text(
    "SELECT set_config('statement_timeout', :timeout_ms, true), "
    "set_config('synchronous_commit', :synchronous_commit, true), "
    # for the chunk's transaction only: pg_stat_activity shows which job's chunk a backend
    # runs, since when and for whom (store.chunks_in_flight), with no lock taken to ask
    "set_config('application_name', :application_name, true)"
)


# Parsed configs by job id: a job's config never changes, and a large one (a merge of
# thousands of clusters) would otherwise be read and validated again for every chunk.
_parsed_configs: dict[str, Any] = {}
_PARSED_CONFIGS_KEPT = 64


@dataclass(frozen=True)
class CreatedJob:
    id: str
    total_items: int


@dataclass(frozen=True)
class ChunkReport:
    """The job's state after one process_chunk call."""

    job_id: str
    status: str
    done: bool
    processed_items: int
    total_items: int
    success_count: int
    error_count: int
    skip_count: int
    chunk_processed: int
    failure_message: str | None = None
    background: bool = False  # the job is the workers' (a worker may go on with it)

    @classmethod
    def of(cls, job: store.Progress | store.JobSummary, chunk_processed: int) -> ChunkReport:
        return cls(job.id, job.status, job.is_finished, job.processed_items, job.total_items,
                   job.success_count, job.error_count, job.skip_count, chunk_processed,
                   job.failure_message, job.background)


def count_items(job_type: str, config: dict[str, Any] | None = None, *,
                org_id: int | None = None, engine: Engine | None = None) -> int:
    """What create_job would count, without creating anything (for forms and dry runs)."""
    handler, parsed = _parse(job_type, config, org_id)
    with (engine or get_engine()).connect() as conn:
        _check_org(conn, org_id)
        return handler.plan(conn, parsed, org_id=org_id).total_items


def cost_preview(job_type: str, config: dict[str, Any] | None, total: int, *,
                 org_id: int | None = None, engine: Engine | None = None) -> str | None:
    """The job type's own sentence on the LLM cost of this config, if it has one (see
    JobHandler.cost_preview).
    """
    handler, parsed = _parse(job_type, config, org_id)
    with (engine or get_engine()).connect() as conn:
        return handler.cost_preview(conn, parsed, total)


def _check_org(conn, org_id: int | None) -> None:
    if org_id is not None and conn.execute(
            sa.select(organizations.c.id).where(organizations.c.id == org_id)).first() is None:
        raise UnknownOrganization(f"No organisation with id {org_id}.")


def _parse(job_type: str, config: dict[str, Any] | None, org_id: int | None):
    handler = get_handler(job_type)
    parsed = handler.parse_config(config)
    if handler.org_scoped and org_id is None:
        raise UsageError(f"A {job_type} job needs an organisation (org_id).")
    return handler, parsed


def create_job(job_type: str, config: dict[str, Any] | None = None, *, org_id: int | None = None,
               created_by: str | None = None, engine: Engine | None = None,
               background: bool = False) -> CreatedJob:
    """Validate the config, count the items server-side and insert a pending job
    (``background``: handed to the workers at once, see jobcore.jobs.worker).
    """
    engine = engine or get_engine()
    known = job_type in job_types() and isinstance(config, dict)  # else _parse says why
    source = relation_of(job_type, config) if known and config else None
    details = {"jobType": job_type, "orgId": org_id,
               **({source[0].key: source[1]} if source else {})}
    with audit.action("create", details=details, engine=engine) as said:
        handler, parsed = _parse(job_type, config, org_id)
        with engine.begin() as conn:
            _check_org(conn, org_id)
            plan = handler.plan(conn, parsed, org_id=org_id)
            job = store.create_job(
                conn, job_type=job_type, config=parsed.to_json(), total_items=plan.total_items,
                created_by=created_by or access.current_actor().name, org_id=org_id,
                cursor=plan.cursor.to_json(), background=background,
                source=(source[0].key, source[1]) if source else None,
                conflicts={source[0].unique_index: source[0].conflict_message(source[1])}
                if source and source[0].unique_index else None,
            )
        said["target"] = job.id
    return CreatedJob(job.id, job.total_items)


def waiting_on_batches(report: ChunkReport, *, engine: Engine | None = None) -> bool:
    """Whether the chunk just run found its job's message batches still processing (an LLM
    job in its poll phase that got no results): its driver should wait before the next
    poll.
    """
    if report.chunk_processed or report.done:
        return False
    job = get_job(report.job_id, engine=engine, with_errors=False, full_result=False)
    return get_handler(job.job_type).waiting_on_batches(job)


def run_in_background(job_id: str, *, by: str | None = None,
                      engine: Engine | None = None) -> bool:
    """Hand an unfinished job to the workers; False when it is finished or theirs already."""
    engine = engine or get_engine()
    with audit.action("background", target=job_id, engine=engine), engine.begin() as conn:
        store.get_summary(conn, job_id)  # UnknownJob for a wrong id
        return store.set_background(conn, job_id, True, by=by)


def take_over(job_id: str, *, by: str | None = None, engine: Engine | None = None) -> bool:
    """Take a job back from the workers (a page or the CLI drives it from now on); a
    worker's chunk in flight still commits. False when it was not theirs.
    """
    engine = engine or get_engine()
    with audit.action("take_over", target=job_id, engine=engine), engine.begin() as conn:
        store.get_summary(conn, job_id)
        return store.set_background(conn, job_id, False, by=by)


# A lost connection (a server restart, a terminated backend) is retried with these waits,
# doubling, for up to RECONNECT_WINDOW seconds (or the chunk's time budget if shorter): a
# restart with crash recovery takes a few seconds; longer, the caller hears of it.
RECONNECT_FIRST_WAIT = 0.05
RECONNECT_LONGEST_WAIT = 2.0
RECONNECT_WINDOW = 15.0


def process_chunk(job_id: str, *, engine: Engine | None = None,
                  time_budget: float | None = None, driven_by: str | None = None,
                  only_if_background: bool = False) -> ChunkReport:
    """Process one chunk of a job and return its counters; see the module docstring.

    A connection-level error (the server restarting or not yet accepting connections, a
    terminated backend) never fails the job: the chunk rolled back with the connection, so
    it is tried again on a new one, with growing waits, for up to RECONNECT_WINDOW seconds
    from the first loss (or the time budget if shorter); then DatabaseUnavailable reaches
    the caller and the job stays as it was. What the chunk did outside the database (a
    platform push, a message batch) before the connection was lost is done again, as when
    the next call redoes a rolled-back chunk.

    ``driven_by`` (the page's user, "<user> (command line)", "<owner> (API)") is logged
    with the chunk, with the seconds of any one-time load inside it (jobcore.warmup).
    ``only_if_background``: a worker's call for a job handed to the workers; once it has
    been taken back (Take over) the chunk does not run (NotHandedOver, the job untouched).
    """
    engine = engine or get_engine()
    audit.allowed("process", target=job_id, engine=engine)  # a chunk is not logged, a refusal is
    budget = time_budget or get_settings().chunk_time_budget_seconds
    give_up_at: float | None = None  # set at the first lost connection
    wait = RECONNECT_FIRST_WAIT
    while True:
        try:
            return _run_chunk(engine, job_id, budget, driven_by, only_if_background)
        except _JobCondition as condition:  # the job cannot go on: fail it, say why
            return _fail(engine, job_id, condition.cause)
        except JobcoreError:  # transient ones (busy, unavailable) leave the job as it was
            raise
        except sa.exc.DBAPIError as exc:
            if not is_connection_error(exc):
                return _fail(engine, job_id, exc)
            if give_up_at is None:
                give_up_at = time.monotonic() + min(budget, RECONNECT_WINDOW)
            if time.monotonic() + wait > give_up_at:
                raise unavailable(exc) from exc
            log.warning("job %s: database connection lost (%s); trying the chunk again",
                        job_id, exc.orig)
            time.sleep(wait)
            wait = min(wait * 2, RECONNECT_LONGEST_WAIT)
        except Exception as exc:  # a bug: the chunk rolled back; fail the job with the reason
            return _fail(engine, job_id, exc)


def _run_chunk(engine: Engine, job_id: str, budget: float, driven_by: str | None,
               only_if_background: bool = False) -> ChunkReport:
    started_at = datetime.now(UTC)
    deadline = time.monotonic() + budget
    with engine.begin() as conn:
        conn.execute(_CHUNK_SETTINGS, {
            "timeout_ms": str(int(budget * 2000)),
            "synchronous_commit": "off" if get_settings().chunk_commit == "fast" else "on",
            "application_name": store.chunk_application_name(job_id, driven_by)})
        config = _parsed_configs.get(job_id)
        job = store.lock_job(conn, job_id, with_config=config is None)
        if job.is_finished:
            raise JobNotRunnable(
                f"Job {job_id} is {job.status}; it takes no more chunks."
                + (f" Failure: {job.failure_message}" if job.failure_message else "")
            )
        if only_if_background and not job.background:
            raise NotHandedOver(f"Job {job_id} was taken back from the workers.")
        handler = get_handler(job.job_type)
        try:
            if config is None:  # e.g. an LLM job whose API key was removed since: fails it
                config = _parsed_configs[job_id] = handler.parse_config(job.config)
                while len(_parsed_configs) > _PARSED_CONFIGS_KEPT:
                    _parsed_configs.pop(next(iter(_parsed_configs)))
            with warmup.chunk_loads() as loads:
                outcome = handler.process(conn, job, config, deadline)
        except JobcoreError as exc:
            if exc.transient:
                raise
            raise _JobCondition(exc) from exc
        progress = store.update_progress(
            conn, job_id, processed=outcome.processed, success=outcome.success,
            errors=len(outcome.errors), skips=outcome.skips, cursor=outcome.cursor.to_json(),
            new_errors=[e.as_dict() for e in outcome.errors],
            result_patch=outcome.result_patch, started_at=started_at, done=outcome.done,
            driven_by=driven_by, load_seconds=loads.seconds, loaded=loads.description,
            added_items=outcome.added_items,
        )
    return ChunkReport.of(progress, outcome.processed)


class _JobCondition(Exception):
    """A handler's JobcoreError that no retry will fix (e.g. missing credentials)."""

    def __init__(self, cause: JobcoreError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _fail(engine: Engine, job_id: str, exc: Exception) -> ChunkReport:
    message = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, JobcoreError):
        message = str(exc)
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        message = f"{type(exc.orig).__name__}: {str(exc.orig).strip()}"
    log.exception("job %s failed", job_id)
    try:
        with engine.begin() as conn:
            store.fail_job(conn, job_id, message)
            job = store.get_summary(conn, job_id)
    except sa.exc.SQLAlchemyError as db_exc:
        raise DatabaseUnavailable(
            f"Job {job_id}: the chunk was rolled back ({message}) and the database could not "
            f"be reached to record it: {db_exc.__class__.__name__}."
        ) from exc
    return ChunkReport.of(job, 0)


def cancel_job(job_id: str, *, by: str | None = None, message: str | None = None,
               wait_seconds: float | None = None, engine: Engine | None = None) -> store.Job:
    """Cancel a job; a chunk that is running finishes first (waited for at most
    ``wait_seconds`` if given, then JobBusy), and no further chunk runs. Its events record
    ``by`` (default: the admin user) and ``message``.
    """
    engine = engine or get_engine()
    with audit.action("cancel", target=job_id, engine=engine), engine.begin() as conn:
        job = store.cancel_job(conn, job_id, by=by or access.current_actor().name,
                               message=message, wait_seconds=wait_seconds)
        get_handler(job.job_type).on_cancel(conn, job)
        return job


def get_job(job_id: str, *, with_errors: bool = True, full_result: bool = True,
            engine: Engine | None = None) -> store.Job:
    """Read one job, its whole result included unless not ``full_result`` (some job types
    keep long result lists in their own tables; their handler adds them); its errors unless
    not ``with_errors``.
    """
    with (engine or get_engine()).connect() as conn:
        job = store.get_job(conn, job_id, with_errors=with_errors)
        return get_handler(job.job_type).with_full_result(conn, job) if full_result else job


def resume_job(job_id: str, *, created_by: str | None = None,
               engine: Engine | None = None) -> store.Job:
    """Resume a failed job from its saved cursor: it goes back to processing, keeping what
    its chunks did, and the next process_chunk goes on where the failed one rolled back.
    Recorded in its events with who resumed it.
    """
    engine = engine or get_engine()
    with audit.action("resume", target=job_id, engine=engine), engine.begin() as conn:
        return store.resume_job(conn, job_id,
                                created_by=created_by or access.current_actor().name)


def job_errors(job_id: str, *, offset: int = 0, limit: int | None = None,
               engine: Engine | None = None) -> list[dict[str, Any]]:
    """The job's errors from the ``offset``-th on, at most ``limit`` (a live view's new
    errors, a first page).
    """
    with (engine or get_engine()).connect() as conn:
        return store.job_errors(conn, job_id, offset=offset, limit=limit)


def release_driver(job_id: str, driver: str | None, *, engine: Engine | None = None) -> None:
    """``driver`` stops driving the job (see store.release_driver)."""
    with (engine or get_engine()).begin() as conn:
        store.release_driver(conn, job_id, driver)


def job_events(job_id: str, *, engine: Engine | None = None) -> list[store.JobEvent]:
    """The job's events (failed, resumed), oldest first."""
    with (engine or get_engine()).connect() as conn:
        return store.job_events(conn, job_id)


def get_job_summary(job_id: str, *, engine: Engine | None = None) -> store.JobSummary:
    """Read one job without its errors and result (cheap, for live views)."""
    with (engine or get_engine()).connect() as conn:
        return store.get_summary(conn, job_id)


def job_chunks(job_id: str, *, engine: Engine | None = None) -> list[store.ChunkRecord]:
    """The job's chunks in order (for throughput charts)."""
    with (engine or get_engine()).connect() as conn:
        return store.list_chunks(conn, job_id)


def list_jobs(*, job_type: str | None = None, status: str | None = None, limit: int = 20,
              created_by: str | None = None, created_since: datetime | None = None,
              mentioning: str | None = None,
              engine: Engine | None = None) -> list[store.JobSummary]:
    """Jobs newest first, filtered (see store.JobFilter: "paused", ``mentioning``...)."""
    with (engine or get_engine()).connect() as conn:
        return store.list_jobs(conn, job_type=job_type, status=status, limit=limit,
                               created_by=created_by, created_since=created_since,
                               mentioning=mentioning)
