"""The review queue: topics flagged ``needs_review``, fixed or resolved by an analyst.

An edit, or one click on a candidate the local classifier offered, writes the
classification (validated against the taxonomy, source ``manual``) and a ``manual_edit``
history row with the user, resolves the flag, and makes the classification an exemplar that
close names follow in later local runs (jobcore.classify.exemplars). Resolving without an
edit records ``review_resolved``. Selected topics can instead be retried by a reclassify
job (local or LLM mode) over just those topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore import audit
from jobcore.catalog import topic_store
from jobcore.classify import exemplars
from jobcore.classify.segment_classifier import classification_of, get_classifier
from jobcore.classify.taxonomy import Classification, get_taxonomy
from jobcore.db import get_engine
from jobcore.errors import ConfigError, UsageError
from jobcore.jobs import runner
from jobcore.patterns import message_pattern
from jobcore.schema import topic_history, topics

QUEUE_LIMIT = 1000
MANUAL_VERSION = "manual"


@dataclass(frozen=True)
class Suggestion:
    """A node the local classifier proposed for an unsure topic (one click accepts it)."""

    node_id: str
    path: str


@dataclass(frozen=True)
class FlaggedTopic:
    id: int
    name: str
    description: str | None
    classification: Classification
    reason: str
    flagged_at: datetime
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def reason_pattern(self) -> str:
        return message_pattern(self.reason)


def flagged(*, reason_pattern: str | None = None, parent_category: str | None = None,
            limit: int | None = None, engine: Engine | None = None) -> list[FlaggedTopic]:
    """Live topics that need review, oldest flag first, optionally filtered; at most
    ``limit`` (QUEUE_LIMIT by default).
    """
    limit = QUEUE_LIMIT if limit is None else limit
    stmt = (sa.select(topics.c.id, topics.c.name, topics.c.description,
                      topics.c.segment_type, topics.c.taxonomy_type, topics.c.parent_category,
                      topics.c.subcategory, topics.c.audience_type, topics.c.review_reason,
                      topics.c.updated_at, topics.c.classification_detail)
            .where(topic_store.LIVE, topics.c.review_status == "needs_review")
            .order_by(topics.c.updated_at, topics.c.id))
    if parent_category is not None:
        stmt = stmt.where(topics.c.parent_category == parent_category)
    if reason_pattern is None:  # else the pattern, read from each reason, filters first
        stmt = stmt.limit(limit)
    with (engine or get_engine()).connect() as conn:
        rows = conn.execute(stmt).all()
    found = [FlaggedTopic(r.id, r.name, r.description, Classification(*r[3:8]),
                          r.review_reason or "", r.updated_at,
                          _suggestions(r.classification_detail)) for r in rows]
    if reason_pattern is not None:
        found = [t for t in found if t.reason_pattern == reason_pattern]
    return found[:limit]


def flagged_count(*, engine: Engine | None = None) -> int:
    """How many live topics need review (the queue shows the QUEUE_LIMIT oldest)."""
    with (engine or get_engine()).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(topics).where(
            topic_store.LIVE, topics.c.review_status == "needs_review")).scalar_one()


def _suggestions(detail: dict | None) -> tuple[Suggestion, ...]:
    """The candidates an unsure local classification stored (best first)."""
    if not detail or not detail.get("unsure"):
        return ()
    nodes = get_taxonomy().nodes
    chosen = [detail.get("nodeId"), (detail.get("runnerUp") or {}).get("nodeId")]
    return tuple(Suggestion(n, " > ".join(nodes[n].path)) for n in chosen if n in nodes)


def accept(topic_id: int, node_id: str, *, user: str,
           engine: Engine | None = None) -> Classification:
    """One click on a suggestion: classify the topic as that node (as ``edit`` does)."""
    node = get_taxonomy().nodes.get(node_id)
    if node is None or node.level < 2:
        raise UsageError(f"{node_id!r} is not a node a topic can be classified as.")
    return edit(topic_id, classification_of(node).as_dict(), user=user, engine=engine,
                node_id=node_id)


def edit(topic_id: int, values: dict[str, str | None], *, user: str,
         engine: Engine | None = None, node_id: str | None = None) -> Classification:
    """Set a flagged topic's classification by hand, resolve its flag and keep it as an
    exemplar for close names. ConfigError names the first field the taxonomy refuses.
    """
    engine = engine or get_engine()
    with audit.action("review_edit", target=str(topic_id), details={"values": values},
                      engine=engine):
        return _edit(topic_id, values, user=user, engine=engine, node_id=node_id)


def _edit(topic_id: int, values: dict[str, str | None], *, user: str, engine: Engine,
          node_id: str | None) -> Classification:
    new = Classification.from_mapping(values)
    problems = get_taxonomy().problems(new)
    if problems:
        field = next((f for f in values if f in problems[0]), "parent_category")
        raise ConfigError("; ".join(problems), field=field, problems={field: problems[0]})
    classifier = get_classifier()  # loaded before the row is locked, not while
    with engine.begin() as conn:
        row = conn.execute(topic_store.select_topics(topics.c.id == topic_id)
                           .with_for_update()).one_or_none()
        if row is None:
            raise UsageError(f"Topic {topic_id} does not exist or was merged or deleted.")
        topic = topic_store.topic_row(row)
        if topic.review_status != "needs_review":  # another tab or analyst was first
            raise UsageError(f"Topic #{topic_id} was reviewed meanwhile (in another tab or by "
                             "another analyst); nothing was saved. Reload the queue.")
        node_id = node_id or _node_of(new)
        topic_store.apply_classifications(conn, [topic_store.ClassificationWrite(
            topic.id, new, MANUAL_VERSION, "manual",
            (topic_store.classification_state(topic),
             {**new.as_dict(), "classification_version": MANUAL_VERSION,
              "classification_source": "manual"}),
            node_id, {"by": MANUAL_VERSION, "nodeId": node_id, "editedBy": user})],
            job_id=None, action="manual_edit", created_by=user)
        _resolve(conn, [topic_id])
        try:
            with conn.begin_nested():
                exemplars.record(conn, topic_id=topic_id, name=topic.name, classification=new,
                                 node_id=node_id, user=user, classifier=classifier)
        except sa.exc.IntegrityError:
            # another analyst saved a classification of the same key at this moment: theirs
            # is the exemplar; this topic's classification stands
            pass
    return new


def _node_of(classification: Classification) -> str | None:
    """The IAB or Business Technology node a classification names (its deepest field), or
    None when no node or several do (a label such as "$50000 - $74999" or "Retired" sits
    under more than one node of a parent category).
    """
    c = classification
    found = [node.id for node in get_taxonomy().nodes.values()
             if node.taxonomy_type == c.taxonomy_type and node.parent_category == c.parent_category
             and (node.subcategory == c.subcategory if c.subcategory else node.level == 2)]
    return found[0] if len(found) == 1 else None


def resolve(topic_ids: list[int], *, user: str, engine: Engine | None = None) -> int:
    """Mark topics reviewed as they are; returns how many were flagged."""
    engine = engine or get_engine()
    with audit.action("review_resolve", target=_ids(topic_ids), engine=engine), \
            engine.begin() as conn:
        done = _resolve(conn, topic_ids)
        if done:
            conn.execute(sa.insert(topic_history), [
                {"topic_id": i, "action": "review_resolved", "created_by": user,
                 "previous_values": {"review_status": "needs_review"},
                 "new_values": {"review_status": "reviewed"}} for i in done])
    return len(done)


def _ids(topic_ids: list[int]) -> str:
    """Topic ids as the audit log names them ("#1, #2")."""
    return ", ".join(f"#{i}" for i in sorted(set(topic_ids)))


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
