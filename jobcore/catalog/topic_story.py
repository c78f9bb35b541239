"""Everything that happened to one topic, for its page: the topic as it stands, every
change with its job (or editor), before and after, the merges into and out of it, the
analysts' not-duplicates marks, the sweeps' clusters that hold it, the job errors that name
it, its org links and activations, and whether it is an exemplar. And finding a topic by
id or name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.db import get_engine
from jobcore.errors import UsageError
from jobcore.sql_rules import like_pattern, topic_id_of

MAX_FOUND = 50  # topics a search lists
MAX_LISTED = 200  # rows of one kind a topic's page reads (history, errors...)


@dataclass(frozen=True)
class FoundTopic:
    """A topic a search found: its id, name, classification and whether it is live."""

    id: int
    name: str
    classification: str
    state: str  # live, merged into #N, deleted


@dataclass(frozen=True)
class Change:
    """One row of the topic's history: what changed, by which job or person, and how."""

    at: datetime
    action: str
    job_id: str | None
    by: str | None
    fields: tuple[tuple[str, Any, Any], ...]  # (field, before, after), those that differ


@dataclass(frozen=True)
class TopicStory:
    """A topic and everything recorded about it (each list newest first)."""

    topic: dict[str, Any]
    state: str
    changes: list[Change]
    rows: dict[str, list[dict[str, Any]]]  # merges, marks, clusters, errors, links...


def find_topics(conn: Connection, query: str) -> list[FoundTopic]:
    """Topics whose id is ``query`` ('123' or '#123') or whose name holds it (case aside),
    live ones first, at most MAX_FOUND.
    """
    text = query.strip()
    if not text:
        return []
    if len(text) > 200:
        raise UsageError("Search for at most 200 characters (a topic id or part of a name).")
    topic_id = topic_id_of(text)
    rows = conn.execute(sa.text(
        f"SELECT t.id, t.name, {_CLASSIFICATION}, {_STATE} FROM topics t "
        f"WHERE {'t.name ILIKE :pattern' if topic_id is None else 't.id = :id'} "
        "ORDER BY (t.merged_into IS NULL AND t.deleted_at IS NULL) DESC, length(t.name), t.id "
        "LIMIT :n"), {"id": topic_id, "pattern": like_pattern(text), "n": MAX_FOUND}).all()
    return [FoundTopic(*row) for row in rows]


def topic_story(conn: Connection, topic_id: int) -> TopicStory | None:
    """Everything recorded about a topic (None: no such topic)."""
    topic = conn.execute(sa.text(
        f"SELECT t.*, {_CLASSIFICATION}, {_STATE}, n.path AS node_path FROM topics t "
        "LEFT JOIN taxonomy_nodes n ON n.id = t.taxonomy_node_id WHERE t.id = :id"),
        {"id": topic_id}).mappings().one_or_none()
    if topic is None:
        return None
    rows = {name: [dict(r) for r in conn.execute(sa.text(sql), {"id": topic_id,
                                                                 "n": MAX_LISTED}).mappings()]
            for name, sql in _LISTS.items()}
    return TopicStory(dict(topic), topic["state"], _changes(conn, topic_id), rows)


def _changes(conn: Connection, topic_id: int) -> list[Change]:
    rows = conn.execute(sa.text(
        "SELECT created_at, action, job_id, created_by, previous_values, new_values "
        "FROM topic_history WHERE topic_id = :id ORDER BY created_at DESC, id DESC LIMIT :n"),
        {"id": topic_id, "n": MAX_LISTED}).all()
    return [Change(at, action, job_id, by, tuple(
        (key, before.get(key), after.get(key)) for key in dict.fromkeys([*before, *after])
        if before.get(key) != after.get(key)))
        for at, action, job_id, by, before, after in rows]


def load_story(topic_id: int, *, engine: Engine | None = None) -> TopicStory | None:
    """``topic_story`` on a connection of its own."""
    with (engine or get_engine()).connect() as conn:
        return topic_story(conn, topic_id)


def load_found(query: str, *, engine: Engine | None = None) -> list[FoundTopic]:
    """``find_topics`` on a connection of its own."""
    with (engine or get_engine()).connect() as conn:
        return find_topics(conn, query)


_CLASSIFICATION = ("concat_ws(' > ', t.taxonomy_type, t.parent_category, t.subcategory) "
                   "AS classification")
_STATE = ("CASE WHEN t.merged_into IS NOT NULL THEN 'merged into #' || t.merged_into "
          "WHEN t.deleted_at IS NOT NULL THEN 'deleted' ELSE 'live' END AS state")

# each list of the page: its rows, newest first, at most :n
_LISTS = {
    "merges": """
        SELECT m.created_at AS at, m.job_id,
               CASE WHEN m.winner_topic_id = :id THEN 'into this topic' ELSE 'into #'
                    || m.winner_topic_id END AS direction,
               CASE WHEN m.winner_topic_id = :id THEN m.loser_topic_id
                    ELSE m.winner_topic_id END AS other_id,
               o.name AS other_name, m.score, m.undone_at
        FROM merges m JOIN topics o ON o.id = CASE WHEN m.winner_topic_id = :id
                                                  THEN m.loser_topic_id
                                                  ELSE m.winner_topic_id END
        WHERE m.winner_topic_id = :id OR m.loser_topic_id = :id
        ORDER BY m.created_at DESC, m.id DESC LIMIT :n""",
    "marks": """
        SELECT p.created_at AS at, p.created_by AS by, p.job_id,
               o.id AS other_id, o.name AS other_name
        FROM not_duplicate_pairs p
        JOIN topics o ON o.id = CASE WHEN p.low_topic_id = :id THEN p.high_topic_id
                                     ELSE p.low_topic_id END
        WHERE p.low_topic_id = :id OR p.high_topic_id = :id
        ORDER BY p.created_at DESC LIMIT :n""",
    "clusters": """
        SELECT j.created_at AS at, c.job_id, c.seq AS cluster,
               CASE WHEN c.winner_topic_id = :id THEN 'winner' ELSE 'loser' END AS role,
               cardinality(c.members) AS members
        FROM dedup_clusters c JOIN admin_jobs j ON j.id = c.job_id
        WHERE c.members @> ARRAY[CAST(:id AS bigint)]
        ORDER BY j.created_at DESC, c.seq LIMIT :n""",
    "errors": """
        SELECT j.created_at AS at, e.job_id, j.job_type, e.error ->> 'message' AS message
        FROM admin_job_errors e JOIN admin_jobs j ON j.id = e.job_id
        WHERE e.topic_id = :id
        ORDER BY j.created_at DESC, e.id DESC LIMIT :n""",
    "links": """
        SELECT ot.created_at AS at, o.name AS organisation
        FROM org_topics ot JOIN organizations o ON o.id = ot.org_id
        WHERE ot.topic_id = :id ORDER BY o.name LIMIT :n""",
    "activations": """
        SELECT a.updated_at AS at, o.name AS organisation, a.platform, a.status,
               a.external_segment_id, a.pushed_name, a.last_pushed_at, a.last_error
        FROM activations a JOIN organizations o ON o.id = a.org_id
        WHERE a.topic_id = :id ORDER BY o.name, a.platform LIMIT :n""",
    "exemplars": """
        SELECT x.created_at AS at, x.created_by AS by, x.match_key,
               concat_ws(' > ', x.taxonomy_type, x.parent_category, x.subcategory)
                   AS classification, x.removed_at, x.removed_by
        FROM classification_exemplars x WHERE x.topic_id = :id
        ORDER BY x.created_at DESC LIMIT :n""",
}
