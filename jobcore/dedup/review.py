"""The clusters of a dedup sweep as analysts review them: member details, edits (another
winner, a member removed, a pair marked "not duplicates") and the merge job they lead to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.db import get_engine
from jobcore.dedup import (
    calibration,
    guards,
    lexical,
    matching,
    neighbourhoods,
    proposals,
    thresholds,
)
from jobcore.dedup.sweep_job import clusters_of
from jobcore.errors import UsageError
from jobcore.jobs import runner, store
from jobcore.jobs.store import Job

OPEN, MERGED, STALE = "open", "merged", "stale"


@dataclass(frozen=True)
class Member:
    """One topic of a cluster as the comparison shows it."""

    id: int
    name: str
    description: str | None
    classification: str
    segment_type: str | None
    audience_type: str | None
    org_links: tuple[str, ...]
    activations: tuple[str, ...]
    created_at: datetime
    merged_into: int | None
    deleted: bool

    @property
    def live(self) -> bool:
        return self.merged_into is None and not self.deleted


@dataclass
class ClusterEdit:
    """An analyst's changes to one proposed cluster (kept by the screen until merged)."""

    winner: int | None = None
    removed: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class ReviewedCluster:
    """A proposed cluster with the analyst's edits applied and its current state."""

    number: int  # position in the sweep's result, from 1
    cluster: proposals.Cluster
    proposed_winner: int
    state: str  # open, merged (already merged into its winner), stale (a member is gone)
    edited: bool
    # pairs of the proposed members marked "not duplicates" (left out of the cluster)
    refused: tuple[tuple[int, int], ...] = ()

    @property
    def weakest(self) -> float | None:
        return self.cluster.weakest if self.cluster.losers else None

    @property
    def mergeable(self) -> bool:
        """Open, with a loser left after the edits: what a merge may take."""
        return self.state == OPEN and bool(self.cluster.losers)


_MEMBERS = sa.text(
    """
    SELECT t.id, t.name, t.description, concat_ws(' > ', t.taxonomy_type, t.parent_category,
                                                t.subcategory) AS classification,
           t.segment_type, t.audience_type, t.created_at, t.merged_into,
           t.deleted_at IS NOT NULL AS deleted,
           coalesce((SELECT array_agg(o.name ORDER BY o.name) FROM org_topics ot
                     JOIN organizations o ON o.id = ot.org_id WHERE ot.topic_id = t.id),
                    '{}') AS org_links,
           coalesce((SELECT array_agg(o.name || ' · ' || a.platform || ' (' || a.status || ')'
                                      ORDER BY o.name, a.platform)
                     FROM activations a JOIN organizations o ON o.id = a.org_id
                     WHERE a.topic_id = t.id), '{}') AS activations
    FROM topics t WHERE t.id = ANY(:ids)
    """
)


def members(conn: Connection, topic_ids: set[int]) -> dict[int, Member]:
    """The comparison fields of these topics, deleted and merged ones included."""
    rows = conn.execute(_MEMBERS, {"ids": sorted(topic_ids)}).all()  # one fetch, not per row
    return {r.id: Member(r.id, r.name, r.description, r.classification or "unclassified",
                         r.segment_type, r.audience_type, tuple(r.org_links),
                         tuple(r.activations), r.created_at, r.merged_into, r.deleted)
            for r in rows}


_SIMILARITIES = sa.text(
    """
    SELECT t.topic_id, 1 - (t.embedding <=> w.embedding)
    FROM topic_embeddings t, topic_embeddings w
    WHERE w.topic_id = :winner AND t.topic_id = ANY(:ids)
    """
)


def proposed(conn: Connection, job: Job) -> list[proposals.Cluster]:
    """The clusters a dedup sweep job proposed, in the order found."""
    if job.job_type != "dedup_sweep":
        raise UsageError(f"Job {job.id} is a {job.job_type} job, not a dedup sweep.")
    return clusters_of(conn, job.id)


def review(conn: Connection, job: Job, edits: dict[int, ClusterEdit]
           ) -> tuple[list[ReviewedCluster], dict[int, Member]]:
    """The sweep's clusters with ``edits`` (by cluster number) and the pairs marked "not
    duplicates" applied, each with its state, weakest link first; and the details of every
    proposed member.
    """
    clusters = proposed(conn, job)
    everyone = {m for c in clusters for m in c.members}
    details = members(conn, everyone)
    refused = neighbourhoods.refused_pairs(conn, everyone)
    reviewed = []
    for number, cluster in enumerate(clusters, start=1):
        edit = edits.get(number, ClusterEdit())
        current = _apply(conn, job, cluster, edit, refused, details)
        reviewed.append(ReviewedCluster(
            number, current, cluster.winner, _state(current, details), current != cluster,
            tuple(sorted(p for p in refused if set(p) <= set(cluster.members)))))
    reviewed.sort(key=lambda r: (r.weakest if r.weakest is not None else 2.0, r.number))
    return reviewed, details


