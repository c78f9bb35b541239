"""Job state changes: create, lock for a chunk, a chunk's progress, fail, resume, cancel,
hand to the workers and back, and the events that record them.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy.engine import Connection

from jobcore.errors import (
    Conflict,
    JobBusy,
    JobNotRunnable,
    SchemaOutOfDate,
)
from jobcore.jobs.store.records import (
    NO_ERRORS,
    SUMMARY_COLUMNS,
    Job,
    get_job,
    job_of_row,
    not_found,
)
from jobcore.schema import (
    FINISHED_STATUSES,
    admin_job_events,
    admin_jobs,
)
from jobcore.sql_rules import TOPIC_OF_ERROR_SQL, UNFINISHED_JOB, UNFINISHED_SQL


@dataclass(frozen=True)
class Progress:
    """A job's status and counters, as a chunk leaves them."""

    id: str
    status: str
    processed_items: int
    total_items: int
    success_count: int
    error_count: int
    skip_count: int
    failure_message: str | None
    chunk_count: int
    background: bool = False  # handed to the workers

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


def new_job_id() -> str:
    """A job id of the form ``job_{milliseconds}_{random}``."""
    return f"job_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def create_job(conn: Connection, *, job_type: str, config: dict[str, Any], total_items: int,
               created_by: str, org_id: int | None = None,
               cursor: dict[str, Any] | None = None, background: bool = False,
               source: tuple[str, str] | None = None,
               conflicts: Mapping[str, str] | None = None) -> Job:
    """Insert a pending job (``background``: for the workers to run) and return it.

    ``source``: the config key by which it names the job it came from, and that job's id;
    ``conflicts``: unique index name -> the message when that index refuses the job (one
    rollback of a job, say).
    """
    source_key, source_job_id = source or (None, None)
    stmt = (
        sa.insert(admin_jobs)
        .values(id=new_job_id(), job_type=job_type, org_id=org_id, created_by=created_by,
                config=config, total_items=total_items, cursor=cursor or {},
                background=background, source_key=source_key, source_job_id=source_job_id)
        .returning(*SUMMARY_COLUMNS, NO_ERRORS.label("errors"), admin_jobs.c.result,
                   admin_jobs.c.cursor)
    )
    try:
        return job_of_row(conn.execute(stmt).one())
    except sa.exc.IntegrityError as exc:
        for index, message in (conflicts or {}).items():
            if index in str(exc.orig):
                raise Conflict(message) from exc
        if "admin_jobs_job_type_check" in str(exc.orig):
            raise SchemaOutOfDate(
                f"Job type {job_type!r} is registered but the database does not allow it "
                "(constraint admin_jobs_job_type_check): the migration that adds it is "
                "missing or not applied (python -m jobcore db upgrade).") from exc
        raise


_LOCKED_COLUMNS = [
    *(c for c in SUMMARY_COLUMNS if c.name != "config"),
    sa.case((sa.bindparam("with_config", type_=sa.Boolean), admin_jobs.c.config),
            else_=sa.cast(sa.literal("{}"), admin_jobs.c.config.type)).label("config"),
    NO_ERRORS.label("errors"),
    admin_jobs.c.result,
    admin_jobs.c.cursor,
]
_LOCK_JOB = (
    sa.select(*_LOCKED_COLUMNS)
    .where(admin_jobs.c.id == sa.bindparam("job_id"))
    .with_for_update(of=admin_jobs, nowait=True)
)


def lock_job(conn: Connection, job_id: str, *, with_config: bool = True) -> Job:
    """Lock the job's row for this transaction; JobBusy when another caller holds it.

    For a chunk, the large columns are not read: ``errors`` comes back empty (chunks append
    to it, never read it) and ``config`` only ``with_config`` (the runner caches parsed
    configs, which never change).
    """
    try:
        row = conn.execute(_LOCK_JOB, {"job_id": job_id,
                                       "with_config": with_config}).one_or_none()
    except sa.exc.OperationalError as exc:
        if isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise JobBusy(
                f"Job {job_id} is busy: another caller is processing a chunk of it. "
                "Try again in a moment."
            ) from exc
        raise
    if row is None:
        raise not_found(conn, job_id)
    return job_of_row(row)


