"""Claude's answers about a sweep's band pairs (dedup_sweep with verify "claude"; the band
in verify_band, the requests in verify_requests).

**Results.** A pair Claude calls the same joins its winner's cluster (a new cluster when the
winner had none) with the verdict in its evidence; one it calls different is remembered; a
malformed answer or a failed result (errored, expired, canceled) leaves each of its pairs
unverified, in the job's errors, never merged. Clusters still do not chain: a verified pair
joins only the star of the winner it was scored against, and each topic is in one pair.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup import proposals, search
from jobcore.dedup.sweep_result import SweepResult
from jobcore.dedup.verify_band import DIFFERENT, FAILED, SAME, with_verdict
from jobcore.dedup.verify_prompt import (
    read_verdicts,
)
from jobcore.dedup.verify_requests import requests_by_number
from jobcore.jobs.base import ChunkOutcome, ItemError
from jobcore.jobs.store import Job
from jobcore.llm.answers import AnswerError, answer_of

# ---------------------------------------------------------------------------------------
# post-processing: the answers


_SAVE_VERDICTS = sa.text(
    """
    UPDATE dedup_verify_pairs p SET state = v.state, confidence = v.confidence,
                                    reason = v.reason
    FROM jsonb_to_recordset(CAST(:verdicts AS jsonb))
        AS v(loser bigint, state text, confidence float8, reason text)
    WHERE p.job_id = :job_id AND p.loser_topic_id = v.loser
    """
)

_REMEMBER = sa.text(
    """
    INSERT INTO claude_pair_verdicts (low_topic_id, high_topic_id, same, confidence, reason,
                                      score, matching, model, job_id)
    SELECT least(v.a, v.b), greatest(v.a, v.b), v.same, v.confidence, v.reason, v.score,
           :matching, :model, :job_id
    FROM jsonb_to_recordset(CAST(:verdicts AS jsonb))
        AS v(a bigint, b bigint, same boolean, confidence float8, reason text, score float8)
    ON CONFLICT (low_topic_id, high_topic_id) DO NOTHING
    """
)


@dataclass
class _Answers:
    """What a post-processing chunk read from Claude's answers, to write in one go."""

    states: list[dict[str, Any]] = field(default_factory=list)  # each pair's state, verdict
    remember: list[dict[str, Any]] = field(default_factory=list)  # verdicts kept for later
    joins: list[tuple[int, int, float, proposals.Evidence]] = field(default_factory=list)
    same: int = 0
    different: int = 0
    failed: int = 0
    gone: int = 0  # a topic merged or deleted before the answer came

    def unanswered(self, pairs: list[Any], problem: AnswerError,
                   outcome: ChunkOutcome) -> None:
        """A malformed or failed answer: each of its pairs stays unverified, an error."""
        for pair in pairs:
            q = pair.question
            self.states.append({"loser": q.b.id, "state": FAILED, "confidence": None,
                                "reason": str(problem)})
            outcome.errors.append(ItemError(
                f"Claude: {problem}; the pair stays unverified and is not proposed",
                id=q.b.id, name=q.b.name, details={"pairWith": q.a.id, "pairWithName": q.a.name}))
        self.failed += len(pairs)

    def answered(self, pairs: list[Any], verdicts: list[Any], outcome: ChunkOutcome) -> None:
        """Each pair's verdict kept; a live pair judged the same joins its winner."""
        for pair, verdict in zip(pairs, verdicts, strict=True):
            q = pair.question
            self.states.append({"loser": q.b.id, "state": SAME if verdict.same else DIFFERENT,
                                "confidence": verdict.confidence, "reason": verdict.reason})
            self.remember.append({"a": q.a.id, "b": q.b.id, "same": verdict.same,
                                  "confidence": verdict.confidence, "reason": verdict.reason,
                                  "score": q.score})
            if not pair.live:  # merged or deleted meanwhile: nothing to propose
                outcome.skips += 1
                self.gone += 1
            elif verdict.same:
                outcome.success += 1
                self.same += 1
                self.joins.append((q.a.id, q.b.id, q.score, with_verdict(
                    q.evidence, proposals.ClaudeVerdict(verdict.confidence, verdict.reason))))
            else:
                outcome.success += 1
                self.different += 1


