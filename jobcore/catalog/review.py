"""The review queue: topics flagged ``needs_review``, fixed or resolved by an analyst.

An edit writes the classification (validated against the taxonomy, source ``manual``) and
a ``manual_edit`` history row with the user, and resolves the flag; resolving without an
edit records ``review_resolved``. Selected topics can instead be retried by a reclassify
job (local or LLM mode) over just those topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore.catalog import topic_store
from jobcore.classify.taxonomy import Classification, get_taxonomy
from jobcore.db import get_engine
from jobcore.errors import ConfigError, UsageError
from jobcore.jobs import runner
from jobcore.patterns import message_pattern
from jobcore.schema import topic_history, topics

QUEUE_LIMIT = 1000
MANUAL_VERSION = "manual"


@dataclass(frozen=True)
class FlaggedTopic:
    id: int
    name: str
    description: str | None
    classification: Classification
    reason: str
    flagged_at: datetime

    @property
    def reason_pattern(self) -> str:
        return message_pattern(self.reason)


def flagged(*, reason_pattern: str | None = None, parent_category: str | None = None,
            limit: int = QUEUE_LIMIT, engine: Engine | None = None) -> list[FlaggedTopic]:
    """Live topics that need review, oldest flag first, optionally filtered."""
    stmt = (sa.select(topics.c.id, topics.c.name, topics.c.description,
                      topics.c.segment_type, topics.c.taxonomy_type, topics.c.parent_category,
                      topics.c.subcategory, topics.c.audience_type, topics.c.review_reason,
                      topics.c.updated_at)
            .where(topic_store.LIVE, topics.c.review_status == "needs_review")
            .order_by(topics.c.updated_at, topics.c.id))
    if parent_category is not None:
        stmt = stmt.where(topics.c.parent_category == parent_category)
    with (engine or get_engine()).connect() as conn:
        rows = conn.execute(stmt).all()
    found = [FlaggedTopic(r.id, r.name, r.description, Classification(*r[3:8]),
                          r.review_reason or "", r.updated_at) for r in rows]
    if reason_pattern is not None:
        found = [t for t in found if t.reason_pattern == reason_pattern]
    return found[:limit]


def edit(topic_id: int, values: dict[str, str | None], *, user: str,
         engine: Engine | None = None) -> Classification:
    """Set a flagged topic's classification by hand and resolve its flag. ConfigError
    names the first field the taxonomy refuses.
    """
    new = Classification.from_mapping(values)
    problems = get_taxonomy().problems(new)
    if problems:
        field = next((f for f in values if f in problems[0]), "parent_category")
        raise ConfigError("; ".join(problems), field=field, problems={field: problems[0]})
    with (engine or get_engine()).begin() as conn:
        row = conn.execute(topic_store.select_topics(topics.c.id == topic_id)
                           .with_for_update()).one_or_none()
        if row is None:
            raise UsageError(f"Topic {topic_id} does not exist or was merged or deleted.")
        topic = topic_store.topic_row(row)
        topic_store.apply_classifications(conn, [topic_store.ClassificationWrite(
            topic.id, new, MANUAL_VERSION, "manual",
            (topic_store.classification_state(topic),
             {**new.as_dict(), "classification_version": MANUAL_VERSION,
              "classification_source": "manual"}))],
            batch_id=None, action="manual_edit", created_by=user)
        _resolve(conn, [topic_id])
    return new


def resolve(topic_ids: list[int], *, user: str, engine: Engine | None = None) -> int:
    """Mark topics reviewed as they are; returns how many were flagged."""
    with (engine or get_engine()).begin() as conn:
        done = _resolve(conn, topic_ids)
        if done:
            conn.execute(sa.insert(topic_history), [
                {"topic_id": i, "action": "review_resolved", "created_by": user,
                 "previous_values": {"review_status": "needs_review"},
                 "new_values": {"review_status": "reviewed"}} for i in done])
    return len(done)


def _resolve(conn, topic_ids: list[int]) -> list[int]:
    return list(conn.execute(
        sa.update(topics).where(topics.c.id.in_(topic_ids),
                                topics.c.review_status == "needs_review")
        .values(review_status="reviewed", updated_at=sa.func.now())
        .returning(topics.c.id)).scalars())


def retry(topic_ids: list[int], *, mode: str, user: str,
          engine: Engine | None = None) -> runner.CreatedJob:
    """A reclassify job (local or llm) over exactly these topics."""
    if not topic_ids:
        raise UsageError("Select at least one topic to retry.")
    return runner.create_job("reclassify", {"mode": mode, "force": True,
                                            "topicIds": sorted(set(topic_ids))},
                             created_by=user, engine=engine)