_UPDATE_PROGRESS = sa.text(
    f"""
    WITH job AS (
        UPDATE admin_jobs SET
            processed_items = processed_items + :processed,
            total_items = total_items + :added_items,
            success_count = success_count + :success,
            error_count = error_count + :errors,
            skip_count = skip_count + :skips,
            result = result || CAST(:result_patch AS jsonb),
            cursor = CAST(:cursor AS jsonb),
            chunk_count = chunk_count + 1,
            status = CASE WHEN :done THEN 'completed' ELSE 'processing' END,
            started_at = coalesce(started_at, now()),
            completed_at = CASE WHEN :done THEN now() END,
            driver = CASE WHEN :done THEN NULL ELSE :driven_by END,
            updated_at = now(),
            last_progress_at = now()
        WHERE id = :job_id AND status IN {UNFINISHED_SQL}
        RETURNING id, status, processed_items, total_items, success_count, error_count,
                  skip_count, failure_message, chunk_count, background
    ), new_errors AS (
        INSERT INTO admin_job_errors (job_id, topic_id, error)
        SELECT job.id, {TOPIC_OF_ERROR_SQL}, e.value
        FROM job, jsonb_array_elements(CAST(:new_errors AS jsonb)) WITH ORDINALITY AS e(value, n)
        ORDER BY e.n
    ), chunk AS (
        INSERT INTO admin_job_chunks (job_id, seq, started_at, finished_at, processed, success,
                                      errors, skips, driven_by, load_seconds, loaded)
        SELECT id, chunk_count, :started_at, clock_timestamp(), :processed, :success, :errors,
               :skips, :driven_by, :load_seconds, :loaded
        FROM job
    )
    SELECT * FROM job
    """
)


def update_progress(conn: Connection, job_id: str, *, processed: int, success: int, errors: int,
                 skips: int, cursor: dict[str, Any], new_errors: list[dict[str, Any]],
                 result_patch: dict[str, Any], started_at: datetime, done: bool,
                 driven_by: str | None = None, load_seconds: float = 0.0,
                 loaded: str | None = None, added_items: int = 0) -> Progress:
    """Add one chunk's counters, errors and result to the job, save its cursor and log the
    chunk (who drove it, any one-time load in it), in one statement. pending -> processing
    on the first chunk; with ``done`` the job is completed (completed_at stamped);
    ``added_items`` grows the job's total (work the job found it has to do).
    """
    row = conn.execute(_UPDATE_PROGRESS, {
        "job_id": job_id, "processed": processed, "success": success, "errors": errors,
        "skips": skips, "new_errors": json.dumps(new_errors),
        "result_patch": json.dumps(result_patch), "cursor": json.dumps(cursor),
        "started_at": started_at, "done": done, "driven_by": driven_by,
        "load_seconds": load_seconds, "loaded": loaded, "added_items": added_items,
    }).one_or_none()
    if row is None:
        raise JobNotRunnable(f"Job {job_id} is no longer running; the chunk was not recorded.")
    return Progress(**row._mapping)


def fail_job(conn: Connection, job_id: str, message: str) -> None:
    """Mark an unfinished job failed with the reason (an event records it); a finished job
    is left alone.
    """
    failed = conn.execute(
        sa.update(admin_jobs)
        .where(admin_jobs.c.id == job_id, UNFINISHED_JOB)
        .values(status="failed", failure_message=message[:2000], completed_at=sa.func.now(),
                driver=None,
                started_at=sa.func.coalesce(admin_jobs.c.started_at, sa.func.now()),
                updated_at=sa.func.now())
        .returning(admin_jobs.c.id)).first()
    if failed is not None:
        record_event(conn, job_id, "failed", message=message[:2000])


def resume_job(conn: Connection, job_id: str, *, created_by: str) -> Job:
    """Put a failed job back to processing from its saved cursor (its counters, errors and
    results kept), recording who resumed it and the failure it had.
    """
    row = conn.execute(sa.select(admin_jobs.c.status, admin_jobs.c.failure_message,
                                 admin_jobs.c.staged_pruned, admin_jobs.c.log_pruned_at)
                       .where(admin_jobs.c.id == job_id).with_for_update()).one_or_none()
    if row is None:
        raise not_found(conn, job_id)
    if row.status != "failed":
        raise Conflict(f"Job {job_id} is {row.status}; only a failed job can be resumed.")
    if row.staged_pruned:
        raise Conflict(f"Job {job_id} cannot be resumed: retention removed its "
                       f"{row.staged_pruned:,} staged LLM results on "
                       f"{row.log_pruned_at:%Y-%m-%d}, so those answers are gone. Retry its "
                       "topics with a new job instead.")
    try:
        with conn.begin_nested():
            conn.execute(sa.update(admin_jobs).where(admin_jobs.c.id == job_id).values(
                status="processing", failure_message=None, completed_at=None,
                # its chunk log (if retention removed it) starts again, and is kept again
                log_pruned_at=None,
                updated_at=sa.func.now(), last_progress_at=sa.func.now()))
    except sa.exc.IntegrityError as exc:  # another live rollback, undo or retry of its source
        raise Conflict(f"Job {job_id} cannot be resumed: its source job has another live "
                       "rollback, undo or retry now; finish or cancel that one first.") from exc
    record_event(conn, job_id, "resumed", created_by=created_by,
                 message=f"after: {row.failure_message}" if row.failure_message else None)
    return get_job(conn, job_id)


