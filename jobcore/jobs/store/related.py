"""Which jobs a job names (the job it came from) and which jobs name it (what came of it),
by their source columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.jobs.store.records import LISTED_COLUMNS, SUMMARY_COLUMNS, JobSummary, summary_of_row
from jobcore.schema import (
    admin_jobs,
)


def jobs_named_by(conn: Connection, job: JobSummary) -> list[JobSummary]:
    """The jobs ``job``'s config names by one of its values (the job it came from: a
    rollback's source), in the order of the config's keys; ids of no job are left out.
    """
    ids = [v for v in job.config.values() if isinstance(v, str) and v.startswith("job_")]
    if not ids:
        return []
    rows = {row.id: summary_of_row(row) for row in conn.execute(
        sa.select(*SUMMARY_COLUMNS).where(admin_jobs.c.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def jobs_naming(conn: Connection, job_ids: list[str]
                ) -> dict[str, list[tuple[str, JobSummary]]]:
    """For each of ``job_ids``, the jobs that came of it (their source_job_id names it), with
    the config key that names it (their source_key), oldest first.
    """
    found: dict[str, list[tuple[str, JobSummary]]] = {job_id: [] for job_id in job_ids}
    rows = conn.execute(
        sa.select(*LISTED_COLUMNS, admin_jobs.c.source_key, admin_jobs.c.source_job_id)
        .where(admin_jobs.c.source_job_id.in_(job_ids))
        .order_by(admin_jobs.c.created_at, admin_jobs.c.id))
    for row in rows:
        found[row.source_job_id].append((row.source_key, summary_of_row(row)))
    return found
