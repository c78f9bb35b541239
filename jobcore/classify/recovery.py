"""Undo and retry: the rollback of a job whose type can be rolled back, and the retry of a
reclassify job's failed topics.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from jobcore.classify.rollback import existing_rollback
from jobcore.db import get_engine
from jobcore.errors import UsageError
from jobcore.jobs import runner

MAX_GROUP_TOPICS = 10_000  # reclassify's topicIds limit


def create_rollback(job_id: str, *, created_by: str | None = None,
                    engine: Engine | None = None) -> runner.CreatedJob:
    """A reclassify job with ``rollbackOf`` that restores what ``job_id`` changed.

    Refused (UsageError) unless ``job_id`` is a completed reclassify job that is not itself a
    rollback and has no other rollback pending, running or done.
    """
    return runner.create_job("reclassify", {"rollbackOf": job_id}, created_by=created_by,
                             engine=engine)


def create_retry(job_id: str, *, created_by: str | None = None, engine: Engine | None = None,
                 group: str | None = None, topic_ids: list[int] | None = None
                 ) -> runner.CreatedJob:
    """A reclassify job over only the topics in ``job_id``'s errors, same mode, forced;
    with ``group`` (its label, recorded in the config as ``retryGroup``) only those of its
    errors' topics in ``topic_ids`` (one message pattern or parent category).

    Refused (UsageError) when that job has no topic errors or has not finished.
    """
    source = runner.get_job(job_id, with_errors=False, full_result=False, engine=engine)
    config = {"mode": source.config.get("mode", "local"), "force": True, "retryOf": job_id}
    if group is not None:
        ids = sorted(set(topic_ids or []))
        if not ids:
            raise UsageError(f"The group {group!r} names no topic to retry.")
        if len(ids) > MAX_GROUP_TOPICS:
            raise UsageError(f"The group {group!r} holds {len(ids):,} topics, more than a group "
                             f"retry takes ({MAX_GROUP_TOPICS:,}): retry all the errors "
                             "instead.")
        label = group if len(group) <= 500 else group[:499] + "…"  # the config's limit
        config.update(retryGroup=label, topicIds=ids)
    return runner.create_job("reclassify", config, created_by=created_by, engine=engine)


def find_rollback(job_id: str, *, engine: Engine | None = None) -> str | None:
    """The id of the pending, running or completed rollback of ``job_id``, if any."""
    with (engine or get_engine()).connect() as conn:
        existing = existing_rollback(conn, job_id)
    return existing.id if existing is not None else None
