"""The job store: the only code that writes ``admin_jobs``.

Every function takes an open connection (keyword ``conn``) and runs inside the caller's
transaction, so that a chunk's item writes and the job's counters commit together.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from psycopg import errors as pg_errors
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.engine import Connection

from jobcore import text_checks
from jobcore.errors import (
    Conflict,
    JobBusy,
    JobNotFound,
    JobNotRunnable,
    JobPruned,
    SchemaOutOfDate,
    UsageError,
)
from jobcore.schema import (
    FINISHED_STATUSES,
    JOB_STATUSES,
    admin_job_chunks,
    admin_job_errors,
    admin_job_events,
    admin_jobs,
    pruned_jobs,
)
from jobcore.sql_rules import PAUSED_JOB, TOPIC_OF_ERROR_SQL, UNFINISHED_JOB, UNFINISHED_SQL

LIST_LIMIT_DEFAULT = 20
LIST_LIMIT_MAX = 100


@dataclass(frozen=True)
class JobSummary:
    """A row of admin_jobs without its large columns (errors, result, cursor): for lists."""

    id: str
    job_type: str
    org_id: int | None
    created_by: str
    status: str
    config: dict[str, Any]
    total_items: int
    processed_items: int
    success_count: int
    error_count: int
    skip_count: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    last_progress_at: datetime | None
    failure_message: str | None
    chunk_count: int
    background: bool  # handed to the workers
    log_pruned_at: datetime | None  # retention removed its chunk log and staged results
    staged_pruned: int  # staged LLM results retention removed (the job cannot resume)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def progress(self) -> float:
        """Share of items processed, 0..1 (1 for a completed job of zero items)."""
        if self.total_items <= 0:
            return 1.0 if self.status == "completed" else 0.0
        return min(1.0, self.processed_items / self.total_items)

    def elapsed(self, now: datetime) -> timedelta | None:
        """Time since the first chunk started, up to completion."""
        if self.started_at is None:
            return None
        return (self.completed_at or now) - self.started_at


@dataclass(frozen=True)
class Job(JobSummary):
    """One whole row of admin_jobs."""

    errors: list[dict[str, Any]]
    result: dict[str, Any]
    cursor: dict[str, Any]


_JOB_FIELDS = tuple(f.name for f in fields(Job))
_SUMMARY_FIELDS = tuple(f.name for f in fields(JobSummary))
_SUMMARY_COLUMNS = [admin_jobs.c[name] for name in _SUMMARY_FIELDS]
# Lists of jobs read each config without its lists of items (a merge's clusters: 1.5 MB for
# 40,000; a retry's topic ids), which only the job's own detail shows.
LISTED_WITHOUT = ("clusters", "topicIds")
_LISTED_COLUMNS = [
    sa.type_coerce(admin_jobs.c.config.op("-")(sa.literal(list(LISTED_WITHOUT),
                                                          ARRAY(sa.Text))),
                   JSONB).label("config") if c.name == "config" else c
    for c in _SUMMARY_COLUMNS]
_NO_ERRORS = sa.cast(sa.literal("[]"), JSONB)
# The job's errors in the order recorded, as one JSON array (admin_job_errors).
_ERRORS = sa.func.coalesce(
    sa.select(sa.func.jsonb_agg(aggregate_order_by(admin_job_errors.c.error,
                                                   admin_job_errors.c.id)))
    .where(admin_job_errors.c.job_id == admin_jobs.c.id).scalar_subquery(), _NO_ERRORS)
_JOB_COLUMNS = [*_SUMMARY_COLUMNS, _ERRORS.label("errors"), admin_jobs.c.result,
                admin_jobs.c.cursor]
_JOB_COLUMNS_WITHOUT_ERRORS = [*_SUMMARY_COLUMNS, _NO_ERRORS.label("errors"),
                               admin_jobs.c.result, admin_jobs.c.cursor]


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


@dataclass(frozen=True)
class ChunkRecord:
    """One processed chunk, for throughput charts."""

    seq: int
    started_at: datetime
    finished_at: datetime
    processed: int
    success: int
    errors: int
    skips: int
    driven_by: str | None = None
    load_seconds: float = 0.0  # of the chunk's time, spent on a one-time load
    loaded: str | None = None  # what that load was ('the embedding model')

    @property
    def work_seconds(self) -> float:
        """The chunk's time without its one-time load (what rates are made of)."""
        spent = (self.finished_at - self.started_at).total_seconds()
        return max(spent - self.load_seconds, 0.0)


