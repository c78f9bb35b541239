"""Rollback of a completed reclassify (or tree placement) job: the follow-up that offers
it and the chunks that do it.

A rollback is a reclassify job with ``rollbackOf``: 200 a chunk, it walks the source job's
history rows (``reclassified``; ``realigned``, ``subcategory_fixed`` or ``node_assigned``
for the tree jobs) and restores each topic's previous values (classification and version
stamp; or subcategory and tree node), recording ``rolled_back`` history. A topic changed
since by another job, a manual edit or anything else is that topic's error and is left as
it is.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.catalog import topic_store
from jobcore.classify.taxonomy import CLASSIFICATION_FIELDS, Classification
from jobcore.dedup import embeddings
from jobcore.jobs import store
from jobcore.jobs.base import ChunkOutcome, ItemError, JobCursor, JobPlan, take_slice
from jobcore.jobs.follow_ups import Relation, UndoFollowUp
from jobcore.jobs.registry import get_handler

CHUNK_SIZE = 200  # topics a rollback chunk restores
# The topic columns a job type's changes write (its handler's ``rollback`` names them).
CLASSIFICATION_KEYS = (*CLASSIFICATION_FIELDS, "classification_version",
                       "classification_source")
PLACEMENT_KEYS = ("subcategory", "taxonomy_node_id")
_COUNT_SOURCE_HISTORY = sa.text(
    "SELECT count(*) FROM topic_history WHERE job_id = :source AND action = :action"
)

# The source's next history rows are picked first (the LIMIT inside the CTE, served by
# ix_topic_history_job (job_id, id)); the later-change lookup walks one topic's history
# by ix_topic_history_topic (ordering by id alone let the planner scan every later row of
# the table backwards, for each topic, once the history had grown since the last ANALYZE).
_CHUNK = sa.text(
    """
    WITH h AS (
        SELECT id, topic_id, previous_values, new_values FROM topic_history
        WHERE job_id = :source AND action = :action AND id > :last_id
        ORDER BY id LIMIT :n
    )
    SELECT h.id AS history_id, h.topic_id, h.previous_values, h.new_values,
           t.name, t.segment_type, t.taxonomy_type, t.parent_category, t.subcategory,
           t.audience_type, t.classification_version, t.classification_source,
           t.taxonomy_node_id, t.deleted_at IS NOT NULL OR t.merged_into IS NOT NULL AS gone,
           later.job_id AS later_batch, later.action AS later_action
    FROM h
    JOIN topics t ON t.id = h.topic_id
    LEFT JOIN LATERAL (
        SELECT h2.job_id, h2.action FROM topic_history h2
        WHERE h2.topic_id = h.topic_id AND h2.id > h.id
        ORDER BY h2.created_at DESC, h2.id DESC LIMIT 1
    ) later ON true
    ORDER BY h.id
    FOR UPDATE OF t
    """
)


# A walk in id order that stops after one chunk: with stale statistics (the source job has
# just written thousands of history rows) PostgreSQL chose a bitmap scan that fetched and
# sorted every remaining row of the source job, every chunk. Local to the chunk.
_ORDERED_WALK = sa.text("SELECT set_config('enable_bitmapscan', 'off', true)")


ROLLBACK_OF = Relation(
    "rollbackOf", "rollback of", "rolled back by", kind="Rollback",
    unique_index="uq_admin_jobs_one_rollback", conflict="Job {source} already has a rollback.")


class RollbackFollowUp(UndoFollowUp):
    """Rollback: a reclassify job that restores what a completed job changed."""

    action = "rollback"
    label = "Rollback"
    icon = ":material/undo:"
    confirm = ("Restore every topic this job changed to its previous values. Topics changed "
               "since by another job are reported, not overwritten.")
    confirm_label = "Create rollback job"
    creates = "reclassify"
    relation = ROLLBACK_OF
    noun, verb, done_verb = "a rollback", "roll back", "rolled back"


ROLLBACK = RollbackFollowUp()


class RollbackCursor(JobCursor):
    """Where a rollback stands: the source's last history row restored (or refused)."""

    last_history_id: int = 0
    source_type: str = "reclassify"  # the type of the job rolled back


def plan_rollback(conn: Connection, source_id: str) -> JobPlan:
    source = ROLLBACK.check(conn, source_id)
    spec = get_handler(source.job_type).rollback
    assert spec is not None  # checked above
    total = conn.execute(_COUNT_SOURCE_HISTORY, {"source": source_id,
                                                 "action": spec.action}).scalar_one()
    return JobPlan(total_items=total, cursor=RollbackCursor(source_type=source.job_type))


def _conflict(row: Any, source_id: str, keys: tuple[str, ...]) -> str | None:
    """Why this topic must not be restored, or None."""
    if row.gone:
        return f"deleted or merged since job {source_id}; not rolled back"
    if row.later_action is not None:
        by = f"job {row.later_batch}" if row.later_batch else "a change outside any job"
        return f"changed since by {by} ({row.later_action}); not rolled back"
    current = {key: getattr(row, key) for key in keys}
    written = {key: row.new_values.get(key) for key in keys}
    if current != written:
        fields = ", ".join(k for k in keys if current[k] != written[k])
        return f"changed since job {source_id} ({fields} differ); not rolled back"
    return None


def process_rollback(conn: Connection, job: store.Job, source_id: str,
                     deadline: float) -> ChunkOutcome:
    """One chunk of a rollback: the source's next history rows, restored or refused."""
    cursor = RollbackCursor.of(job.cursor)
    spec = get_handler(cursor.source_type).rollback
    assert spec is not None
    conn.execute(_ORDERED_WALK)
    chunk = take_slice(lambda n: conn.execute(_CHUNK, {
        "source": source_id, "action": spec.action, "last_id": cursor.last_history_id,
        "n": n}).all(), size=CHUNK_SIZE, deadline=deadline)
    outcome = ChunkOutcome(cursor=cursor, done=False)
    writes: list[topic_store.ClassificationWrite] = []
    placements: list[topic_store.PlacementWrite] = []
    for row in chunk.within_budget():
        cursor.last_history_id = row.history_id
        conflict = _conflict(row, source_id, spec.columns)
        if conflict is not None:
            outcome.errors.append(ItemError(conflict, id=row.topic_id, name=row.name))
            continue
        previous = {key: row.previous_values.get(key) for key in spec.columns}
        current = {key: getattr(row, key) for key in spec.columns}
        history = (current, {**previous, "rollback_of": source_id})
        if spec.columns == PLACEMENT_KEYS:
            placements.append(topic_store.PlacementWrite(
                row.topic_id, previous["subcategory"], previous["taxonomy_node_id"], history))
        else:
            writes.append(topic_store.ClassificationWrite(
                row.topic_id, Classification.from_mapping(previous),
                previous["classification_version"], previous["classification_source"],
                history))
        outcome.success += 1
    topic_store.apply_classifications(conn, writes, job_id=job.id, action="rolled_back",
                                      created_by=job.created_by)
    topic_store.apply_placements(conn, placements, job_id=job.id, action="rolled_back",
                                 created_by=job.created_by)
    embeddings.keep_current(conn, [w.topic_id for w in writes]
                            + [w.topic_id for w in placements])
    outcome.done = chunk.done(outcome.processed)
    return outcome