@dataclass(frozen=True)
class JobEvent:
    """Something that happened to a job besides its chunks."""

    # failed, resumed, cancelled, to_background, taken_over, chunk_stopped, pruned
    kind: str
    message: str | None
    created_by: str | None
    created_at: datetime


def record_event(conn: Connection, job_id: str, kind: str, *, message: str | None = None,
                 created_by: str | None = None) -> None:
    """Add an event to the job's history."""
    conn.execute(sa.insert(admin_job_events).values(job_id=job_id, kind=kind, message=message,
                                                    created_by=created_by))


@contextmanager
def _row_lock_within(conn: Connection, seconds: float | None, busy: str) -> Iterator[None]:
    """Statements inside wait at most ``seconds`` for a row lock (a chunk in flight holds
    the job's row), then JobBusy(``busy``); afterwards locks are waited for as usual.
    With ``seconds`` None, as long as it takes.
    """
    if seconds is None:
        yield
        return
    conn.execute(sa.text(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'"))
    try:
        yield
    except sa.exc.OperationalError as exc:
        if isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise JobBusy(busy) from None
        raise
    conn.execute(sa.text("SET LOCAL lock_timeout = DEFAULT"))


def set_background(conn: Connection, job_id: str, on: bool, *, by: str | None) -> bool:
    """Hand an unfinished job to the workers (``on``) or take it back; records an event.
    False when the job is finished or already so. A chunk in flight holds the job's row:
    this waits up to 3 s for it, then JobBusy (try again once that chunk has committed).
    """
    with _row_lock_within(conn, 3.0, f"A chunk of job {job_id} is running; try again when "
                                     "it has committed."):
        changed = conn.execute(
            sa.update(admin_jobs).where(admin_jobs.c.id == job_id,
                                        UNFINISHED_JOB,
                                        admin_jobs.c.background.is_not(on))
            .values(background=on, driver=None, updated_at=sa.func.now())).rowcount
    if changed:
        record_event(conn, job_id, "to_background" if on else "taken_over", created_by=by)
    return bool(changed)


def release_driver(conn: Connection, job_id: str, driver: str | None) -> None:
    """``driver`` stops driving the job (a Stop, a closed tab, the end of a command): the
    job reads as driven by nobody, unless another driver's chunk has claimed it since.
    """
    if driver is not None:
        conn.execute(sa.update(admin_jobs).where(admin_jobs.c.id == job_id,
                                                 admin_jobs.c.driver == driver)
                     .values(driver=None))


def job_events(conn: Connection, job_id: str) -> list[JobEvent]:
    """The job's events, oldest first."""
    rows = conn.execute(
        sa.select(admin_job_events.c.kind, admin_job_events.c.message,
                  admin_job_events.c.created_by, admin_job_events.c.created_at)
        .where(admin_job_events.c.job_id == job_id).order_by(admin_job_events.c.id))
    return [JobEvent(*row) for row in rows]


def cancel_job(conn: Connection, job_id: str, *, by: str | None = None,
               message: str | None = None, wait_seconds: float | None = None) -> Job:
    """Cancel a pending or processing job (an event records who, and ``message`` why); waits
    for a running chunk to commit first, at most ``wait_seconds`` if given (then JobBusy).
    """
    # once the row is ours, on_cancel's statements wait as usual
    with _row_lock_within(conn, wait_seconds, f"A chunk of job {job_id} ran for more than "
                          f"{wait_seconds or 0:g} s; cancel it again when that chunk has "
                          "committed."):
        row = conn.execute(
            sa.select(admin_jobs.c.status).where(admin_jobs.c.id == job_id).with_for_update()
        ).one_or_none()
    if row is None:
        raise not_found(conn, job_id)
    if row.status in FINISHED_STATUSES:
        raise JobNotRunnable(f"Job {job_id} is already {row.status}; it cannot be cancelled.")
    conn.execute(
        sa.update(admin_jobs).where(admin_jobs.c.id == job_id)
        .values(status="cancelled", completed_at=sa.func.now(), driver=None,
                updated_at=sa.func.now())
    )
    record_event(conn, job_id, "cancelled", created_by=by, message=message)
    return get_job(conn, job_id)
