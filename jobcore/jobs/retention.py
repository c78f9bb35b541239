"""Retention: what finished jobs keep, and for how long (settings
``CHUNK_LOG_RETENTION_DAYS``, default 30, and ``JOB_RETENTION_DAYS``, default never).

- A finished job's **chunk log and staged LLM results** go ``chunk_log_retention_days``
  after it ended; the job keeps its record, errors, events and batches, and says when
  (``log_pruned_at``; ``staged_pruned`` counts the staged answers that went, and such a job
  can no longer be resumed).
- With ``job_retention_days``, a finished job itself goes that many days after it ended,
  unless a job that may still run names it in its config (a pending or running rollback,
  retry, undo or sweep of it, or a failed one that can be resumed). With it go its errors,
  events, chunk log, staged results and batches, and for a sweep its clusters and verified
  pairs (so the analysts' per-band figures lose that sweep's proposals).
  What is left is a row of ``pruned_jobs``, so that its id still explains itself; the
  topics it changed keep their history and merges, which name it by id.

``prune`` works in batches of jobs, one transaction each, so that neither the job list nor
a chunk waits on it for long; rows another transaction holds are left for the next run. A
database advisory lock keeps two pruners (two workers) from doing the same work at once.
This module and ``store.py`` are the only writers of ``admin_jobs``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore import audit
from jobcore.config import get_settings
from jobcore.db import get_engine
from jobcore.sql_rules import FINISHED_SQL, UNFINISHED_SQL

# jobs per transaction: a removed job takes its errors with it (100,000 for some), a pruned
# log its chunks; small batches keep each transaction (and a worker's slice) short
JOB_BATCH = 200
LOG_BATCH = 1_000
_LOCK_KEY = 0x6A6F62636F7265  # pg advisory lock: one pruner at a time ("jobcore")


@dataclass(frozen=True)
class Policy:
    """How long finished jobs keep their chunk log and themselves (None: forever)."""

    log_days: int | None
    job_days: int | None
    audit_days: int | None = None  # the audit log's rows (None: forever)

    @classmethod
    def from_settings(cls) -> Policy:
        settings = get_settings()
        return cls(settings.chunk_log_retention_days, settings.job_retention_days,
                   settings.audit_retention_days)

    def describe(self) -> str:
        """The policy in one sentence."""
        log = ("Finished jobs keep their chunk log and staged LLM results "
               + (f"{self.log_days} days" if self.log_days else "forever"))
        jobs = (f"finished jobs themselves are removed after {self.job_days} days"
                if self.job_days else "finished jobs themselves are kept")
        return f"{log}; {jobs}."


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed, or with ``dry_run`` would remove."""

    dry_run: bool
    jobs: int  # finished jobs removed (with their chunk logs, errors and events)
    jobs_kept_for_live: int  # old enough, but an unfinished job names them
    logs: int  # jobs whose chunk log and staged results were removed
    chunks: int
    staged: int
    finished: bool = True  # False: stopped at max_seconds, the rest waits for the next run
    skipped: bool = False  # another prune was running: this one did nothing
    audit_rows: int = 0  # audit log rows past AUDIT_RETENTION_DAYS removed

    def summary(self) -> str:
        """One line for the CLI, a worker's log and the page."""
        if self.skipped:
            return "Another prune is running (a worker's, or a second command): nothing done."
        verb = "would remove" if self.dry_run else "removed"
        line = (f"Retention {verb} the chunk logs of {self.logs:,} finished "
                f"job{'s' if self.logs != 1 else ''} ({self.chunks:,} chunks, "
                f"{self.staged:,} staged LLM results)")
        if self.jobs:
            line += f" and {self.jobs:,} finished job{'s' if self.jobs != 1 else ''} whole"
        if self.audit_rows:
            line += f", {self.audit_rows:,} audit log rows past their retention"
        if self.jobs_kept_for_live:
            line += (f"; it keeps {self.jobs_kept_for_live:,} old enough to go that an "
                     "unfinished job still names")
        return line + ("." if self.finished else ". Stopped for time: run it again for the "
                       "rest.")


