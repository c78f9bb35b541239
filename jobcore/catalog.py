"""Reads and writes of catalogue topics shared by the job types.

Each write takes many topics at once (arrays bound as parameters), so that a chunk of 50
topics costs a handful of statements, not hundreds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.classify.taxonomy import CLASSIFICATION_FIELDS, Classification
from jobcore.schema import topics


@dataclass(frozen=True)
class TopicRow:
    """The columns of a topic that classification reads."""

    id: int
    name: str
    description: str | None
    classification: Classification
    classification_version: str | None
    classification_source: str | None
    review_status: str


@dataclass(frozen=True)
class ClassificationWrite:
    """A new classification for one topic; ``changed`` False only re-stamps the version."""

    topic_id: int
    classification: Classification
    changed: bool


LIVE = sa.and_(topics.c.deleted_at.is_(None), topics.c.merged_into.is_(None))

_TOPIC_COLUMNS = (
    topics.c.id, topics.c.name, topics.c.description, *(topics.c[f] for f in CLASSIFICATION_FIELDS),
    topics.c.classification_version, topics.c.classification_source, topics.c.review_status,
)


def topic_row(row: sa.Row) -> TopicRow:
    return TopicRow(
        id=row.id, name=row.name, description=row.description,
        classification=Classification.from_mapping(row._mapping),
        classification_version=row.classification_version,
        classification_source=row.classification_source,
        review_status=row.review_status,
    )


def select_topics(where: sa.ColumnElement[bool]) -> sa.Select:
    """SELECT of the classification columns of live topics matching ``where``, by id."""
    return sa.select(*_TOPIC_COLUMNS).where(LIVE, where).order_by(topics.c.id)


_APPLY_CLASSIFICATION = sa.text(
    """
    UPDATE topics AS t SET
        segment_type = v.segment_type,
        taxonomy_type = v.taxonomy_type,
        parent_category = v.parent_category,
        subcategory = v.subcategory,
        audience_type = v.audience_type,
        classification_version = :version,
        classification_source = :source,
        classified_at = now(),
        updated_at = CASE WHEN v.changed THEN now() ELSE t.updated_at END
    FROM unnest(CAST(:ids AS bigint[]), CAST(:segment_type AS text[]),
                CAST(:taxonomy_type AS text[]), CAST(:parent_category AS text[]),
                CAST(:subcategory AS text[]), CAST(:audience_type AS text[]),
                CAST(:changed AS boolean[]))
         AS v(id, segment_type, taxonomy_type, parent_category, subcategory, audience_type,
              changed)
    WHERE t.id = v.id
    """
)


def apply_classifications(conn: Connection, writes: list[ClassificationWrite], *, version: str,
                          source: str) -> None:
    """Write classifications and stamp the classifier version, in one statement."""
    if not writes:
        return
    params: dict[str, Any] = {
        "ids": [w.topic_id for w in writes],
        "changed": [w.changed for w in writes],
        "version": version,
        "source": source,
    }
    for name in CLASSIFICATION_FIELDS:
        params[name] = [getattr(w.classification, name) for w in writes]
    conn.execute(_APPLY_CLASSIFICATION, params)


_FLAG_FOR_REVIEW = sa.text(
    """
    UPDATE topics AS t SET review_status = 'needs_review', review_reason = v.reason,
                           updated_at = now()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:reasons AS text[])) AS v(id, reason)
    WHERE t.id = v.id
    """
)


def flag_for_review(conn: Connection, reasons: dict[int, str]) -> None:
    """Set review_status = 'needs_review' with a reason on each topic."""
    if reasons:
        conn.execute(_FLAG_FOR_REVIEW,
                     {"ids": list(reasons), "reasons": [r[:1000] for r in reasons.values()]})


_INSERT_HISTORY = sa.text(
    """
    INSERT INTO topic_history (topic_id, batch_id, action, previous_values, new_values,
                               created_by)
    SELECT v.topic_id, :batch_id, :action, v.previous_values, v.new_values, :created_by
    FROM unnest(CAST(:topic_ids AS bigint[]), CAST(:previous AS jsonb[]),
                CAST(:new AS jsonb[])) AS v(topic_id, previous_values, new_values)
    """
)


@dataclass(frozen=True)
class HistoryEntry:
    topic_id: int
    previous_values: dict[str, Any]
    new_values: dict[str, Any]


def record_history(conn: Connection, entries: list[HistoryEntry], *, batch_id: str | None,
                   action: str, created_by: str | None) -> None:
    """Insert topic_history rows for many topics at once."""
    if not entries:
        return
    conn.execute(_INSERT_HISTORY, {
        "topic_ids": [e.topic_id for e in entries],
        "previous": [json.dumps(e.previous_values) for e in entries],
        "new": [json.dumps(e.new_values) for e in entries],
        "batch_id": batch_id, "action": action, "created_by": created_by,
    })