def _job(row: sa.Row) -> Job:
    return Job(**{name: getattr(row, name) for name in _JOB_FIELDS})


def _summary(row: sa.Row) -> JobSummary:
    return JobSummary(**{name: getattr(row, name) for name in _SUMMARY_FIELDS})


def pruned_job(conn: Connection, job_id: str) -> sa.Row | None:
    """What retention left of a job it removed (type, status, dates, counts), or None."""
    return conn.execute(sa.select(pruned_jobs).where(pruned_jobs.c.id == job_id)).first()


def not_found(conn: Connection, job_id: str) -> JobNotFound:
    """The error for a job id with no row: what retention left of it when it pruned the job
    (its type, status and when), else "no job with id".
    """
    gone = pruned_job(conn, job_id)
    if gone is None:
        return JobNotFound(f"No job with id {job_id!r}.")
    ended = f" {gone.completed_at:%Y-%m-%d}" if gone.completed_at else ""
    return JobPruned(
        f"Job {job_id} ({gone.job_type}, {gone.status}{ended}) was pruned on "
        f"{gone.pruned_at:%Y-%m-%d} under the retention settings: its record, errors and chunk "
        "log are gone, so it can no longer be rolled back, undone, retried or resumed. The "
        "topics it changed keep their history.")


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
        .returning(*_SUMMARY_COLUMNS, _NO_ERRORS.label("errors"), admin_jobs.c.result,
                   admin_jobs.c.cursor)
    )
    try:
        return _job(conn.execute(stmt).one())
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


def get_job(conn: Connection, job_id: str, *, with_errors: bool = True) -> Job:
    """The job with this id (``errors`` empty unless ``with_errors``); JobNotFound when
    there is none.
    """
    columns = _JOB_COLUMNS if with_errors else _JOB_COLUMNS_WITHOUT_ERRORS
    text_checks.checked(job_id, "The job id")
    row = conn.execute(sa.select(*columns).where(admin_jobs.c.id == job_id)).one_or_none()
    if row is None:
        raise not_found(conn, job_id)
    return _job(row)


def get_summary(conn: Connection, job_id: str) -> JobSummary:
    """The job without its large columns; JobNotFound when there is none."""
    text_checks.checked(job_id, "The job id")
    row = conn.execute(sa.select(*_SUMMARY_COLUMNS)
                       .where(admin_jobs.c.id == job_id)).one_or_none()
    if row is None:
        raise not_found(conn, job_id)
    return _summary(row)


