"""Merging clusters of duplicate topics into their winner, and undoing a merge.

A merge of loser L into winner W, for all the clusters of a chunk in one statement:

- org links: L's links move to W; a link to an organisation W is already linked to (or
  that another loser of the cluster already brings) is consolidated: L's row is deleted
  and kept in full in the merge row, so that undo can recreate it.
- activations move to W; one for an (organisation, platform) W already has stays with L,
  retired (status ``removed``, a last_error saying why; its previous values kept).
- L's history rows move to W; L is soft-deleted (``merged_into`` = W, ``deleted_at``).
- a ``merges`` row per loser records exactly what moved (ids, full rows of what was
  deleted, L's previous ``updated_at``), and both topics get a ``merged`` history entry.

Undo reverses each of those for one cluster, checked first: a cluster whose topics, links
or activations changed since the merge is refused with the reason, and nothing of it moves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_MERGE = sa.text(
    """
    WITH pairs AS (
        SELECT * FROM jsonb_to_recordset(CAST(:pairs AS jsonb))
            AS p(winner bigint, loser bigint, score double precision)
    ), link_plan AS (
        SELECT o.id, o.org_id, o.created_at, p.winner, p.loser,
               EXISTS (SELECT 1 FROM org_topics w
                       WHERE w.topic_id = p.winner AND w.org_id = o.org_id)
               OR row_number() OVER (PARTITION BY p.winner, o.org_id ORDER BY o.id) > 1
               AS dropped
        FROM org_topics o JOIN pairs p ON o.topic_id = p.loser
    ), moved_links AS (
        UPDATE org_topics o SET topic_id = lp.winner
        FROM link_plan lp WHERE o.id = lp.id AND NOT lp.dropped
    ), dropped_links AS (
        DELETE FROM org_topics o USING link_plan lp WHERE o.id = lp.id AND lp.dropped
    ), activation_plan AS (
        SELECT a.id, a.status, a.last_error, a.updated_at, p.winner, p.loser,
               EXISTS (SELECT 1 FROM activations w WHERE w.topic_id = p.winner
                       AND w.org_id = a.org_id AND w.platform = a.platform)
               OR row_number() OVER (PARTITION BY p.winner, a.org_id, a.platform
                                     ORDER BY a.id) > 1 AS retired
        FROM activations a JOIN pairs p ON a.topic_id = p.loser
    ), moved_activations AS (
        UPDATE activations a SET topic_id = ap.winner
        FROM activation_plan ap WHERE a.id = ap.id AND NOT ap.retired
    ), retired_activations AS (
        UPDATE activations a SET status = 'removed', updated_at = now(),
            last_error = 'Merged into topic ' || ap.winner
                         || ', which already has this segment on the platform'
        FROM activation_plan ap WHERE a.id = ap.id AND ap.retired
    ), history_plan AS (
        SELECT h.id, p.loser FROM topic_history h JOIN pairs p ON h.topic_id = p.loser
    ), moved_history AS (
        UPDATE topic_history h SET topic_id = p.winner
        FROM pairs p WHERE h.topic_id = p.loser
    ), losers AS (
        SELECT t.id, t.name, t.updated_at FROM topics t JOIN pairs p ON t.id = p.loser
    ), deleted AS (
        UPDATE topics t SET merged_into = p.winner, deleted_at = now(), updated_at = now()
        FROM pairs p WHERE t.id = p.loser
    ), recorded AS (
        INSERT INTO merges (job_id, winner_topic_id, loser_topic_id, score, moved)
        SELECT :job_id, p.winner, p.loser, p.score, jsonb_build_object(
            'loserUpdatedAt', l.updated_at,
            'orgLinksMoved', coalesce((SELECT jsonb_agg(lp.id ORDER BY lp.id) FROM link_plan lp
                                       WHERE lp.loser = p.loser AND NOT lp.dropped), '[]'),
            'orgLinksDropped', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', lp.id, 'orgId', lp.org_id, 'createdAt', lp.created_at) ORDER BY lp.id)
                FROM link_plan lp WHERE lp.loser = p.loser AND lp.dropped), '[]'),
            'activationsMoved', coalesce((SELECT jsonb_agg(ap.id ORDER BY ap.id)
                FROM activation_plan ap WHERE ap.loser = p.loser AND NOT ap.retired), '[]'),
            'activationsRetired', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', ap.id, 'status', ap.status, 'lastError', ap.last_error,
                'updatedAt', ap.updated_at) ORDER BY ap.id)
                FROM activation_plan ap WHERE ap.loser = p.loser AND ap.retired), '[]'),
            'historyMoved', coalesce((SELECT jsonb_agg(hp.id ORDER BY hp.id)
                FROM history_plan hp WHERE hp.loser = p.loser), '[]'))
        FROM pairs p JOIN losers l ON l.id = p.loser
        RETURNING winner_topic_id, loser_topic_id, moved
    )
    INSERT INTO topic_history (topic_id, job_id, action, previous_values, new_values,
                               created_by)
    SELECT x.topic_id, :job_id, 'merged', x.previous, x.new, :created_by
    FROM recorded r
    JOIN losers l ON l.id = r.loser_topic_id
    CROSS JOIN LATERAL (VALUES
        (r.winner_topic_id, '{}'::jsonb, jsonb_build_object(
            'absorbedTopicId', r.loser_topic_id, 'absorbedName', l.name,
            'orgLinksMoved', jsonb_array_length(r.moved -> 'orgLinksMoved'),
            'orgLinksConsolidated', jsonb_array_length(r.moved -> 'orgLinksDropped'),
            'activationsMoved', jsonb_array_length(r.moved -> 'activationsMoved'),
            'activationsRetired', jsonb_array_length(r.moved -> 'activationsRetired'))),
        (r.loser_topic_id, jsonb_build_object('merged_into', NULL),
         jsonb_build_object('merged_into', r.winner_topic_id))
    ) AS x(topic_id, previous, new)
    """
)

_LOCK_TOPICS = sa.text(
    """
    SELECT id, name, merged_into, deleted_at FROM topics WHERE id = ANY(:ids)
    ORDER BY id FOR UPDATE
    """
)


@dataclass(frozen=True)
class MergePlan:
    """One cluster to merge: the winner and its losers with their score."""

    winner: int
    losers: tuple[tuple[int, float | None], ...]

    @property
    def members(self) -> tuple[int, ...]:
        return (self.winner, *(i for i, _ in self.losers))


def _gone(row: sa.Row | None) -> str | None:
    if row is None:
        return "does not exist"
    if row.merged_into is not None:
        return f"was already merged into topic {row.merged_into}"
    if row.deleted_at is not None:
        return "is deleted"
    return None


def merge_clusters(conn: Connection, clusters: list[MergePlan], *, job_id: str,
                   created_by: str) -> dict[int, str]:
    """Merge these clusters (rows locked first). Returns the clusters not merged: winner id ->
    the reason (a member gone); the others are merged.
    """
    ids = sorted({m for c in clusters for m in c.members})
    rows = {row.id: row for row in conn.execute(_LOCK_TOPICS, {"ids": ids})}
    not_merged: dict[int, str] = {}
    pairs: list[dict[str, Any]] = []
    for cluster in clusters:
        problem = _gone(rows.get(cluster.winner))
        if problem:
            not_merged[cluster.winner] = f"Winner topic {cluster.winner} {problem}"
            continue
        problems = [f"topic {i} {p}" for i in cluster.members[1:] if (p := _gone(rows.get(i)))]
        if problems:
            not_merged[cluster.winner] = "Not merged: " + "; ".join(problems)
            continue
        pairs += [{"winner": cluster.winner, "loser": loser, "score": score}
                  for loser, score in cluster.losers]
    if pairs:
        conn.execute(_MERGE, {"pairs": json.dumps(pairs), "job_id": job_id,
                              "created_by": created_by})
    return not_merged


_UNDO_CHECKS = sa.text(
    """
    SELECT m.id, m.winner_topic_id AS winner, m.loser_topic_id AS loser, concat_ws('; ',
        CASE WHEN w.merged_into IS NOT NULL OR w.deleted_at IS NOT NULL
             THEN 'topic ' || w.id || ' (the winner) is gone' END,
        CASE WHEN l.merged_into IS DISTINCT FROM m.winner_topic_id
             THEN 'topic ' || l.id || ' is no longer merged into ' || m.winner_topic_id END,
        CASE WHEN w.updated_at > m.created_at OR l.updated_at > m.created_at
             THEN 'a topic was edited after the merge' END,
        (SELECT 'topic ' || h.topic_id || ' has later history (' || h.action
                || coalesce(' by job ' || h.job_id, '') || ')'
         FROM topic_history h
         WHERE h.topic_id IN (m.winner_topic_id, m.loser_topic_id)
           AND h.created_at > m.created_at AND h.job_id IS DISTINCT FROM m.job_id
         ORDER BY h.id LIMIT 1),
        CASE WHEN (SELECT count(*) FROM org_topics o
                   WHERE o.topic_id = m.winner_topic_id AND o.id IN (
                       SELECT x::bigint FROM jsonb_array_elements_text(
                           m.moved -> 'orgLinksMoved') AS x))
                  <> jsonb_array_length(m.moved -> 'orgLinksMoved')
             THEN 'org links moved by the merge have changed since' END,
        CASE WHEN (SELECT count(*) FROM activations a
                   WHERE a.topic_id = m.winner_topic_id AND a.id IN (
                       SELECT x::bigint FROM jsonb_array_elements_text(
                           m.moved -> 'activationsMoved') AS x))
                  <> jsonb_array_length(m.moved -> 'activationsMoved')
             THEN 'activations moved by the merge have changed since' END,
        CASE WHEN EXISTS (SELECT 1 FROM org_topics o
                          JOIN jsonb_array_elements(m.moved -> 'orgLinksDropped') AS x
                            ON o.org_id = (x ->> 'orgId')::bigint
                          WHERE o.topic_id = m.loser_topic_id)
             THEN 'the loser was linked to an organisation again' END
    ) AS problem
    FROM merges m
    JOIN topics w ON w.id = m.winner_topic_id
    JOIN topics l ON l.id = m.loser_topic_id
    WHERE m.id = ANY(:ids) AND m.undone_at IS NULL
    ORDER BY m.id
    FOR UPDATE OF m, w, l
    """
)

_UNDO = sa.text(
    """
    WITH m AS (
        SELECT * FROM merges WHERE id = ANY(:ids)
    ), links_back AS (
        UPDATE org_topics o SET topic_id = m.loser_topic_id
        FROM m, jsonb_array_elements_text(m.moved -> 'orgLinksMoved') AS x(id)
        WHERE o.id = x.id::bigint
    ), links_restored AS (
        INSERT INTO org_topics (id, org_id, topic_id, created_at)
        SELECT (x ->> 'id')::bigint, (x ->> 'orgId')::bigint, m.loser_topic_id,
               (x ->> 'createdAt')::timestamptz
        FROM m, jsonb_array_elements(m.moved -> 'orgLinksDropped') AS x
    ), activations_back AS (
        UPDATE activations a SET topic_id = m.loser_topic_id
        FROM m, jsonb_array_elements_text(m.moved -> 'activationsMoved') AS x(id)
        WHERE a.id = x.id::bigint
    ), activations_restored AS (
        UPDATE activations a SET status = x ->> 'status', last_error = x ->> 'lastError',
                                 updated_at = (x ->> 'updatedAt')::timestamptz
        FROM m, jsonb_array_elements(m.moved -> 'activationsRetired') AS x
        WHERE a.id = (x ->> 'id')::bigint
    ), history_back AS (
        UPDATE topic_history h SET topic_id = m.loser_topic_id
        FROM m, jsonb_array_elements_text(m.moved -> 'historyMoved') AS x(id)
        WHERE h.id = x.id::bigint
    ), restored AS (
        UPDATE topics t SET merged_into = NULL, deleted_at = NULL,
                            updated_at = (m.moved ->> 'loserUpdatedAt')::timestamptz
        FROM m WHERE t.id = m.loser_topic_id
    ), undone AS (
        UPDATE merges SET undone_at = now() WHERE id IN (SELECT id FROM m)
    )
    INSERT INTO topic_history (topic_id, job_id, action, previous_values, new_values,
                               created_by)
    SELECT x.topic_id, :job_id, 'unmerged', x.previous, x.new, :created_by
    FROM m CROSS JOIN LATERAL (VALUES
        (m.winner_topic_id, jsonb_build_object('absorbedTopicId', m.loser_topic_id),
         jsonb_build_object('restoredTopicId', m.loser_topic_id, 'mergeJobId', m.job_id)),
        (m.loser_topic_id, jsonb_build_object('merged_into', m.winner_topic_id),
         jsonb_build_object('merged_into', NULL, 'mergeJobId', m.job_id))
    ) AS x(topic_id, previous, new)
    """
)


@dataclass(frozen=True)
class MergedRecord:
    """The merges rows of one cluster of a merge job."""

    winner: int
    merge_ids: tuple[int, ...]


_MERGED_CLUSTERS = sa.text(
    """
    SELECT winner_topic_id, array_agg(id ORDER BY id) AS ids
    FROM merges WHERE job_id = :job_id AND undone_at IS NULL
    GROUP BY winner_topic_id HAVING min(id) > :after
    ORDER BY min(id) LIMIT :n
    """
)


def merged_clusters(conn: Connection, job_id: str, *, after: int = 0,
                    limit: int = 1_000_000) -> list[MergedRecord]:
    """The clusters a merge job merged and that are not undone, in merge order, those whose
    first merges row id is above ``after``.
    """
    rows = conn.execute(_MERGED_CLUSTERS, {"job_id": job_id, "after": after, "n": limit})
    return [MergedRecord(row.winner_topic_id, tuple(row.ids)) for row in rows]


def undo_clusters(conn: Connection, clusters: list[MergedRecord], *, job_id: str,
                  created_by: str) -> dict[int, str]:
    """Undo these merged clusters; a cluster whose topics, links or activations changed
    since is left whole. Returns the ones not undone: winner id -> reason.
    """
    ids = [i for c in clusters for i in c.merge_ids]
    problems: dict[int, list[str]] = {}
    for row in conn.execute(_UNDO_CHECKS, {"ids": ids}):
        if row.problem:
            problems.setdefault(row.winner, []).append(row.problem)
    not_undone = {w: "Not undone, changed since the merge: " + "; ".join(dict.fromkeys(p))
               for w, p in problems.items()}
    clean = [i for c in clusters if c.winner not in not_undone for i in c.merge_ids]
    if clean:
        conn.execute(_UNDO, {"ids": clean, "job_id": job_id, "created_by": created_by})
    return not_undone
