"""Reads and writes of catalogue topics shared by the job types.

A write that changes what a topic is embedded from marks its embedding stale (in the same
statement): the encoder never runs inside a write, and a dedup sweep or ``embed``
refreshes stale embeddings before anything searches them.

Each write takes many topics at once (one JSON array bound as a parameter), so that a chunk of
hundreds of topics costs a handful of statements, not hundreds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.classify.taxonomy import CLASSIFICATION_FIELDS, Classification
from jobcore.db import get_engine
from jobcore.schema import topics
from jobcore.sql_rules import LIVE_TOPIC, topic_of_error


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
    """A new classification for one topic, stamped with the version and source that made
    it (None for both: unclassified). ``history`` is None when nothing changed (the write
    only re-stamps the version); otherwise it is the (previous, new) values to record.
    """

    topic_id: int
    classification: Classification
    version: str | None
    source: str | None
    history: tuple[dict[str, Any], dict[str, Any]] | None
    # the local classifier's node and detail (None: the write leaves both as they are)
    node_id: str | None = None
    detail: dict[str, Any] | None = None
    # flag the topic for review with this reason (the classifier is unsure), or clear a flag
    # an earlier local classification set (it is sure now); other flags stay
    flag: str | None = None
    clears_flag: bool = False


def classification_state(topic: TopicRow) -> dict[str, Any]:
    """The values a classification write replaces, as topic_history stores them."""
    return {**topic.classification.as_dict(),
            "classification_version": topic.classification_version,
            "classification_source": topic.classification_source}


LIVE = LIVE_TOPIC  # re-exported: the catalogue's reads filter on it

_TOPIC_COLUMNS = (
    topics.c.id, topics.c.name, topics.c.description, *(topics.c[f] for f in CLASSIFICATION_FIELDS),
    topics.c.classification_version, topics.c.classification_source, topics.c.review_status,
)


def topic_row(row: sa.Row) -> TopicRow:
    """A TopicRow from a row of ``select_topics`` (by position: this runs per topic)."""
    return TopicRow(row[0], row[1], row[2], Classification(*row[3:8]), row[8], row[9], row[10])


def select_topics(where: sa.ColumnElement[bool]) -> sa.Select:
    """SELECT of the classification columns of live topics matching ``where``, by id."""
    return sa.select(*_TOPIC_COLUMNS).where(LIVE, where).order_by(topics.c.id)


# An earlier local classification's flag (or the old rule engine's), which a sure answer
# clears; unsure, a topic is flagged unless an analyst resolved it as it stays or another
# flag (an analyst's, Claude's) is already waiting.
_LOCAL_FLAG = ("(t.review_status = 'needs_review' AND (t.review_reason LIKE 'Not classified:%%' "
               "OR t.review_reason LIKE 'Rule %%' OR t.review_reason LIKE 'Unsure between %%'))")
_RAISE = (f"(v.flag IS NOT NULL AND (t.review_status = 'ok' OR {_LOCAL_FLAG} "
          "OR (t.review_status = 'reviewed' AND v.changed)))")
_CLEAR = f"(v.clears_flag AND {_LOCAL_FLAG})"
_APPLY_CLASSIFICATION = sa.text(
    f"""
    WITH v AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS v(id bigint, segment_type text, taxonomy_type text, parent_category text,
                 subcategory text, audience_type text, version text, source text,
                 changed boolean, previous_values jsonb, new_values jsonb, node_id text,
                 detail jsonb, flag text, clears_flag boolean)
    ), updated AS (
        UPDATE topics AS t SET
            segment_type = v.segment_type,
            taxonomy_type = v.taxonomy_type,
            parent_category = v.parent_category,
            subcategory = v.subcategory,
            audience_type = v.audience_type,
            classification_version = v.version,
            classification_source = v.source,
            taxonomy_node_id = CASE WHEN v.detail IS NULL THEN t.taxonomy_node_id
                                    ELSE (SELECT n.id FROM taxonomy_nodes n
                                          WHERE n.id = v.node_id) END,
            classification_detail = CASE WHEN v.detail IS NULL THEN t.classification_detail
                                         ELSE v.detail END,
            classified_at = CASE WHEN v.version IS NULL THEN NULL ELSE now() END,
            review_status = CASE WHEN {_RAISE} THEN 'needs_review'
                                 WHEN {_CLEAR} THEN 'ok' ELSE t.review_status END,
            review_reason = CASE WHEN {_RAISE} THEN left(v.flag, 1000)
                                 WHEN {_CLEAR} THEN NULL ELSE t.review_reason END,
            updated_at = CASE WHEN v.changed OR {_RAISE} THEN now() ELSE t.updated_at END,
            embedding_stale = t.embedding_stale OR v.changed
        FROM v WHERE t.id = v.id
    )
    INSERT INTO topic_history (topic_id, job_id, action, previous_values, new_values,
                               created_by)
    SELECT v.id, :job_id, :action, v.previous_values, v.new_values, :created_by
    FROM v WHERE v.changed
    """
)


def apply_classifications(conn: Connection, writes: list[ClassificationWrite], *,
                          job_id: str | None, action: str, created_by: str | None) -> None:
    """Write classifications with their version stamps and record topic_history for the
    changed topics, in one statement.
    """
    if not writes:
        return
    rows = []
    for w in writes:
        row: dict[str, Any] = {"id": w.topic_id, "changed": w.history is not None,
                               "version": w.version, "source": w.source,
                               **w.classification.as_dict()}
        if w.history is not None:
            row["previous_values"], row["new_values"] = w.history
        if w.detail is not None:
            row["node_id"], row["detail"] = w.node_id, w.detail
        if w.flag is not None:
            row["flag"] = w.flag
        if w.clears_flag:
            row["clears_flag"] = True
        rows.append(row)
    conn.execute(_APPLY_CLASSIFICATION, {
        "rows": json.dumps(rows), "job_id": job_id, "action": action, "created_by": created_by,
    })


@dataclass(frozen=True)
class PlacementWrite:
    """A topic's subcategory and tree node to store; history as for ClassificationWrite."""

    topic_id: int
    subcategory: str | None
    taxonomy_node_id: str | None
    history: tuple[dict[str, Any], dict[str, Any]] | None