_LOCKED_COLUMNS = [
    *(c for c in _SUMMARY_COLUMNS if c.name != "config"),
    sa.case((sa.bindparam("with_config", type_=sa.Boolean), admin_jobs.c.config),
            else_=sa.cast(sa.literal("{}"), admin_jobs.c.config.type)).label("config"),
    _NO_ERRORS.label("errors"),
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
    return _job(row)


FILTER_STATUSES = (*JOB_STATUSES, "paused")


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a list or a bulk action covers; None: any."""

    job_type: str | None = None
    status: str | None = None  # a job status, or "paused" (processing, idle PAUSED_AFTER)
    created_by: str | None = None
    created_since: datetime | None = None

    def __post_init__(self) -> None:
        if self.created_by is not None:
            text_checks.checked(self.created_by, "The 'created by' filter")
        if self.status is not None and self.status not in FILTER_STATUSES:
            raise UsageError(f"status must be one of {', '.join(FILTER_STATUSES)}, got "
                             f"{self.status!r}.")

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses on admin_jobs."""
        where = []
        if self.job_type is not None:
            where.append(admin_jobs.c.job_type == self.job_type)
        if self.status == "paused":
            where.append(PAUSED_JOB)
        elif self.status is not None:
            where.append(admin_jobs.c.status == self.status)
        if self.created_by is not None:
            where.append(admin_jobs.c.created_by == self.created_by)
        if self.created_since is not None:
            where.append(admin_jobs.c.created_at >= self.created_since)
        return where

    def describe(self) -> str:
        """The filters in words ("" when none is set)."""
        parts = [f"type {self.job_type}" if self.job_type else "",
                 f"status {self.status}" if self.status else "",
                 f"created by {self.created_by}" if self.created_by else "",
                 f"created since {self.created_since.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
                 if self.created_since else ""]
        return ", ".join(p for p in parts if p)


def list_jobs(conn: Connection, *, job_type: str | None = None, status: str | None = None,
              limit: int = LIST_LIMIT_DEFAULT, created_by: str | None = None,
              created_since: datetime | None = None) -> list[JobSummary]:
    """Jobs newest first, optionally filtered (see JobFilter); limit 1..100."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise UsageError(f"limit must be a whole number from 1 to {LIST_LIMIT_MAX}, got {limit!r}.")
    return matching_jobs(conn, JobFilter(job_type, status, created_by, created_since),
                         limit=limit)


def matching_jobs(conn: Connection, filters: JobFilter, *, limit: int) -> list[JobSummary]:
    """At most ``limit`` jobs the filters match, newest first; for "paused", not those a
    chunk is running for right now (driven after all).
    """
    stmt = (sa.select(*_LISTED_COLUMNS).where(*filters.clauses())
            .order_by(admin_jobs.c.created_at.desc(), admin_jobs.c.id.desc()))
    jobs = [_summary(row) for row in conn.execute(stmt.limit(limit))]
    if filters.status == "paused":
        busy = {c.job_id for c in chunks_in_flight(conn, [j.id for j in jobs])}
        jobs = [j for j in jobs if j.id not in busy]
    return jobs



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


def job_errors(conn: Connection, job_id: str, *, offset: int = 0,
               limit: int | None = None) -> list[dict[str, Any]]:
    """The job's errors in the order recorded, from the ``offset``-th on (at most
    ``limit``).
    """
    return list(conn.execute(
        sa.select(admin_job_errors.c.error).where(admin_job_errors.c.job_id == job_id)
        .order_by(admin_job_errors.c.id).offset(offset).limit(limit)).scalars())


def error_topic_ids(job_id: str | sa.BindParameter) -> sa.Select:
    """The topic ids the job's errors name (a subquery)."""
    return sa.select(admin_job_errors.c.topic_id).where(
        admin_job_errors.c.job_id == job_id, admin_job_errors.c.topic_id.is_not(None))


def fail_job(conn: Connection, job_id: str, message: str) -> None:
    """Mark an unfinished job failed with the reason (an event records it); a finished job
    is left alone.
    """
    failed = conn.execute(
        sa.update(admin_jobs)
        .where(admin_jobs.c.id == job_id, UNFINISHED_JOB)
        .values(status="failed", failure_message=message[:2000], completed_at=sa.func.now(),
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

    kind: str  # "failed" or "resumed"
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
            .values(background=on, updated_at=sa.func.now())).rowcount
    if changed:
        record_event(conn, job_id, "to_background" if on else "taken_over", created_by=by)
    return bool(changed)


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
        .values(status="cancelled", completed_at=sa.func.now(), updated_at=sa.func.now())
    )
    record_event(conn, job_id, "cancelled", created_by=by, message=message)
    return get_job(conn, job_id)


_CHUNK_APPLICATION = "jobcore "
_NAMEDATALEN = 63  # PostgreSQL keeps this many bytes of an application_name (ASCII only)


def chunk_application_name(job_id: str, driven_by: str | None) -> str:
    """The application_name a chunk's transaction carries: 'jobcore <job> <driver>', the
    driver made ASCII (PostgreSQL would turn other characters into '?') and cut with '...'
    to what PostgreSQL keeps.
    """
    name = f"{_CHUNK_APPLICATION}{job_id}"
    driver = (driven_by or "").encode("ascii", "replace").decode("ascii")
    room = _NAMEDATALEN - len(name) - 1
    if driver and len(driver) > room:  # cut at a word where one is near, and say so
        cut = driver[:max(room - 3, 0)]
        driver = (cut[:cut.rindex(" ")] if " " in cut else cut) + "..." if cut else ""
    return f"{name} {driver}" if driver else name