_FINISHED = f"j.status IN {FINISHED_SQL}"
# the source jobs that jobs which may still run name (a rollback, retry, undo or sweep of
# them pending, running, or failed and resumable): their records are still needed. Read
# once per prune, before its batches.
_LIVE_REFS = sa.text(f"""
    SELECT DISTINCT l.source_job_id
    FROM admin_jobs l
    WHERE (l.status IN {UNFINISHED_SQL} OR (l.status = 'failed' AND l.staged_pruned = 0))
      AND l.source_job_id IS NOT NULL
""")
_NAMED_BY_LIVE = "j.id = ANY(CAST(:live_refs AS text[]))"
_JOBS_DUE = f"{_FINISHED} AND j.completed_at < :job_cutoff"
_LOGS_DUE = f"{_FINISHED} AND j.log_pruned_at IS NULL AND j.completed_at < :log_cutoff"
_REMOVABLE = f"({_JOBS_DUE} AND NOT {_NAMED_BY_LIVE})"

_COUNT = sa.text(f"""
    SELECT
      (SELECT count(*) FROM admin_jobs j WHERE {_REMOVABLE}) AS jobs,
      (SELECT count(*) FROM admin_jobs j WHERE {_JOBS_DUE} AND {_NAMED_BY_LIVE}) AS kept,
      (SELECT count(*) FROM admin_jobs j WHERE {_LOGS_DUE} AND NOT {_REMOVABLE}) AS logs
""")
_COUNT_LOG_ROWS = sa.text(f"""
    WITH due AS (
        SELECT j.id FROM admin_jobs j WHERE {_LOGS_DUE} AND NOT {_REMOVABLE}
    )
    SELECT (SELECT count(*) FROM admin_job_chunks c JOIN due ON c.job_id = due.id) AS chunks,
           (SELECT count(*) FROM batch_results_staging s JOIN due ON s.job_id = due.id)
             AS staged
""")
_COUNT_KEPT = sa.text(f"""
    SELECT count(*) FROM admin_jobs j WHERE {_JOBS_DUE} AND {_NAMED_BY_LIVE}
""")


def _picked(due: str) -> str:
    """The CTE of one batch: the oldest ``batch`` jobs that are ``due``, locked (a job a
    chunk, a cancel or another pruner holds is left for the next batch).
    """
    return f"""picked AS (
        SELECT j.id FROM admin_jobs j
        WHERE {due}
        ORDER BY j.completed_at LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )"""


_REMOVE_JOBS = sa.text(f"""
    WITH {_picked(_REMOVABLE)}, tombstones AS (
        INSERT INTO pruned_jobs (id, job_type, status, created_by, created_at, completed_at,
                                 total_items, success_count, error_count)
        SELECT j.id, j.job_type, j.status, j.created_by, j.created_at, j.completed_at,
               j.total_items, j.success_count, j.error_count
        FROM admin_jobs j JOIN picked p ON p.id = j.id
        ON CONFLICT (id) DO NOTHING
    ), batches AS (
        DELETE FROM llm_batches b USING picked p WHERE b.job_id = p.id
    ), gone AS (
        DELETE FROM admin_jobs j USING picked p WHERE j.id = p.id RETURNING j.id
    )
    SELECT count(*) FROM gone
""")

_REMOVE_LOGS = sa.text(f"""
    WITH {_picked(_LOGS_DUE)}, chunks AS (
        DELETE FROM admin_job_chunks c USING picked p WHERE c.job_id = p.id RETURNING c.job_id
    ), staged AS (
        DELETE FROM batch_results_staging s USING picked p WHERE s.job_id = p.id
        RETURNING s.job_id
    ), staged_per_job AS (
        SELECT job_id, count(*) AS n FROM staged GROUP BY job_id
    ), marked AS (
        UPDATE admin_jobs j SET log_pruned_at = now(),
                                staged_pruned = j.staged_pruned + coalesce(s.n, 0)
        FROM picked p LEFT JOIN staged_per_job s ON s.job_id = p.id
        WHERE j.id = p.id
        RETURNING j.id
    ), events AS (
        INSERT INTO admin_job_events (job_id, kind, message, created_by)
        SELECT s.job_id, 'pruned', 'retention removed ' || s.n || ' staged LLM results (and '
               || 'the chunk log); the job cannot be resumed', 'retention'
        FROM staged_per_job s
    )
    SELECT (SELECT count(*) FROM marked) AS logs, (SELECT count(*) FROM chunks) AS chunks,
           (SELECT coalesce(sum(n), 0) FROM staged_per_job) AS staged
""")


