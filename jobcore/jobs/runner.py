"""The job contract: create_job, process_chunk, cancel.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore.config import get_settings
from jobcore.db import get_engine
from jobcore.errors import (
    DatabaseUnavailable,
    JobcoreError,
    JobNotRunnable,
    UnknownOrganization,
    UsageError,
)
from jobcore.jobs import store
from jobcore.jobs.registry import get_handler
from jobcore.schema import organizations

log = logging.getLogger(__name__)

# Per chunk transaction: a statement hung far past the budget is cut off rather than holding
# the job's lock; and the commit does not wait for the WAL flush. A chunk is atomic (items,
# counters and cursor together), so a server crash can only forget the last chunks whole,
# and the next call redoes them; it never leaves a half-applied or double-counted chunk.
_CHUNK_SETTINGS = sa.text(
    "SELECT set_config('statement_timeout', :timeout_ms, true), "
    "set_config('synchronous_commit', 'off', true)"
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

    @classmethod
    def of(cls, job: store.Progress | store.JobSummary, chunk_processed: int) -> ChunkReport:
        return cls(job.id, job.status, job.is_finished, job.processed_items, job.total_items,
                   job.success_count, job.error_count, job.skip_count, chunk_processed,
                   job.failure_message)


def count_items(job_type: str, config: dict[str, Any] | None = None, *,
                org_id: int | None = None, engine: Engine | None = None) -> int:
    """What create_job would count, without creating anything (for forms and dry runs)."""
    handler, parsed = _parse(job_type, config, org_id)
    with (engine or get_engine()).connect() as conn:
        _check_org(conn, org_id)
        return handler.plan(conn, parsed, org_id=org_id).total_items


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
               created_by: str | None = None, engine: Engine | None = None) -> CreatedJob:
    """Validate the config, count the items server-side and insert a pending job."""
    handler, parsed = _parse(job_type, config, org_id)
    engine = engine or get_engine()
    with engine.begin() as conn:
        _check_org(conn, org_id)
        plan = handler.plan(conn, parsed, org_id=org_id)
        job = store.create_job(
            conn, job_type=job_type, config=parsed.to_json(), total_items=plan.total_items,
            created_by=created_by or get_settings().admin_user, org_id=org_id, cursor=plan.cursor,
        )
    return CreatedJob(job.id, job.total_items)


def process_chunk(job_id: str, *, engine: Engine | None = None,
                  time_budget: float | None = None) -> ChunkReport:
    """Process one chunk of a job and return its counters; see the module docstring."""
    engine = engine or get_engine()
    budget = time_budget or get_settings().chunk_time_budget_seconds
    for attempt in (1, 2):
        try:
            return _run_chunk(engine, job_id, budget)
        except _JobCondition as condition:  # the job cannot go on: fail it, say why
            return _fail(engine, job_id, condition.cause)
        except JobcoreError:
            raise
        except sa.exc.DBAPIError as exc:
            # A pooled connection that the server dropped (restart, idle timeout): the chunk
            # rolled back with it, so it is safe to run it once more on a fresh connection.
            if exc.connection_invalidated and attempt == 1:
                continue
            return _fail(engine, job_id, exc)
        except Exception as exc:  # a bug: the chunk rolled back; fail the job with the reason
            return _fail(engine, job_id, exc)
    raise AssertionError("unreachable")


def _run_chunk(engine: Engine, job_id: str, budget: float) -> ChunkReport:
    started_at = datetime.now(UTC)
    deadline = time.monotonic() + budget
    with engine.begin() as conn:
        conn.execute(_CHUNK_SETTINGS, {"timeout_ms": str(int(budget * 2000))})
        config = _parsed_configs.get(job_id)
        job = store.lock_job(conn, job_id, with_config=config is None)
        if job.is_finished:
            raise JobNotRunnable(
                f"Job {job_id} is {job.status}; it takes no more chunks."
                + (f" Failure: {job.failure_message}" if job.failure_message else "")
            )
        handler = get_handler(job.job_type)
        try:
            if config is None:  # e.g. an LLM job whose API key was removed since: fails it
                config = _parsed_configs[job_id] = handler.parse_config(job.config)
                while len(_parsed_configs) > _PARSED_CONFIGS_KEPT:
                    _parsed_configs.pop(next(iter(_parsed_configs)))
            outcome = handler.process(conn, job, config, deadline)
        except JobcoreError as exc:
            if exc.transient:
                raise
            raise _JobCondition(exc) from exc
        progress = store.update_progress(
            conn, job_id, processed=outcome.processed, success=outcome.success,
            errors=len(outcome.errors), skips=outcome.skips, cursor=outcome.cursor,
            new_errors=[e.as_dict() for e in outcome.errors],
            result_patch=outcome.result_patch, started_at=started_at, done=outcome.done,
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
            job = store.get_job(conn, job_id)
    except sa.exc.SQLAlchemyError as db_exc:
        raise DatabaseUnavailable(
            f"Job {job_id}: the chunk was rolled back ({message}) and the database could not "
            f"be reached to record it: {db_exc.__class__.__name__}."
        ) from exc
    return ChunkReport.of(job, 0)


def cancel_job(job_id: str, *, engine: Engine | None = None) -> store.Job:
    """Cancel a job; a chunk that is running finishes first, and no further chunk runs."""
    engine = engine or get_engine()
    with engine.begin() as conn:
        job = store.cancel_job(conn, job_id)
        get_handler(job.job_type).on_cancel(conn, job)
        return job


def get_job(job_id: str, *, engine: Engine | None = None) -> store.Job:
    """Read one job, its whole result included (some job types keep long result lists in
    their own tables; their handler adds them).
    """
    with (engine or get_engine()).connect() as conn:
        job = store.get_job(conn, job_id)
        return get_handler(job.job_type).with_full_result(conn, job)


def get_job_summary(job_id: str, *, engine: Engine | None = None) -> store.JobSummary:
    """Read one job without its errors and result (cheap, for live views)."""
    with (engine or get_engine()).connect() as conn:
        return store.get_summary(conn, job_id)


def job_chunks(job_id: str, *, engine: Engine | None = None) -> list[store.ChunkRecord]:
    """The job's chunks in order (for throughput charts)."""
    with (engine or get_engine()).connect() as conn:
        return store.list_chunks(conn, job_id)


def list_jobs(*, job_type: str | None = None, status: str | None = None, limit: int = 20,
              engine: Engine | None = None) -> list[store.JobSummary]:
    """Jobs newest first (see store.list_jobs)."""
    with (engine or get_engine()).connect() as conn:
        return store.list_jobs(conn, job_type=job_type, status=status, limit=limit)


def run_to_completion(job_id: str, *, engine: Engine | None = None,
                      on_chunk: Callable[[ChunkReport], None] | None = None) -> ChunkReport:
    """Call process_chunk until the job is finished (CLI and benchmarks)."""
    while True:
        report = process_chunk(job_id, engine=engine)
        if on_chunk is not None:
            on_chunk(report)
        if report.done:
            return report