@dataclass(frozen=True)
class ChunkInFlight:
    """A chunk some process is running now (its transaction is open), timed on the
    database's clock.
    """

    job_id: str
    started_at: datetime  # UTC
    driven_by: str | None
    pid: int
    open_seconds: float  # since the chunk's transaction began
    idle_seconds: float  # since its last statement ended (0 while one runs)


_IN_FLIGHT = sa.text(
    """
    SELECT pid, xact_start, application_name,
           extract(epoch FROM clock_timestamp() - xact_start) AS open_seconds,
           CASE WHEN state LIKE 'idle in transaction%'
                THEN extract(epoch FROM clock_timestamp() - state_change) ELSE 0 END
               AS idle_seconds
    FROM pg_stat_activity
    WHERE datname = current_database() AND xact_start IS NOT NULL
      AND starts_with(application_name, :prefix)
    """)


def chunks_in_flight(conn: Connection, job_ids: list[str] | None = None
                     ) -> dict[str, ChunkInFlight]:
    """The chunks running now, by job (of ``job_ids``, else of every job), read from
    pg_stat_activity: no lock is taken, so asking never makes a driver busy.
    """
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))  # not a transaction's old copy
    found: dict[str, ChunkInFlight] = {}
    for row in conn.execute(_IN_FLIGHT, {"prefix": _CHUNK_APPLICATION}):
        job_id, _, driver = row.application_name[len(_CHUNK_APPLICATION):].partition(" ")
        if job_ids is None or job_id in job_ids:
            found[job_id] = ChunkInFlight(job_id, row.xact_start.astimezone(UTC), driver or None,
                                          row.pid, float(row.open_seconds),
                                          float(row.idle_seconds))
    return found


def stop_chunk(conn: Connection, chunk: ChunkInFlight) -> bool:
    """End the backend running this chunk (its transaction rolls back whole); True when it
    was still that chunk (same backend, same job, same transaction start).
    """
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return bool(conn.execute(sa.text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = :pid "
        "AND xact_start = :started_at "
        "AND (application_name = :name OR starts_with(application_name, :name || ' '))"),
        {"pid": chunk.pid, "started_at": chunk.started_at,
         "name": f"{_CHUNK_APPLICATION}{chunk.job_id}"}).scalar())


def list_chunks(conn: Connection, job_id: str) -> list[ChunkRecord]:
    """The job's chunks in order."""
    rows = conn.execute(
        sa.select(admin_job_chunks).where(admin_job_chunks.c.job_id == job_id)
        .order_by(admin_job_chunks.c.seq)
    )
    return [ChunkRecord(r.seq, r.started_at, r.finished_at, r.processed, r.success, r.errors,
                        r.skips, r.driven_by, r.load_seconds, r.loaded) for r in rows]


def jobs_named_by(conn: Connection, job: JobSummary) -> list[JobSummary]:
    """The jobs ``job``'s config names by one of its values (the job it came from: a
    rollback's source), in the order of the config's keys; ids of no job are left out.
    """
    ids = [v for v in job.config.values() if isinstance(v, str) and v.startswith("job_")]
    if not ids:
        return []
    rows = {row.id: _summary(row) for row in conn.execute(
        sa.select(*_SUMMARY_COLUMNS).where(admin_jobs.c.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def jobs_naming(conn: Connection, job_ids: list[str]
                ) -> dict[str, list[tuple[str, JobSummary]]]:
    """For each of ``job_ids``, the jobs that came of it (their source_job_id names it), with
    the config key that names it (their source_key), oldest first.
    """
    found: dict[str, list[tuple[str, JobSummary]]] = {job_id: [] for job_id in job_ids}
    rows = conn.execute(
        sa.select(*_LISTED_COLUMNS, admin_jobs.c.source_key, admin_jobs.c.source_job_id)
        .where(admin_jobs.c.source_job_id.in_(job_ids))
        .order_by(admin_jobs.c.created_at, admin_jobs.c.id))
    for row in rows:
        found[row.source_job_id].append((row.source_key, _summary(row)))
    return found