_APPLY_PLACEMENT = sa.text(
    """
    WITH v AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS v(id bigint, subcategory text, taxonomy_node_id text, changed boolean,
                 previous_values jsonb, new_values jsonb)
    ), updated AS (
        UPDATE topics AS t SET subcategory = v.subcategory,
            taxonomy_node_id = v.taxonomy_node_id, updated_at = now(),
            embedding_stale = true
        FROM v WHERE t.id = v.id AND v.changed
    )
    INSERT INTO topic_history (topic_id, job_id, action, previous_values, new_values,
                               created_by)
    SELECT v.id, :job_id, :action, v.previous_values, v.new_values, :created_by
    FROM v WHERE v.changed
    """
)


def apply_placements(conn: Connection, writes: list[PlacementWrite], *, job_id: str | None,
                     action: str, created_by: str | None) -> None:
    """Write subcategories and tree nodes of the changed topics with their history, in one
    statement.
    """
    rows = [{"id": w.topic_id, "subcategory": w.subcategory,
             "taxonomy_node_id": w.taxonomy_node_id, "changed": w.history is not None,
             "previous_values": w.history[0] if w.history else None,
             "new_values": w.history[1] if w.history else None} for w in writes]
    if any(r["changed"] for r in rows):
        conn.execute(_APPLY_PLACEMENT, {"rows": json.dumps(rows), "job_id": job_id,
                                        "action": action, "created_by": created_by})


_FLAG_FOR_REVIEW = sa.text(
    """
    UPDATE topics AS t SET review_status = 'needs_review', review_reason = v.reason,
                           updated_at = now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id bigint, reason text)
    WHERE t.id = v.id
    """
)


def flag_for_review(conn: Connection, reasons: dict[int, str]) -> None:
    """Set review_status = 'needs_review' with a reason on each topic."""
    if reasons:
        rows = [{"id": topic_id, "reason": reason[:1000]} for topic_id, reason in reasons.items()]
        conn.execute(_FLAG_FOR_REVIEW, {"rows": json.dumps(rows)})


def parent_categories(conn: Connection, topic_ids: list[int]) -> dict[int, str | None]:
    """Current parent category of each topic (deleted ones included)."""
    rows = conn.execute(sa.select(topics.c.id, topics.c.parent_category)
                        .where(topics.c.id == sa.func.any(sa.bindparam("ids"))),
                        {"ids": sorted(set(topic_ids))})
    return dict(rows.tuples().all())


def error_categories(errors: list[dict[str, Any]], *,
                     engine: Engine | None = None) -> dict[int, str | None]:
    """The current parent category of each topic a job's errors name (by topic id: an
    error's id for topic items, its topicId for others such as activations).
    """
    ids = [topic for topic in map(topic_of_error, errors) if topic is not None]
    if not ids:
        return {}
    with (engine or get_engine()).connect() as conn:
        return parent_categories(conn, ids)


def names_of(conn: Connection, topic_ids: list[int]) -> dict[int, str]:
    """The name of each of these topics (deleted and merged ones included)."""
    if not topic_ids:
        return {}
    rows = conn.execute(sa.select(topics.c.id, topics.c.name)
                        .where(topics.c.id == sa.func.any(sa.bindparam("ids"))),
                        {"ids": sorted(set(topic_ids))})
    return dict(rows.tuples().all())
