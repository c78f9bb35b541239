"""Rollback of a completed reclassify (or tree placement) job, and the checks behind
retry-errors.

A rollback is a reclassify job with ``rollbackOf``: 200 a chunk, it walks the source job's
history rows (``reclassified``; ``realigned``, ``subcategory_fixed`` or ``node_assigned``
for the tree jobs) and restores each topic's previous values (classification and version
stamp; or subcategory and tree node), recording ``rolled_back`` history. A topic changed
since by another job, a manual edit or anything else is that topic's error and is left as
it is.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore import catalog, embeddings, store
from jobcore.classify.taxonomy import CLASSIFICATION_FIELDS, Classification
from jobcore.errors import Conflict
from jobcore.jobs.base import ChunkOutcome, ItemError, JobPlan

CHUNK_SIZE = 200  # topics a rollback chunk restores
_CLASSIFICATION_KEYS = (*CLASSIFICATION_FIELDS, "classification_version",
                        "classification_source")
_PLACEMENT_KEYS = ("subcategory", "taxonomy_node_id")
# job type -> (the history action its changes carry, the topic columns it wrote)
ROLLBACK_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "reclassify": ("reclassified", _CLASSIFICATION_KEYS),
    "realign_subcategories": ("realigned", _PLACEMENT_KEYS),
    "fix_subcategory_level0": ("subcategory_fixed", _PLACEMENT_KEYS),
    "backfill_taxonomy_nodes": ("node_assigned", _PLACEMENT_KEYS),
}
_COUNT_SOURCE_HISTORY = sa.text(
    "SELECT count(*) FROM topic_history WHERE batch_id = :source AND action = :action"
)

# The source's next history rows are picked first (the LIMIT inside the CTE, served by
# ix_topic_history_batch (batch_id, id)); the later-change lookup walks one topic's history
# by ix_topic_history_topic (ordering by id alone let the planner scan every later row of
# the table backwards, for each topic, once the history had grown since the last ANALYZE).
_CHUNK = sa.text(
    """
    WITH h AS (
        SELECT id, topic_id, previous_values, new_values FROM topic_history
        WHERE batch_id = :source AND action = :action AND id > :last_id
        ORDER BY id LIMIT :n
    )
    SELECT h.id AS history_id, h.topic_id, h.previous_values, h.new_values,
           t.name, t.segment_type, t.taxonomy_type, t.parent_category, t.subcategory,
           t.audience_type, t.classification_version, t.classification_source,
           t.taxonomy_node_id, t.deleted_at IS NOT NULL OR t.merged_into IS NOT NULL AS gone,
           later.batch_id AS later_batch, later.action AS later_action
    FROM h
    JOIN topics t ON t.id = h.topic_id
    LEFT JOIN LATERAL (
        SELECT h2.batch_id, h2.action FROM topic_history h2
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


def existing_rollback(conn: Connection, source_id: str) -> sa.Row | None:
    """The pending, running or completed rollback of ``source_id`` (id, status), if any."""
    return store.live_job_with(conn, job_type="reclassify", config_key="rollbackOf",
                               value=source_id)


def check_rollback_source(conn: Connection, source_id: str) -> store.Job:
    """The job to roll back; UsageError when it cannot be rolled back (and why)."""
    source = store.get_job(conn, source_id)
    if source.job_type not in ROLLBACK_SOURCES or source.status != "completed":
        kinds = ", ".join(ROLLBACK_SOURCES)
        raise Conflict(f"Only a completed job of type {kinds} can be rolled back; job "
                       f"{source_id} is a {source.job_type} job that is {source.status}.")
    if source.config.get("rollbackOf"):
        raise Conflict(f"Job {source_id} is itself a rollback (of "
                       f"{source.config['rollbackOf']}); it cannot be rolled back.")
    existing = existing_rollback(conn, source_id)
    if existing is not None:
        raise Conflict(f"Job {source_id} already has a rollback: job {existing.id} "
                       f"({existing.status}).")
    return source


def check_retry_source(conn: Connection, source_id: str) -> store.Job:
    """The job whose failed topics to retry; UsageError when there is nothing to retry."""
    source = store.get_job(conn, source_id)
    if source.job_type != "reclassify":
        raise Conflict(f"Retry errors works on reclassify jobs; job {source_id} is a "
                         f"{source.job_type} job.")
    if not source.is_finished:
        raise Conflict(f"Job {source_id} is still {source.status}; retry its errors when it "
                         "has finished.")
    if not any(isinstance(e.get("id"), int) for e in source.errors):
        raise Conflict(f"Job {source_id} has no topic errors to retry.")
    return source


def plan_rollback(conn: Connection, source_id: str) -> JobPlan:
    source = check_rollback_source(conn, source_id)
    action, _ = ROLLBACK_SOURCES[source.job_type]
    total = conn.execute(_COUNT_SOURCE_HISTORY, {"source": source_id,
                                                 "action": action}).scalar_one()
    return JobPlan(total_items=total, cursor={"lastHistoryId": 0,
                                              "sourceType": source.job_type})


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
    cursor = dict(job.cursor)
    action, keys = ROLLBACK_SOURCES[cursor.get("sourceType", "reclassify")]
    conn.execute(_ORDERED_WALK)
    rows = conn.execute(_CHUNK, {"source": source_id, "action": action,
                                 "last_id": cursor["lastHistoryId"],
                                 "n": CHUNK_SIZE + 1}).all()
    more = len(rows) > CHUNK_SIZE
    outcome = ChunkOutcome(cursor=cursor, done=False)
    writes: list[catalog.ClassificationWrite] = []
    placements: list[catalog.PlacementWrite] = []
    for row in rows[:CHUNK_SIZE]:
        if time.monotonic() > deadline:
            more = True
            break
        cursor["lastHistoryId"] = row.history_id
        conflict = _conflict(row, source_id, keys)
        if conflict is not None:
            outcome.errors.append(ItemError(conflict, id=row.topic_id, name=row.name))
            continue
        previous = {key: row.previous_values.get(key) for key in keys}
        current = {key: getattr(row, key) for key in keys}
        history = (current, {**previous, "rollback_of": source_id})
        if keys is _PLACEMENT_KEYS:
            placements.append(catalog.PlacementWrite(
                row.topic_id, previous["subcategory"], previous["taxonomy_node_id"], history))
        else:
            writes.append(catalog.ClassificationWrite(
                row.topic_id, Classification.from_mapping(previous),
                previous["classification_version"], previous["classification_source"],
                history))
        outcome.success += 1
    catalog.apply_classifications(conn, writes, batch_id=job.id, action="rolled_back",
                                  created_by=job.created_by)
    catalog.apply_placements(conn, placements, batch_id=job.id, action="rolled_back",
                             created_by=job.created_by)
    embeddings.keep_current(conn, [w.topic_id for w in writes]
                            + [w.topic_id for w in placements])
    outcome.done = not more
    return outcome