def _apply(conn: Connection, job: Job, cluster: proposals.Cluster, edit: ClusterEdit,
           refused: set[tuple[int, int]], details: dict[int, Member]) -> proposals.Cluster:
    winner = edit.winner if edit.winner in cluster.members else cluster.winner
    # the sweep's guards passed each loser against its own winner: only another winner,
    # chosen by an analyst, is checked again
    keep = [m for m in cluster.members if m != winner and m not in edit.removed
            and proposals.pair_key(m, winner) not in refused
            and (winner == cluster.winner or _compatible(details, m, winner))]
    if winner == cluster.winner:
        scores, evidence = dict(cluster.losers), cluster.evidence
    else:
        scores, evidence = _scores_against(conn, job, winner, keep, details)
    return proposals.Cluster(winner, tuple(sorted(((m, float(scores[m])) for m in keep),
                                                 key=lambda item: (-item[1], item[0]))),
                            {m: evidence[m] for m in keep if m in evidence})


def _scores_against(conn: Connection, job: Job, winner: int, others: list[int],
                    details: dict[int, Member]
                    ) -> tuple[dict[int, float], dict[int, proposals.Evidence]]:
    """Each topic's score and evidence against a winner an analyst chose, scored as the
    sweep scored its pairs (its lexical index; sweeps from before hybrid matching were
    semantic). A topic without an embedding has no semantic part.
    """
    if not others:
        return {}, {}
    semantic = {topic_id: float(similarity) for topic_id, similarity in conn.execute(
        _SIMILARITIES, {"winner": winner, "ids": others}).all() if similarity is not None}
    names = [(details[winner].name, details[m].name) for m in others]
    # the sweep's own index (the same key and group), where this process built it
    index = lexical.index_for(conn, job.id, fixed=True, group=guards.guard_group)
    lexical_scores = dict(zip(others, index.similarities(names), strict=True))
    mode = job.result.get("matching", thresholds.SEMANTIC)
    scores = {m: thresholds.pair_score(mode, semantic.get(m, 0.0), lexical_scores[m])
              for m in others}
    evidence = {m: proposals.pair_evidence(details[winner].name, details[m].name,
                                          semantic.get(m), lexical_scores[m])
                for m in others}
    return scores, evidence


def _compatible(details: dict[int, Member], a: int, b: int) -> bool:
    """Whether the two topics' names allow a duplicate (markets, numbers): a new winner
    chosen by an analyst does not take members whose numbers contradict its own.
    """
    if a not in details or b not in details:
        return True
    return guards.compatible(guards.markers(details[a].name),
                               guards.markers(details[b].name))


def _state(cluster: proposals.Cluster, details: dict[int, Member]) -> str:
    losers = [details.get(i) for i, _ in cluster.losers]
    if losers and all(m is not None and m.merged_into == cluster.winner for m in losers):
        return MERGED
    members = [details.get(i) for i in cluster.members]
    if any(m is None for m in members):
        return STALE
    gone = [m for m in members if not m.live]
    # merged with another winner (an analyst's edit): every member gone went into one member
    # that is still live
    targets = {m.merged_into for m in gone}
    if gone and len(targets) == 1 and None not in targets and \
            any(m.id in targets and m.live for m in members):
        return MERGED
    return STALE if gone else OPEN


def merge_config(clusters: list[ReviewedCluster], sweep_id: str) -> dict[str, Any]:
    """The merge job config for these reviewed clusters (open ones with a loser left)."""
    chosen = [r.cluster.to_json() for r in clusters if r.mergeable]
    if not chosen:
        raise UsageError("Select at least one open cluster with a loser left to merge.")
    return {"clusters": chosen, "sourceSweepId": sweep_id}


def start_merge(clusters: list[ReviewedCluster], sweep_id: str, *, created_by: str | None,
                engine: Engine | None = None) -> runner.CreatedJob:
    """Create the merge job for these reviewed clusters."""
    return runner.create_job("merge", merge_config(clusters, sweep_id), created_by=created_by,
                             engine=engine)


def unmark_not_duplicates(a: int, b: int, *, engine: Engine | None = None) -> None:
    """Undo a "not duplicates" mark: the pair is proposed again where a sweep found it."""
    with (engine or get_engine()).begin() as conn:
        matching.unmark_not_duplicates(conn, a, b)


def mark_not_duplicates(a: int, b: int, *, created_by: str, sweep_id: str | None,
                        engine: Engine | None = None) -> None:
    """Remember that two topics are not duplicates (later sweeps will not propose them)."""
    with (engine or get_engine()).begin() as conn:
        matching.mark_not_duplicates(conn, a, b, created_by=created_by, job_id=sweep_id)


def decisions_by_band(matching_mode: str, *, engine: Engine | None = None
                      ) -> list[calibration.BandOutcome]:
    """The analysts' merges and refusals of proposed pairs per score band (see
    jobcore.dedup.calibration).
    """
    with (engine or get_engine()).connect() as conn:
        return calibration.band_outcomes(conn, matching_mode)


def claude_agreement_by_band(matching_mode: str, *, engine: Engine | None = None
                             ) -> list[calibration.BandAgreement]:
    """How analysts decided the pairs Claude verified, per score band (see
    jobcore.dedup.calibration).
    """
    with (engine or get_engine()).connect() as conn:
        return calibration.claude_agreement(conn, matching_mode)


def load_review(job_id: str, edits: dict[int, ClusterEdit], *,
                engine: Engine | None = None) -> tuple[Job, list[ReviewedCluster],
                                                       dict[int, Member]]:
    """The sweep job, its reviewed clusters and the details of their members."""
    with (engine or get_engine()).connect() as conn:
        job = store.get_job(conn, job_id)
        reviewed, details = review(conn, job, edits)
    return job, reviewed, details
