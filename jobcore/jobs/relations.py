"""The relations between jobs and the follow-ups a job offers, read from the handlers'
declarations (jobcore.jobs.follow_ups): what a job came from and what came of it, with
their words; what kind of job it is; which follow-ups it offers now.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from jobcore.jobs import store
from jobcore.jobs.follow_ups import FollowUp, RelatedJob, Relation
from jobcore.jobs.registry import get_handler


def relation_of(job_type: str, config: dict) -> tuple[Relation, str] | None:
    """The relation by which a job of this type and config names the job it came from, and
    that job's id; None when it came from none.
    """
    for relation in get_handler(job_type).relations:
        value = config.get(relation.key)
        if isinstance(value, str):
            return relation, value
    return None


def job_kind(job: store.JobSummary) -> str:
    """A job's type in words: a rollback, retry, undo or sweep of a job's topics as such
    (its relation's kind), else its type's label.
    """
    found = relation_of(job.job_type, job.config)
    if found is not None and found[0].kind:
        return found[0].kind
    return get_handler(job.job_type).label


def _came_of_words(key: str, job: store.JobSummary) -> RelatedJob:
    relation = next((r for r in get_handler(job.job_type).relations if r.key == key), None)
    return RelatedJob(key, relation.came_of if relation else key, job)


def came_of(conn: Connection, job: store.JobSummary) -> list[RelatedJob]:
    """The jobs that came of ``job`` (its rollback, retries, undo...), oldest first."""
    return came_of_each(conn, [job])[job.id]


def came_of_each(conn: Connection, jobs: list[store.JobSummary]
                 ) -> dict[str, list[RelatedJob]]:
    """``came_of`` for many jobs in one query, by job id."""
    found = store.jobs_naming(conn, [j.id for j in jobs])
    return {job_id: [_came_of_words(k, other) for k, other in pairs]
            for job_id, pairs in found.items()}


def came_from(conn: Connection, job: store.JobSummary) -> list[RelatedJob]:
    """The job ``job`` came from (none, or one), with its relation's words."""
    found = relation_of(job.job_type, job.config)
    if found is None:
        return []
    relation, source_id = found
    return [RelatedJob(relation.key, relation.came_from, source)
            for source in store.jobs_named_by(conn, job) if source.id == source_id]


def follow_ups_offered(job: store.JobSummary, came_of: list[RelatedJob]) -> list[FollowUp]:
    """The follow-ups the job's type declares that the job takes now, in declared order."""
    if not job.is_finished:
        return []
    return [f for f in get_handler(job.job_type).follow_ups if f.refusal(job, came_of) is None]


def follow_up(job: store.JobSummary, action: str) -> FollowUp | None:
    """The follow-up ``action`` the job's type declares, if it declares it."""
    return next((f for f in get_handler(job.job_type).follow_ups if f.action == action), None)
