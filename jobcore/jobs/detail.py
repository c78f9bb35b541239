"""What a job's detail page reads besides the job itself, each through the job type's
declarations: the jobs it came from and that came of it, its type's links and tables, and
the note on its errors.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from jobcore.db import get_engine
from jobcore.jobs import relations, store
from jobcore.jobs.follow_ups import DetailLink, DetailTable, RelatedJob
from jobcore.jobs.registry import get_handler


def related_jobs(job: store.JobSummary, *, engine: Engine | None = None
                 ) -> tuple[list[RelatedJob], list[RelatedJob]]:
    """What a job came from and what came of it (rollbacks, retries, sweeps, merges, undos)."""
    with (engine or get_engine()).connect() as conn:
        return relations.came_from(conn, job), relations.came_of(conn, job)


def detail_links(job: store.JobSummary, *, engine: Engine | None = None
                 ) -> list[DetailLink]:
    """The links the job's type shows on its detail page (see JobHandler.detail_links)."""
    with (engine or get_engine()).connect() as conn:
        return get_handler(job.job_type).detail_links(conn, job)


def detail_tables(job: store.JobSummary, *, engine: Engine | None = None
                  ) -> list[DetailTable]:
    """The tables the job's type shows on its detail page (see JobHandler.detail_tables)."""
    with (engine or get_engine()).connect() as conn:
        return get_handler(job.job_type).detail_tables(conn, job)


def errors_note(job: store.JobSummary, *, engine: Engine | None = None) -> str | None:
    """What the job's type says beside its errors (see JobHandler.errors_note)."""
    with (engine or get_engine()).connect() as conn:
        return get_handler(job.job_type).errors_note(conn, job)
