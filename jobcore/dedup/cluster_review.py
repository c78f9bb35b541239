"""The clusters of a dedup sweep as analysts review them: member details, their decisions
(accepted, another winner, a member removed: jobcore.dedup.cluster_decisions; a pair marked
"not duplicates") applied, and the merge job they lead to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore import audit
from jobcore.activations.platforms.base import PLATFORM_NAMES
from jobcore.db import get_engine
from jobcore.dedup import (
    calibration,
    cluster_decisions,
    guards,
    lexical,
    matching,
    proposals,
    sweep_clusters,
    thresholds,
)
from jobcore.dedup.cluster_decisions import ClusterEdit
from jobcore.dedup.kept import KeptByStamp, built_to_keep
from jobcore.dedup.review_figures import ReviewFigures
from jobcore.dedup.sweep_clusters import MERGED as MERGED  # the states, as callers name them
from jobcore.dedup.sweep_clusters import OPEN, state_of
from jobcore.dedup.sweep_clusters import STALE as STALE
from jobcore.dedup.sweep_result import SweepResult
from jobcore.errors import UsageError
from jobcore.jobs import runner, store
from jobcore.jobs.store import Job


@dataclass(frozen=True)
class MemberState:
    """A topic of a cluster as the list of clusters needs it: its name and whether it is
    still live (read for every member of a sweep: kept small).
    """

    id: int
    name: str
    merged_into: int | None
    deleted: bool

    @property
    def live(self) -> bool:
        return self.merged_into is None and not self.deleted


@dataclass(frozen=True)
class Member(MemberState):
    """One topic of a cluster as the comparison shows it (read for the cluster under review)."""

    description: str | None
    classification: str
    segment_type: str | None
    audience_type: str | None
    org_links: tuple[str, ...]
    activations: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class ReviewedCluster:
    """A proposed cluster with the analyst's edits applied and its current state."""

    number: int  # the cluster's number in the sweep, from 1
    cluster: proposals.Cluster
    proposed_winner: int
    state: str  # open, merged (already merged into its winner), stale (a member is gone)
    edited: bool
    # pairs of the proposed members marked "not duplicates" (left out of the cluster)
    marked_apart: tuple[tuple[int, int], ...] = ()
    decision: ClusterEdit = field(default_factory=ClusterEdit)  # analysts' decisions on it

    @property
    def accepted(self) -> bool:
        return self.decision.accepted

    @property
    def decided(self) -> bool:
        """Looked at and decided: accepted, edited, merged or gone, or a pair marked."""
        return self.state != OPEN or self.edited or self.accepted

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
           coalesce((SELECT array_agg(ARRAY[o.name, a.platform, a.status]
                                      ORDER BY o.name, a.platform)
                     FROM activations a JOIN organizations o ON o.id = a.org_id
                     WHERE a.topic_id = t.id), '{}') AS activations
    FROM topics t WHERE t.id = ANY(:ids)
    """
)


def members(conn: Connection, topic_ids: set[int]) -> dict[int, Member]:
    """The comparison fields of these topics, deleted and merged ones included."""
    rows = conn.execute(_MEMBERS, {"ids": sorted(topic_ids)}).all()
    return {r.id: Member(id=r.id, name=r.name, merged_into=r.merged_into, deleted=r.deleted,
                         description=r.description,
                         classification=r.classification or "unclassified",
                         segment_type=r.segment_type, audience_type=r.audience_type,
                         org_links=tuple(r.org_links), activations=tuple(
                             f"{org} · {PLATFORM_NAMES.get(platform, platform)} ({status})"
                             for org, platform, status in r.activations),
                         created_at=r.created_at)
            for r in rows}


_STATES = sa.text("SELECT id, name, merged_into, deleted_at IS NOT NULL AS deleted "
                  "FROM topics WHERE id = ANY(:ids)")


def member_states(conn: Connection, topic_ids: set[int]) -> dict[int, MemberState]:
    """The names and states of these topics, deleted and merged ones included."""
    rows = conn.execute(_STATES, {"ids": sorted(topic_ids)}).all()  # one fetch, not per row
    return {r.id: MemberState(r.id, r.name, r.merged_into, r.deleted) for r in rows}


_SIMILARITIES = sa.text(
    """
    SELECT t.topic_id, 1 - (t.embedding <=> w.embedding)
    FROM topic_embeddings t, topic_embeddings w
    WHERE w.topic_id = :winner AND t.topic_id = ANY(:ids)
    """
)


class ClusterReview(list[ReviewedCluster]):
    """A sweep's reviewed clusters, weakest link first (each caller's own copy of the list),
    with their figures, counted once for every copy of one review.
    """

    def __init__(self, clusters: list[ReviewedCluster],
                 figures: ReviewFigures | None = None) -> None:
        super().__init__(clusters)
        # the figures count a tuple of their own: no reference cycle back to this list (a
        # replaced review is freed by reference counting, even frozen: jobcore.dedup.kept)
        self.figures = figures if figures is not None else ReviewFigures(tuple(clusters))


def review(conn: Connection, job: Job) -> ClusterReview:
    """The sweep's clusters with analysts' decisions and the pairs marked "not duplicates"
    applied, each with its state, weakest link first. A cluster nobody changed keeps the
    sweep's winner and losers, its state counted by the server; the few analysts changed
    are worked out here from their members' names and states.
    """
    if job.job_type != "dedup_sweep":
        raise UsageError(f"Job {job.id} is a {job.job_type} job, not a dedup sweep.")
    stored = sweep_clusters.stored_clusters(conn, job)
    states = stored.states(conn)
    edits = cluster_decisions.edits_of(conn, job.id)
    marked_apart = stored.marked_apart(conn)
    in_refused = {m for pair in marked_apart for m in pair}
    touched = [s for s in stored if (s.number in edits and edits[s.number].changes)
               or not in_refused.isdisjoint(s.cluster.members)]
    details = member_states(conn, {m for s in touched for m in s.cluster.members})
    # the same facts as the last look at this sweep (a rerun of its screen): the same list
    slot, facts = (str(conn.engine.url), job.id), (job.updated_at, states, edits,
                                                   marked_apart, details)
    last = _last_review.get(slot, facts)
    if last is not None:
        return ClusterReview(last, last.figures)
    with built_to_keep(len(stored.clusters)):
        kept = ClusterReview(_reviewed(conn, job, stored, states, edits, marked_apart,
                                       details, {s.number for s in touched}))
    _last_review.put(slot, facts, kept)
    return ClusterReview(kept, kept.figures)


def _reviewed(conn: Connection, job: Job, stored: sweep_clusters.SweepClusters,
              states: list[str], edits: dict[int, ClusterEdit],
              marked_apart: set[tuple[int, int]], details: dict[int, MemberState],
              touched_numbers: set[int]) -> list[ReviewedCluster]:
    """Every stored cluster with its state and decisions, the ``touched_numbers`` (edited,
    or holding a pair marked apart) worked out again from their members; weakest first.
    """
    reviewed = []
    for (number, cluster), state in zip(stored, states, strict=True):
        edit = edits.get(number, ClusterEdit())
        if number not in touched_numbers:
            reviewed.append(ReviewedCluster(number, cluster, cluster.winner, state, False,
                                            decision=edit))
            continue
        current = _apply(conn, job, cluster, edit, marked_apart, details)
        reviewed.append(ReviewedCluster(
            number, current, cluster.winner, _state(current, details), current != cluster,
            tuple(sorted(p for p in marked_apart if set(p) <= set(cluster.members))), edit))
    reviewed.sort(key=weakest_first)
    return reviewed


def weakest_first(reviewed: ReviewedCluster) -> tuple[float, int]:
    """The review's order: weakest link first (clusters without a loser last), by number."""
    return (reviewed.weakest if reviewed.weakest is not None else 2.0, reviewed.number)