def _parameters(conn: Connection, policy: Policy, now: datetime | None) -> dict[str, Any]:
    """The cutoffs of the policy as of ``now`` (default: the database's clock) and the
    source jobs still needed.
    """
    now = now or conn.execute(sa.text("SELECT now()")).scalar_one()
    return {**_cutoffs(policy, now),
            "live_refs": list(conn.execute(_LIVE_REFS).scalars())}


def _cutoffs(policy: Policy, now: datetime) -> dict[str, datetime]:
    far_past = datetime(1970, 1, 1, tzinfo=UTC)  # a policy of "forever" finds nothing due
    return {
        "job_cutoff": now - timedelta(days=policy.job_days) if policy.job_days else far_past,
        "log_cutoff": now - timedelta(days=policy.log_days) if policy.log_days else far_past,
    }


def prune(*, engine: Engine | None = None, policy: Policy | None = None,
          dry_run: bool = False, now: datetime | None = None,
          job_batch: int = JOB_BATCH, log_batch: int = LOG_BATCH,
          max_seconds: float | None = None) -> PruneReport:
    """Apply the retention ``policy`` (default: the settings) as of ``now`` (default: the
    database's clock): remove finished jobs past ``job_days``, then the chunk logs and
    staged results of those past ``log_days``. ``dry_run`` only counts. ``max_seconds``
    stops between batches (the report says so). A second pruner running at the same time
    finds nothing to do (an advisory lock) and reports zeros.
    """
    policy = policy or Policy.from_settings()
    engine = engine or get_engine()
    if not dry_run:
        actor = audit.allowed("prune", engine=engine)
        report = _prune(engine, policy, now, job_batch, log_batch, max_seconds)
        if actor.via != "worker" or report.jobs or report.logs or report.audit_rows:
            audit.record_outcome("prune", actor=actor, outcome="done", engine=engine, details={
                "jobs": report.jobs, "logs": report.logs, "auditRows": report.audit_rows,
                "finished": report.finished, "skipped": report.skipped})
        return report
    with engine.connect() as conn:
        cut = _parameters(conn, policy, now)
        counts = conn.execute(_COUNT, cut).one()
        rows = conn.execute(_COUNT_LOG_ROWS, cut).one()
    return PruneReport(True, counts.jobs, counts.kept, counts.logs, rows.chunks, rows.staged)


def _prune(engine: Engine, policy: Policy, now: datetime | None, job_batch: int,
           log_batch: int, max_seconds: float | None) -> PruneReport:
    started = time.monotonic()
    jobs = logs = chunks = staged = audit_rows = 0
    finished = True
    with engine.connect() as lock_conn:
        if not lock_conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                 {"k": _LOCK_KEY}).scalar_one():
            return PruneReport(False, 0, 0, 0, 0, 0, skipped=True)
        try:
            cut = _parameters(lock_conn, policy, now)
            lock_conn.commit()
            for statement in (_REMOVE_JOBS, _REMOVE_LOGS):
                if (statement is _REMOVE_JOBS and not policy.job_days) or (
                        statement is _REMOVE_LOGS and not policy.log_days):
                    continue
                while True:
                    if max_seconds is not None and time.monotonic() - started > max_seconds:
                        finished = False
                        break
                    with engine.begin() as conn:
                        if statement is _REMOVE_JOBS:
                            removed = conn.execute(statement,
                                                   {**cut, "batch": job_batch}).scalar()
                            jobs += removed
                            more = removed == job_batch
                        else:
                            row = conn.execute(statement, {**cut, "batch": log_batch}).one()
                            logs, chunks, staged = (logs + row.logs, chunks + row.chunks,
                                                    staged + row.staged)
                            more = row.logs == log_batch
                    if not more:
                        break
            with lock_conn.begin():
                kept = (lock_conn.execute(_COUNT_KEPT, cut).scalar_one()
                        if policy.job_days else 0)
            if policy.audit_days:
                with engine.begin() as conn:
                    audit_rows = audit.prune(conn, timedelta(days=policy.audit_days))
        finally:
            lock_conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            lock_conn.commit()
    return PruneReport(False, jobs, kept, logs, chunks, staged, finished,
                       audit_rows=audit_rows)
