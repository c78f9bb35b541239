"""Retry of a reclassify job's failed topics: the follow-up that offers it and creates the
retry job (all its errors' topics, or one group of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from jobcore.errors import UsageError
from jobcore.jobs import runner, store
from jobcore.jobs.follow_ups import LIVE, FollowUp, RelatedJob, Relation, named

MAX_GROUP_TOPICS = 10_000  # reclassify's topicIds limit

RETRY_OF = Relation(
    "retryOf", "retry of the errors of", "retried by", kind="Retry errors",
    unique_index="uq_admin_jobs_one_live_retry",
    conflict="Job {source} already has a retry in progress; let it finish, or cancel it, first.")


class RetryErrorsFollowUp(FollowUp):
    """Retry errors: a reclassify job over the topics in a finished job's errors, same mode,
    forced.
    """

    action = "retry"
    label = "Retry errors"
    icon = ":material/replay:"

    def refusal(self, job: store.JobSummary, came_of: Sequence[RelatedJob]) -> str | None:
        if job.config.get("rollbackOf"):
            return "a rollback: its errors are not retried"
        if not job.is_finished:
            return f"still {job.status}: retry its errors when it has finished"
        if job.error_count == 0:
            return "no errors to retry"
        live = named(came_of, RETRY_OF.key, LIVE)
        if live is not None:
            return (f"already has a retry in progress (job {live.job.id}, {live.job.status}); "
                    "let it finish, or cancel it, first")
        return None

    def create(self, job_id: str, *, created_by: str | None = None,
               engine: Engine | None = None, group: str | None = None,
               topic_ids: list[int] | None = None, **options: Any) -> runner.CreatedJob:
        """With ``group`` (its label, recorded in the config as ``retryGroup``) only those of
        the errors' topics in ``topic_ids`` (one message pattern or parent category).
        """
        source = runner.get_job(job_id, with_errors=False, full_result=False, engine=engine)
        config = {"mode": source.config.get("mode", "local"), "force": True,
                  RETRY_OF.key: job_id}
        if group is not None:
            ids = sorted(set(topic_ids or []))
            if not ids:
                raise UsageError(f"The group {group!r} names no topic to retry.")
            if len(ids) > MAX_GROUP_TOPICS:
                raise UsageError(f"The group {group!r} holds {len(ids):,} topics, more than a "
                                 f"group retry takes ({MAX_GROUP_TOPICS:,}): retry all the "
                                 "errors instead.")
            label = group if len(group) <= 500 else group[:499] + "…"  # the config's limit
            config.update(retryGroup=label, topicIds=ids)
        return runner.create_job("reclassify", config, created_by=created_by, engine=engine)


RETRY_ERRORS = RetryErrorsFollowUp()


def create_rollback(job_id: str, *, created_by: str | None = None,
                    engine: Engine | None = None) -> runner.CreatedJob:
    """A reclassify job with ``rollbackOf`` that restores what ``job_id`` changed; refused
    (Conflict) as the Rollback follow-up's refusal says.
    """
    from jobcore.classify.rollback import ROLLBACK

    return ROLLBACK.create(job_id, created_by=created_by, engine=engine)


def create_retry(job_id: str, *, created_by: str | None = None, engine: Engine | None = None,
                 group: str | None = None, topic_ids: list[int] | None = None
                 ) -> runner.CreatedJob:
    """A reclassify job over the topics in ``job_id``'s errors (see RetryErrorsFollowUp)."""
    return RETRY_ERRORS.create(job_id, created_by=created_by, engine=engine, group=group,
                               topic_ids=topic_ids)
