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

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup import proposals
from jobcore.dedup.kept import KeptByStamp, built_to_keep
from jobcore.dedup.search import id_array
from jobcore.jobs.store import Job
from jobcore.schema.catalog import GONE_TOPIC_SQL

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

# Topics no longer live, with where each went (0: deleted, not merged): all of them, or those
# among a sweep's members; both through the partial index of gone topics (ix_topics_gone)
_GONE_COUNT = sa.text(f"SELECT count(*) FROM topics WHERE {GONE_TOPIC_SQL}")
_ALL_GONE = sa.text(
    "SELECT coalesce(array_agg(id), '{}'), coalesce(array_agg(coalesce(merged_into, 0)), '{}') "
    f"FROM topics WHERE {GONE_TOPIC_SQL}")
_GONE_MEMBERS = sa.text(
    "SELECT coalesce(array_agg(id), '{}'), coalesce(array_agg(coalesce(merged_into, 0)), '{}') "
    f"FROM topics WHERE id = ANY(CAST(:ids AS bigint[])) AND ({GONE_TOPIC_SQL})")
# How many of them exist (a row deleted by hand leaves a member missing): counted again
# only when the catalogue's row count or highest id moved (0.4 s for 900,000 members)
_EXISTING_COUNT = sa.text("SELECT count(*) FROM topics WHERE id = ANY(CAST(:ids AS bigint[]))")
_MARKED_PAIRS = sa.text("SELECT low_topic_id, high_topic_id FROM not_duplicate_pairs")
_CATALOGUE_ROWS = sa.text("SELECT count(*), coalesce(max(id), 0) FROM topics")
_EXISTING = sa.text("SELECT id FROM topics WHERE id = ANY(CAST(:ids AS bigint[]))")

OPEN, MERGED, STALE = "open", "merged", "stale"


class StoredCluster(NamedTuple):
    """A cluster as the sweep proposed it, with its number in the sweep (from 1)."""

    number: int
    cluster: proposals.Cluster


