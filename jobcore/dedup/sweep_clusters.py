"""A sweep's proposed clusters as stored, read once per process while the sweep stands
still, and which of their members are gone since (merged, deleted, missing), read fresh.

Only the sweep's own chunks write its clusters (new clusters, verified losers joining
one), and every chunk moves the job's ``updated_at``: a completed sweep's clusters never
change. The Dedup Clusters screen lists every cluster of a sweep on each rerun (40,870 at
200,000 topics: reading and parsing them took 2 s a click), so they are kept here per sweep
under that stamp; what changes under them, the members' states, is one query that returns
only the members no longer live (for a sweep nobody merged yet, none).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup import proposals
from jobcore.jobs.store import Job
from jobcore.sql_rules import live_topic

KEPT_SWEEPS = 6  # sweeps whose clusters a process keeps (the screen's picker, two tabs)

# Every cluster of a sweep: the losers' ids and scores (their evidence as stored, parsed
# when shown)
_CLUSTER_ROWS = sa.text(
    """
    SELECT c.seq, c.winner_topic_id AS winner,
           ARRAY(SELECT (l.value ->> 'id')::bigint FROM jsonb_array_elements(c.losers)
                 WITH ORDINALITY AS l(value, n) ORDER BY l.n) AS loser_ids,
           ARRAY(SELECT (l.value ->> 'score')::float8 FROM jsonb_array_elements(c.losers)
                 WITH ORDINALITY AS l(value, n) ORDER BY l.n) AS scores,
           c.losers::text AS losers_json
    FROM dedup_clusters c
    WHERE c.job_id = :job_id
    ORDER BY c.seq
    """
)

# The members of a sweep's clusters that are no longer live: missing (the topic row is
# gone), or merged (into ``merged_into``) or deleted
_GONE_MEMBERS = sa.text(
    f"""
    SELECT DISTINCT m.id, t.id IS NULL AS missing, t.merged_into
    FROM dedup_clusters c
    CROSS JOIN unnest(c.members) AS m(id)
    LEFT JOIN topics t ON t.id = m.id
    WHERE c.job_id = :job_id AND (t.id IS NULL OR NOT ({live_topic('t')}))
    """
)


class StoredCluster(NamedTuple):
    """A cluster as the sweep proposed it, with its number in the sweep (from 1)."""

    number: int
    cluster: proposals.Cluster


@dataclass(frozen=True)
class Gone:
    """A member that is no longer live: ``missing`` (no such topic any more), else merged
    into ``merged_into`` or, when that is None, deleted.
    """

    missing: bool
    merged_into: int | None


_lock = threading.Lock()
# (database, sweep id) -> (the job's updated_at when read, its clusters)
_kept: dict[tuple[str, str], tuple[datetime, list[StoredCluster]]] = {}


def stored_clusters(conn: Connection, job: Job) -> list[StoredCluster]:
    """The sweep's clusters in the order it numbered them (kept while the job is unchanged)."""
    slot = (str(conn.engine.url), job.id)
    with _lock:
        kept = _kept.get(slot)
    if kept is not None and kept[0] == job.updated_at:
        return kept[1]
    clusters = [StoredCluster(r.seq, proposals.Cluster.from_columns(
        r.winner, r.loser_ids, r.scores, r.losers_json))
        for r in conn.execute(_CLUSTER_ROWS, {"job_id": job.id})]
    with _lock:
        _kept.pop(slot, None)
        while len(_kept) >= KEPT_SWEEPS:
            _kept.pop(next(iter(_kept)))
        _kept[slot] = (job.updated_at, clusters)
    return clusters


def gone_members(conn: Connection, job_id: str) -> dict[int, Gone]:
    """The members of the sweep's clusters that are no longer live, by topic id."""
    return {r.id: Gone(r.missing, r.merged_into)
            for r in conn.execute(_GONE_MEMBERS, {"job_id": job_id})}


def state_facts(cluster: proposals.Cluster, gone: dict[int, Gone]
                ) -> tuple[bool, bool, list[int | None], list[int]]:
    """What a cluster's state is decided by (``cluster_review._state_of``): a member missing,
    every loser merged into the winner, where the members that are gone went (None:
    deleted), and the members still live.
    """
    members = cluster.members
    if gone.keys().isdisjoint(members):
        return False, False, [], list(members)
    missing = any(gone[m].missing for m in members if m in gone)
    losers_merged = bool(cluster.losers) and all(
        m in gone and not gone[m].missing and gone[m].merged_into == cluster.winner
        for m, _score in cluster.losers)
    gone_into = list(dict.fromkeys(gone[m].merged_into for m in members
                                   if m in gone and not gone[m].missing))
    return missing, losers_merged, gone_into, [m for m in members if m not in gone]
