"""Job records as they are read: Job and JobSummary, one job by id, lists by filter, a
job's errors, and what retention left of a pruned job.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, JSONPATH, aggregate_order_by
from sqlalchemy.engine import Connection

from jobcore import text_checks
from jobcore.errors import (
    JobNotFound,
    JobPruned,
    UsageError,
)
from jobcore.jobs.store.chunks import chunks_in_flight
from jobcore.schema import (
    FINISHED_STATUSES,
    JOB_STATUSES,
    admin_job_errors,
    admin_jobs,
    pruned_jobs,
    topic_history,
)
from jobcore.sql_rules import PAUSED_JOB, like_pattern, topic_id_of

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
    driver: str | None  # who drives it now (set by each chunk, cleared when it stops)

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
SUMMARY_COLUMNS = [admin_jobs.c[name] for name in _SUMMARY_FIELDS]
# Lists of jobs read each config without its lists of items (a merge's clusters: 1.5 MB for
# 40,000; a retry's topic ids), which only the job's own detail shows.
LISTED_WITHOUT = ("clusters", "topicIds")
LISTED_COLUMNS = [
    sa.type_coerce(admin_jobs.c.config.op("-")(sa.literal(list(LISTED_WITHOUT),
                                                          ARRAY(sa.Text))),
                   JSONB).label("config") if c.name == "config" else c
    for c in SUMMARY_COLUMNS]
NO_ERRORS = sa.cast(sa.literal("[]"), JSONB)
# The job's errors in the order recorded, as one JSON array (admin_job_errors).
_ERRORS = sa.func.coalesce(
    sa.select(sa.func.jsonb_agg(aggregate_order_by(admin_job_errors.c.error,
                                                   admin_job_errors.c.id)))
    .where(admin_job_errors.c.job_id == admin_jobs.c.id).scalar_subquery(), NO_ERRORS)
_JOB_COLUMNS = [*SUMMARY_COLUMNS, _ERRORS.label("errors"), admin_jobs.c.result,
                admin_jobs.c.cursor]
_JOB_COLUMNS_WITHOUT_ERRORS = [*SUMMARY_COLUMNS, NO_ERRORS.label("errors"),
                               admin_jobs.c.result, admin_jobs.c.cursor]


def job_of_row(row: sa.Row) -> Job:
    return Job(**{name: getattr(row, name) for name in _JOB_FIELDS})


def summary_of_row(row: sa.Row) -> JobSummary:
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


def get_job(conn: Connection, job_id: str, *, with_errors: bool = True) -> Job:
    """The job with this id (``errors`` empty unless ``with_errors``); JobNotFound when
    there is none.
    """
    columns = _JOB_COLUMNS if with_errors else _JOB_COLUMNS_WITHOUT_ERRORS
    text_checks.checked(job_id, "The job id")
    row = conn.execute(sa.select(*columns).where(admin_jobs.c.id == job_id)).one_or_none()
    if row is None:
        raise not_found(conn, job_id)
    return job_of_row(row)


def get_summary(conn: Connection, job_id: str) -> JobSummary:
    """The job without its large columns; JobNotFound when there is none."""
    text_checks.checked(job_id, "The job id")
    row = conn.execute(sa.select(*SUMMARY_COLUMNS)
                       .where(admin_jobs.c.id == job_id)).one_or_none()
    if row is None:
        raise not_found(conn, job_id)
    return summary_of_row(row)


FILTER_STATUSES = (*JOB_STATUSES, "paused")


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a list or a bulk action covers; None: any."""

    job_type: str | None = None
    status: str | None = None  # a job status, or "paused" (processing, idle PAUSED_AFTER)
    created_by: str | None = None
    created_since: datetime | None = None
    # what the jobs were given or touched: a value in their config (a category, a source
    # job), their id, or a topic id among their config, their changes or their errors
    mentioning: str | None = None

    def __post_init__(self) -> None:
        if self.created_by is not None:
            text_checks.checked(self.created_by, "The 'created by' filter")
        if self.mentioning is not None:
            text_checks.checked(self.mentioning, "The search")
            if len(self.mentioning) > 200:
                raise UsageError("Search for at most 200 characters (a config value, a job "
                                 "id or a topic id).")
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
        if self.mentioning:
            where.append(_mentioning(self.mentioning.strip()))
        return where

    def describe(self) -> str:
        """The filters in words ("" when none is set)."""
        parts = [f"type {self.job_type}" if self.job_type else "",
                 f"status {self.status}" if self.status else "",
                 f"created by {self.created_by}" if self.created_by else "",
                 f"created since {self.created_since.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
                 if self.created_since else "",
                 f"mentioning {self.mentioning!r}" if self.mentioning else ""]
        return ", ".join(p for p in parts if p)


def _mentioning(text: str) -> sa.ColumnElement[bool]:
    """Jobs whose id or config holds ``text`` (case aside); a topic id ('123' or '#123'):
    those whose config names it, that changed it, or whose errors name it.
    """
    topic_id = topic_id_of(text)
    if topic_id is not None:
        return sa.or_(
            sa.func.jsonb_path_exists(admin_jobs.c.config,
                                      sa.cast("$.** ? (@ == $id)", JSONPATH),
                                      sa.func.jsonb_build_object("id", topic_id)),
            admin_jobs.c.id.in_(sa.select(admin_job_errors.c.job_id)
                                .where(admin_job_errors.c.topic_id == topic_id)),
            admin_jobs.c.id.in_(sa.select(topic_history.c.job_id)
                                .where(topic_history.c.topic_id == topic_id)))
    pattern = like_pattern(text, fold=True)
    return sa.or_(sa.func.lower(sa.cast(admin_jobs.c.config, sa.Text)).like(pattern),
                  sa.func.lower(admin_jobs.c.id).like(pattern))


def list_jobs(conn: Connection, *, job_type: str | None = None, status: str | None = None,
              limit: int = LIST_LIMIT_DEFAULT, created_by: str | None = None,
              created_since: datetime | None = None,
              mentioning: str | None = None) -> list[JobSummary]:
    """Jobs newest first, optionally filtered (see JobFilter); limit 1..100."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT_MAX:
        raise UsageError(f"limit must be a whole number from 1 to {LIST_LIMIT_MAX}, got {limit!r}.")
    return matching_jobs(conn, JobFilter(job_type, status, created_by, created_since,
                                         mentioning or None), limit=limit)


def matching_jobs(conn: Connection, filters: JobFilter, *, limit: int) -> list[JobSummary]:
    """At most ``limit`` jobs the filters match, newest first; for "paused", not those a
    chunk is running for right now (driven after all).
    """
    stmt = (sa.select(*LISTED_COLUMNS).where(*filters.clauses())
            .order_by(admin_jobs.c.created_at.desc(), admin_jobs.c.id.desc()))
    jobs = [summary_of_row(row) for row in conn.execute(stmt.limit(limit))]
    if filters.status == "paused":
        busy = {c.job_id for c in chunks_in_flight(conn, [j.id for j in jobs])}
        jobs = [j for j in jobs if j.id not in busy]
    return jobs



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