class SweepClusters:
    """A sweep's stored clusters, and their members as flat arrays (every member once per
    cluster holding it) for counting their states at once.
    """

    def __init__(self, clusters: list[StoredCluster]) -> None:
        self.clusters = clusters
        sizes = [len(c.cluster.members) for c in clusters]
        self._members = np.fromiter((m for c in clusters for m in c.cluster.members),
                                    dtype=np.int64, count=sum(sizes))
        self._cluster_at = np.repeat(np.arange(len(clusters)), sizes)
        self._winner_at = np.repeat(np.fromiter((c.cluster.winner for c in clusters),
                                                dtype=np.int64, count=len(clusters)), sizes)
        self._is_loser = self._members != self._winner_at
        self.topic_ids = np.unique(self._members)
        self.id_array = id_array(self.topic_ids.tolist())
        self._existing_count: tuple[tuple[int, int], int] | None = None
        self._member_index = np.searchsorted(self.topic_ids, self._members)  # each member's

    def _existing(self, conn: Connection) -> int:
        """How many of the members exist, kept under the catalogue's row count and highest
        id (a deletion lowers the count; a deletion and an insertion move the id).
        """
        rows = tuple(conn.execute(_CATALOGUE_ROWS).one())
        known = self._existing_count
        if known is None or known[0] != rows:
            known = self._existing_count = (rows, conn.execute(
                _EXISTING_COUNT, {"ids": self.id_array}).scalar_one())
        return known[1]

    def marked_apart(self, conn: Connection) -> set[tuple[int, int]]:
        """The pairs analysts marked "not duplicates" that hold one of the members: the
        marks are few, the members up to a million (read whole, kept by membership here).
        """
        rows = conn.execute(_MARKED_PAIRS).all()
        if not rows:
            return set()
        pairs = np.asarray(rows, dtype=np.int64)
        held = np.isin(pairs[:, 0], self.topic_ids) | np.isin(pairs[:, 1], self.topic_ids)
        return {(low, high) for low, high in pairs[held].tolist()}

    def __iter__(self) -> Iterator[StoredCluster]:
        return iter(self.clusters)

    def states(self, conn: Connection) -> list[str]:
        """Each cluster's state now: merged (every loser merged into the winner, or every
        member gone into one member still live), stale (a member missing, merged
        elsewhere or deleted), else open. Counted here for every cluster from where each
        member went (0: live; -1: its row is missing; else the topic it was merged into, or
        itself when deleted without a merge).
        """
        went_by_topic = self._went(conn)
        if not went_by_topic.any():
            return [OPEN] * len(self.clusters)
        went = went_by_topic[self._member_index]
        is_gone = went != 0
        clusters = len(self.clusters)
        touched = np.bincount(self._cluster_at[is_gone], minlength=clusters) > 0
        missing = np.bincount(self._cluster_at[went == -1], minlength=clusters) > 0
        losers = np.bincount(self._cluster_at[self._is_loser], minlength=clusters)
        into_winner = np.bincount(
            self._cluster_at[self._is_loser & (went == self._winner_at)], minlength=clusters)
        losers_merged = (losers > 0) & (into_winner == losers)
        found = np.full(clusters, OPEN, dtype=object)
        for gone_missing, all_merged in ((False, True), (True, False), (True, True)):
            # decided before where the rest went: one answer of the rule for each case
            found[touched & (missing == gone_missing) & (losers_merged == all_merged)] = \
                state_of(gone_missing, all_merged, [], [])
        states = found.tolist()
        for index in np.flatnonzero(touched & ~missing & ~losers_merged).tolist():
            members = self.clusters[index].cluster.members
            where = went_by_topic[np.searchsorted(self.topic_ids, members)].tolist()
            states[index] = state_of(
                False, False,  # a deleted member "went" into itself: into none
                list(dict.fromkeys(None if w == m else w for m, w in zip(members, where,
                                                                      strict=True) if w)),
                [m for m, w in zip(members, where, strict=True) if not w])
        return states

    def _went(self, conn: Connection) -> np.ndarray:
        """Where each of ``topic_ids`` went (see ``states``): the gone topics read through
        their partial index, all of them when they are not many more than the members
        (one scan), else those among the members.
        """
        gone_total = conn.execute(_GONE_COUNT).scalar_one()
        if gone_total <= 2 * len(self.topic_ids):
            gone_ids, gone_into = conn.execute(_ALL_GONE).one()
        else:
            gone_ids, gone_into = conn.execute(_GONE_MEMBERS, {"ids": self.id_array}).one()
        went = np.zeros(len(self.topic_ids), dtype=np.int64)
        if gone_ids:
            ids = np.asarray(gone_ids, dtype=np.int64)
            into = np.asarray(gone_into, dtype=np.int64)
            at = np.minimum(np.searchsorted(self.topic_ids, ids), len(self.topic_ids) - 1)
            member = self.topic_ids[at] == ids
            went[at[member]] = np.where(into[member] == 0, ids[member], into[member])
        if self._existing(conn) != len(self.topic_ids):  # rows deleted by hand
            existing = np.fromiter(
                (r.id for r in conn.execute(_EXISTING, {"ids": self.id_array})), dtype=np.int64)
            went[~np.isin(self.topic_ids, existing)] = -1
        return went


def state_of(missing: bool, losers_merged: bool, gone_into: list[int | None],
             live_members: list[int]) -> str:
    """A cluster's state from its members': ``missing`` (a member no longer exists), whether
    every loser was merged into the winner, where the members that are gone went (None: a
    member deleted, not merged) and which are still live.
    """
    if losers_merged:
        return MERGED
    if missing:
        return STALE
    # merged with another winner (an analyst's edit): every member gone went into one member
    # that is still live
    if len(gone_into) == 1 and gone_into[0] is not None and gone_into[0] in live_members:
        return MERGED
    return STALE if gone_into else OPEN


_kept: KeptByStamp[SweepClusters] = KeptByStamp(KEPT_SWEEPS)  # (database, sweep id)


def stored_clusters(conn: Connection, job: Job) -> SweepClusters:
    """The sweep's clusters in the order it numbered them (kept while the job is unchanged)."""
    slot = (str(conn.engine.url), job.id)
    clusters = _kept.get(slot, job.updated_at)
    if clusters is None:
        rows = conn.execute(_CLUSTER_ROWS, {"job_id": job.id}).all()
        with built_to_keep(len(rows)):
            clusters = SweepClusters([StoredCluster(r.seq, proposals.Cluster.from_columns(
                r.winner, r.loser_ids, r.scores, r.losers_json)) for r in rows])
            del rows  # the rows go before the freeze: only the clusters are kept
        _kept.put(slot, job.updated_at, clusters)
    return clusters
