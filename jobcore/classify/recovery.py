"""Retry of a reclassify job's failed topics: the follow-up that offers it and creates the
retry job (all its errors' topics, or one group of them). A local retry under the rules that
missed leaves the rule misses out (the same rules miss the same names again); a group retry
takes the topics it lists, misses included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.classify.segment_classifier import NO_MATCH
from jobcore.errors import Conflict, UsageError
from jobcore.jobs import runner, store
from jobcore.jobs.follow_ups import LIVE, FollowUp, RelatedJob, Relation, named
from jobcore.schema import admin_job_errors, admin_jobs

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


# an error that is a rule miss (see segment_classifier.NO_MATCH)
_RULE_MISS = admin_job_errors.c.error["message"].astext == NO_MATCH


def _ran_under(conn: Connection, job_id: str) -> str | None:
    """The rules version a reclassify job was planned with (its cursor's)."""
    return conn.execute(sa.select(admin_jobs.c.cursor["rulesVersion"].astext).where(
        admin_jobs.c.id == job_id)).scalar_one_or_none()


def _rule_misses(conn: Connection, job_id: str) -> int:
    return conn.execute(sa.select(sa.func.count()).where(
        admin_job_errors.c.job_id == job_id, _RULE_MISS)).scalar_one()


def error_topic_ids(skip_misses: bool) -> sa.Select:
    """The topic ids the errors of job :retry_of name (without its rule misses)."""
    ids = store.error_topic_ids(sa.bindparam("retry_of"))
    if skip_misses:
        ids = ids.where(~_RULE_MISS)
    return ids


def skips_rule_misses(conn: Connection, config: Any, rules_version: str) -> bool:
    """Whether a retry with this config leaves its source's rule misses out: a local retry
    of all the errors of a job the same rules ran (rules changed since: they may match now).
    """
    if config.retry_of is None or config.mode != "local" or config.topic_ids is not None:
        return False
    return _ran_under(conn, config.retry_of) == rules_version


def _misses_under(conn: Connection, job: store.JobSummary, rules_version: str) -> int:
    """How many of a local reclassify job's errors are rule misses under ``rules_version``
    when the job ran under it (0 otherwise: other rules may match them now).
    """
    if (job.error_count == 0 or job.config.get("mode", "local") != "local"
            or job.config.get("rollbackOf") or _ran_under(conn, job.id) != rules_version):
        return 0
    return _rule_misses(conn, job.id)


def rule_miss_note(conn: Connection, job: store.JobSummary, rules_version: str) -> str | None:
    """What Retry errors leaves out of this job's errors, said beside them; None when it
    takes them all.
    """
    misses = _misses_under(conn, job, rules_version)
    if not misses:
        return None
    return (f"{misses:,} of these errors are rule misses under the rules still in use "
            f"({rules_version}): Retry errors leaves them out, as a local retry cannot "
            "classify them (retry them with Claude, or as their group below, or classify "
            "them in the review queue).")


def only_rule_misses(conn: Connection, job: store.JobSummary, rules_version: str) -> str | None:
    """Why a retry of all ``job``'s errors is refused up front when every one of them is a
    rule miss under the rules still in use (a bulk retry leaves the job out); else None.
    """
    misses = _misses_under(conn, job, rules_version)
    if not misses or misses < job.error_count:
        return None
    return (f"its errors are all rule misses ({misses:,}) under the rules still in use "
            f"({rules_version}): a local retry cannot classify them (retry them with Claude, "
            "or classify them in the review queue)")


def refuse_only_rule_misses(conn: Connection, source_id: str, rules_version: str) -> None:
    """Conflict when every error of the source is a rule miss: a local retry would change
    nothing; say what would.
    """
    misses = _rule_misses(conn, source_id)
    if misses:
        raise Conflict(
            f"Job {source_id}: its errors are rule misses ({misses:,}) under the same rules "
            f"({rules_version}): a local retry cannot classify them. Retry them with Claude "
            "(a reclassify in mode llm), pick their group under Retry a group to try anyway, "
            "or classify them in the review queue.")


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