def write_verdicts(conn: Connection, job: Job, staged: list[Any], outcome: ChunkOutcome, *,
                   model: str, matching_mode: str) -> None:
    """Apply staged answers (rows of llm.phases.BY_REQUEST): each pair's state and
    verdict; "same" pairs join their winners' clusters; verdicts are remembered; a failed
    or malformed answer is an error of each of its pairs.
    """
    requests = {r.id: r for r in requests_by_number(conn, job.id,
                                                     [row.request_id for row in staged])}
    read = _Answers()
    for row in staged:
        request = requests.get(row.request_id)
        if request is None:  # not a request of this job (cannot happen but by hand)
            outcome.skips += 1
            continue
        try:
            read.answered(request.pairs, read_verdicts(answer_of(row), len(request.pairs)),
                          outcome)
        except AnswerError as exc:
            read.unanswered(request.pairs, exc, outcome)
    if read.states:
        conn.execute(_SAVE_VERDICTS, {"job_id": job.id, "verdicts": json.dumps(read.states)})
    if read.remember:
        conn.execute(_REMEMBER, {"verdicts": json.dumps(read.remember),
                                 "matching": matching_mode, "model": model, "job_id": job.id})
    added_clusters = _join_clusters(conn, job, read.joins)
    so_far = SweepResult.of(job.result)
    assert so_far.verification is not None  # numbered before any request was sent
    outcome.result_patch.update(so_far.model_copy(update={
        "verification": so_far.verification.answered(
            same=read.same, different=read.different, failed=read.failed, gone=read.gone),
        "cluster_count": so_far.cluster_count + added_clusters,
        "duplicate_count": so_far.duplicate_count + len(read.joins),
    }).patch("verification", "cluster_count", "duplicate_count"))


# the open clusters of these winners (a cluster with a member merged or deleted since, e.g.
# merged while Claude was answering, takes no more losers: they get a cluster of their own)
_CLUSTERS_OF_WINNERS = sa.text(
    """
    SELECT c.seq, c.winner_topic_id, c.losers FROM dedup_clusters c
    WHERE c.job_id = :job_id AND c.winner_topic_id = ANY(CAST(:winners AS bigint[]))
      AND NOT EXISTS (SELECT 1 FROM topics t WHERE t.id = ANY(c.members)
                      AND (t.deleted_at IS NOT NULL OR t.merged_into IS NOT NULL))
    ORDER BY c.seq
    """
)

# A sweep's new clusters, as each step appends them (numbered on from the earlier ones)...
_INSERT_CLUSTERS = """
    INSERT INTO dedup_clusters (job_id, seq, winner_topic_id, members, losers, weakest)
    SELECT :job_id, c.seq, c.winner,
           ARRAY(SELECT jsonb_array_elements_text(c.members))::bigint[], c.losers, c.weakest
    FROM jsonb_to_recordset(CAST(:clusters AS jsonb))
        AS c(seq integer, winner bigint, members jsonb, losers jsonb, weakest float8)
"""
RECORD_CLUSTERS = sa.text(_INSERT_CLUSTERS)
# ... and as verified losers extend them (the same seq: losers, members, weakest replaced)
_UPSERT_CLUSTERS = sa.text(_INSERT_CLUSTERS + """
    ON CONFLICT (job_id, seq) DO UPDATE SET members = excluded.members,
        losers = excluded.losers, weakest = excluded.weakest
""")


def _join_clusters(conn: Connection, job: Job,
                   joins: list[tuple[int, int, float, proposals.Evidence]]) -> int:
    """Add verified losers to their winners' open clusters (a new cluster, numbered on, for
    a winner without one); returns how many clusters are new.
    """
    if not joins:
        return 0
    by_winner: dict[int, list[tuple[int, float, proposals.Evidence]]] = defaultdict(list)
    for winner, loser, score, evidence in joins:
        by_winner[winner].append((loser, score, evidence))
    existing = {r.winner_topic_id: r for r in conn.execute(_CLUSTERS_OF_WINNERS, {
        "job_id": job.id, "winners": search.id_array(sorted(by_winner))})}
    next_seq = conn.execute(sa.text(
        "SELECT coalesce(max(seq), 0) + 1 FROM dedup_clusters WHERE job_id = :job_id"),
        {"job_id": job.id}).scalar_one()
    rows, new = [], 0
    for winner, added in by_winner.items():
        row = existing.get(winner)
        losers = list(row.losers) if row is not None else []
        losers += [{"id": loser, "score": round(score, 6), **evidence.to_json()}
                   for loser, score, evidence in added]
        losers.sort(key=lambda m: (-m["score"], m["id"]))
        if row is None:
            seq, new, next_seq = next_seq, new + 1, next_seq + 1
        else:
            seq = row.seq
        rows.append({"seq": seq, "winner": winner,
                     "members": [winner, *(m["id"] for m in losers)], "losers": losers,
                     "weakest": min(m["score"] for m in losers)})
    conn.execute(_UPSERT_CLUSTERS, {"job_id": job.id, "clusters": json.dumps(rows)})
    return new