# (database, sweep id) -> the last review of the sweep, under the facts it was made from
_last_review: KeptByStamp[ClusterReview] = KeptByStamp(sweep_clusters.KEPT_SWEEPS)


def _apply(conn: Connection, job: Job, cluster: proposals.Cluster, edit: ClusterEdit,
           marked_apart: set[tuple[int, int]], details: dict[int, MemberState]
           ) -> proposals.Cluster:
    winner = edit.winner if edit.winner in cluster.members else cluster.winner
    # the sweep's guards passed each loser against its own winner: only another winner,
    # chosen by an analyst, is checked again
    keep = [m for m in cluster.members if m != winner and m not in edit.removed
            and proposals.pair_key(m, winner) not in marked_apart
            and (winner == cluster.winner or _compatible(details, m, winner))]
    if winner == cluster.winner:
        scores, evidence = dict(cluster.losers), cluster.evidence
    else:
        scores, evidence = _scores_against(conn, job, winner, keep, details)
    return proposals.Cluster(winner, tuple(sorted(((m, float(scores[m])) for m in keep),
                                                 key=lambda item: (-item[1], item[0]))),
                            {m: evidence[m] for m in keep if m in evidence})


def _scores_against(conn: Connection, job: Job, winner: int, others: list[int],
                    details: dict[int, MemberState]
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
    # the sweep's own index (the same key and guard key), where this process built it
    index = lexical.index_for(conn, job.id, fixed=True, guard_key=guards.guard_key)
    lexical_scores = dict(zip(others, index.similarities(names), strict=True))
    mode = SweepResult.of(job.result).matching or thresholds.SEMANTIC
    scores = {m: thresholds.pair_score(mode, semantic.get(m, 0.0), lexical_scores[m])
              for m in others}
    evidence = {m: proposals.pair_evidence(details[winner].name, details[m].name,
                                          semantic.get(m), lexical_scores[m])
                for m in others}
    return scores, evidence


def _compatible(details: dict[int, MemberState], a: int, b: int) -> bool:
    """Whether the two topics' names allow a duplicate (markets, numbers): a new winner
    chosen by an analyst does not take members whose numbers contradict its own.
    """
    if a not in details or b not in details:
        return True
    return guards.compatible(guards.markers(details[a].name),
                               guards.markers(details[b].name))


def _state(cluster: proposals.Cluster, details: dict[int, MemberState]) -> str:
    members = [details.get(i) for i in cluster.members]
    losers = [details.get(i) for i, _ in cluster.losers]
    return state_of(
        any(m is None for m in members),
        bool(losers) and all(m is not None and m.merged_into == cluster.winner for m in losers),
        list({m.merged_into for m in members if m is not None and not m.live}),
        [m.id for m in members if m is not None and m.live])


def merge_config(clusters: list[ReviewedCluster], sweep_id: str) -> dict[str, Any]:
    """The merge job config for these reviewed clusters (open ones with a loser left), each
    with its number in the sweep.
    """
    chosen = [{**r.cluster.to_json(), "number": r.number} for r in clusters if r.mergeable]
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
    engine = engine or get_engine()
    with audit.action("unmark_not_duplicates", target=f"#{a}, #{b}", engine=engine), \
            engine.begin() as conn:
        matching.unmark_not_duplicates(conn, a, b)


def mark_not_duplicates(a: int, b: int, *, created_by: str, sweep_id: str | None,
                        engine: Engine | None = None) -> None:
    """Remember that two topics are not duplicates (later sweeps will not propose them)."""
    engine = engine or get_engine()
    with audit.action("mark_not_duplicates", target=f"#{a}, #{b}",
                      details={"sweep": sweep_id}, engine=engine), engine.begin() as conn:
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


def load_members(topic_ids: set[int], *, engine: Engine | None = None) -> dict[int, Member]:
    """The comparison fields of these topics (see ``members``)."""
    with (engine or get_engine()).connect() as conn:
        return members(conn, topic_ids)


def load_names(topic_ids: set[int], *, engine: Engine | None = None) -> dict[int, str]:
    """The names of these topics (for the clusters a screen or command lists)."""
    with (engine or get_engine()).connect() as conn:
        return {i: m.name for i, m in member_states(conn, topic_ids).items()}


def load_review(job_id: str, *, engine: Engine | None = None
                ) -> tuple[Job, ClusterReview]:
    """The sweep job and its reviewed clusters."""
    with (engine or get_engine()).connect() as conn:
        job = store.get_job(conn, job_id)
        return job, review(conn, job)


def record_decision(sweep_id: str, cluster: int, action: str, topic_id: int | None = None,
                    *, by: str, engine: Engine | None = None) -> cluster_decisions.Decision:
    """Record an analyst's decision on one of the sweep's clusters (see
    jobcore.dedup.cluster_decisions).
    """
    with (engine or get_engine()).begin() as conn:
        return cluster_decisions.decide(conn, sweep_id, cluster, action, topic_id, by=by)


def undo_last_decision(sweep_id: str, *, by: str, engine: Engine | None = None
                       ) -> cluster_decisions.Decision | None:
    """Undo ``by``'s last decision on the sweep still in force (None: there is none)."""
    with (engine or get_engine()).begin() as conn:
        return cluster_decisions.undo_last(conn, sweep_id, by=by)
