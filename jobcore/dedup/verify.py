"""Claude as a second reviewer of a sweep's uncertain pairs (dedup_sweep with verify "claude").

**Three bands.** A verifying sweep first clusters at the threshold exactly as without
verification, then lets those clusters take losers scoring down to the lower band's edge
(``verifyFrom``, default ``thresholds.VERIFY_FROM``: 0.50 hybrid, 0.90 semantic) and forms
new stars of such pairs, with the usual rules (guards, best match, no chaining: the
clustering's band pass). A
loser scoring at least the threshold (the upper edge) is proposed as without verification;
one below it is a pair **in the band**: recorded in
``dedup_verify_pairs`` with its winner, score and evidence, and asked about; scores below
the lower edge are not candidates at all. A pair Claude judged before is not asked again
(``claude_pair_verdicts``): "same" joins its cluster at once ("Claude, in an earlier
sweep: the same"), "different" keeps the two apart below the threshold like an analyst's
"not duplicates" mark, but apart from those marks.

**Requests.** When the last topic is swept, the band's pairs, highest score first, up to
``maxPairs``, are numbered into requests of ``PAIRS_PER_REQUEST`` (the rest are
``skipped``) and go through the Message Batches phases (jobcore.llm.phases; custom_id =
request number). The job's total grows by the pairs sent, so progress runs on through the
verification.

**Results.** A pair Claude calls the same joins its winner's cluster (a new cluster when the
winner had none) with the verdict in its evidence; one it calls different is remembered; a
malformed answer or a failed result (errored, expired, canceled) leaves each of its pairs
unverified, in the job's errors, never merged. Clusters still do not chain: a verified pair
joins only the star of the winner it was scored against, and each topic is in one pair.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup import embeddings, guards, lexical, matching, proposals, search
from jobcore.dedup.sweep_result import SweepResult
from jobcore.dedup.verify_prompt import (
    DEFAULT_PAIRS_PER_REQUEST,
    PairQuestion,
    PairTopic,
    read_verdicts,
    request_params,
    verify_profile,
)
from jobcore.jobs.base import ChunkOutcome, ItemError
from jobcore.jobs.store import Job
from jobcore.llm import cost
from jobcore.llm.answers import AnswerError, Usage, answer_of
from jobcore.sql_rules import live_topic

DEFAULT_MAX_PAIRS = 2_000
PAIRS_PER_REQUEST = DEFAULT_PAIRS_PER_REQUEST
PENDING, SAME, DIFFERENT, FAILED, SKIPPED = "pending", "same", "different", "failed", "skipped"
PROFILE_SAMPLE = 200  # pairs whose text sizes the cost estimate


# ---------------------------------------------------------------------------------------
# the sweep phase: which losers wait for Claude


@dataclass(frozen=True)
class BandPair:
    """A loser in the band, waiting for Claude, with its winner, score and evidence."""

    winner: int
    loser: int
    score: float
    evidence: proposals.Evidence


@dataclass
class Split:
    """A sweep step's clusters split at the threshold: the clusters proposed now (losers at
    or above it, and band losers Claude already called the same) and the band pairs to ask.
    """

    clusters: list[proposals.Cluster]
    pending: list[BandPair]
    remembered: int  # band losers joined on an earlier verdict


_VERDICTS_OF = sa.text(
    """
    SELECT low_topic_id, high_topic_id, same, confidence, reason FROM claude_pair_verdicts
    WHERE (low_topic_id, high_topic_id) IN (
        SELECT * FROM unnest(CAST(:lows AS bigint[]), CAST(:highs AS bigint[])))
    """
)

_DIFFERENT_OF = sa.text(
    """
    SELECT low_topic_id, high_topic_id FROM claude_pair_verdicts
    WHERE NOT same AND low_topic_id = ANY(CAST(:ids AS bigint[]))
    UNION SELECT low_topic_id, high_topic_id FROM claude_pair_verdicts
    WHERE NOT same AND high_topic_id = ANY(CAST(:ids AS bigint[]))
    """
)


def judged_different(conn: Connection, topic_ids: set[int]) -> set[tuple[int, int]]:
    """The pairs holding one of these topics that Claude judged different."""
    return set(conn.execute(_DIFFERENT_OF, {"ids": search.id_array(sorted(topic_ids))}
                            ).tuples())


def _remembered(conn: Connection, pairs: Iterable[tuple[int, int]]
                ) -> dict[tuple[int, int], proposals.ClaudeVerdict | None]:
    """Earlier verdicts on these pairs: a ClaudeVerdict for "same", None for "different"."""
    keys = sorted({proposals.pair_key(a, b) for a, b in pairs})
    if not keys:
        return {}
    rows = conn.execute(_VERDICTS_OF, {"lows": search.id_array(k[0] for k in keys),
                                       "highs": search.id_array(k[1] for k in keys)})
    return {(r.low_topic_id, r.high_topic_id):
            proposals.ClaudeVerdict(r.confidence, r.reason, earlier=True) if r.same else None
            for r in rows}


def split(conn: Connection, clusters: list[proposals.Cluster], *, upper: float) -> Split:
    """Split clusters found down to the lower band's edge at the threshold ``upper``."""
    band = [(c.winner, i) for c in clusters for i, s in c.losers if s < upper]
    earlier = _remembered(conn, band)
    kept, pending, remembered = [], [], 0
    for c in clusters:
        losers, evidence = [], dict(c.evidence)
        for loser, score in c.losers:
            verdict = earlier.get(proposals.pair_key(c.winner, loser), False)
            if score >= upper:
                losers.append((loser, score))
            elif isinstance(verdict, proposals.ClaudeVerdict):
                losers.append((loser, score))
                evidence[loser] = _with_verdict(evidence.get(loser), verdict)
                remembered += 1
            elif verdict is False:  # never asked (a "different" one never gets here)
                pending.append(BandPair(c.winner, loser, score, c.evidence[loser]))
        if losers:
            kept.append(proposals.Cluster(c.winner, tuple(losers),
                                         {i: evidence[i] for i, _ in losers if i in evidence}))
    return Split(kept, pending, remembered)


def _with_verdict(evidence: proposals.Evidence | None,
                  verdict: proposals.ClaudeVerdict) -> proposals.Evidence:
    base = evidence or proposals.Evidence(None, None, (), ())
    return proposals.Evidence(base.semantic, base.lexical, base.shared, base.unshared, verdict)


_RECORD_PENDING = sa.text(
    """
    INSERT INTO dedup_verify_pairs (job_id, loser_topic_id, winner_topic_id, score, evidence)
    SELECT :job_id, p.loser, p.winner, p.score, p.evidence
    FROM jsonb_to_recordset(CAST(:pairs AS jsonb))
        AS p(loser bigint, winner bigint, score float8, evidence jsonb)
    """
)


def record_pending(conn: Connection, job_id: str, pending: list[BandPair]) -> None:
    """Keep a step's band pairs for verification."""
    if pending:
        conn.execute(_RECORD_PENDING, {"job_id": job_id, "pairs": json.dumps([
            {"loser": p.loser, "winner": p.winner, "score": p.score,
             "evidence": p.evidence.to_json()} for p in pending])})


# Topics of :ids already in one of the sweep's band pairs, with the pair's score (a winner:
# its best pair's), for the sweep's "already clustered" read.
IN_BAND_PAIRS = """
    SELECT m.id, m.similarity FROM (
        SELECT loser_topic_id AS id, score AS similarity FROM dedup_verify_pairs
        WHERE job_id = :job_id AND loser_topic_id = ANY(CAST(:ids AS bigint[]))
        UNION ALL
        SELECT winner_topic_id, max(score) FROM dedup_verify_pairs
        WHERE job_id = :job_id AND winner_topic_id = ANY(CAST(:ids AS bigint[]))
        GROUP BY winner_topic_id) AS m
"""


# ---------------------------------------------------------------------------------------
# from the sweep to the requests


_NUMBER_REQUESTS = sa.text(
    """
    WITH ranked AS (
        SELECT loser_topic_id,
               row_number() OVER (ORDER BY score DESC, loser_topic_id) AS n
        FROM dedup_verify_pairs WHERE job_id = :job_id AND state = 'pending'
    )
    UPDATE dedup_verify_pairs p SET
        request_no = CASE WHEN r.n <= :max_pairs THEN (r.n - 1) / :k + 1 END,
        position = CASE WHEN r.n <= :max_pairs THEN (r.n - 1) % :k + 1 END,
        state = CASE WHEN r.n <= :max_pairs THEN 'pending' ELSE 'skipped' END
    FROM ranked r
    WHERE p.job_id = :job_id AND p.loser_topic_id = r.loser_topic_id
    RETURNING p.request_no
    """
)


@dataclass(frozen=True)
class Numbered:
    """The band's pairs put into requests."""

    pairs: int  # to send
    requests: int
    skipped: int  # over maxPairs, not sent


def number_requests(conn: Connection, job_id: str, max_pairs: int) -> Numbered:
    """Number the sweep's band pairs into requests of PAIRS_PER_REQUEST, highest score
    first, up to ``max_pairs``; the rest are skipped.
    """
    numbers = list(conn.execute(_NUMBER_REQUESTS, {
        "job_id": job_id, "max_pairs": max_pairs, "k": PAIRS_PER_REQUEST}).scalars())
    sent = [n for n in numbers if n is not None]
    return Numbered(len(sent), max(sent, default=0), len(numbers) - len(sent))


def _classification(alias: str) -> str:
    """SQL: a topic's classification path as the question shows it."""
    return (f"coalesce(nullif(concat_ws(' > ', {alias}.taxonomy_type, {alias}.parent_category, "
            f"{alias}.subcategory), ''), 'unclassified')")


_QUESTIONS = sa.text(
    """
    SELECT p.request_no, p.position, p.loser_topic_id, p.winner_topic_id, p.score,
           p.evidence,
           w.name AS w_name, w.description AS w_description,
           {classification_w} AS w_class,
           {w_live} AS w_live,
           l.name AS l_name, l.description AS l_description,
           {classification_l} AS l_class,
           {l_live} AS l_live
    FROM dedup_verify_pairs p
    JOIN topics w ON w.id = p.winner_topic_id
    JOIN topics l ON l.id = p.loser_topic_id
    WHERE p.job_id = :job_id AND p.request_no = ANY(CAST(:requests AS integer[]))
    ORDER BY p.request_no, p.position
    """.replace("{classification_w}", _classification("w"))
    .replace("{classification_l}", _classification("l"))
    .replace("{w_live}", live_topic("w")).replace("{l_live}", live_topic("l"))
)


@dataclass(frozen=True)
class AskedPair:
    """A pair of a request as asked, with what the answer's writer needs."""

    question: PairQuestion
    live: bool  # both topics still live


@dataclass(frozen=True)
class VerifyRequest:
    """One request of a sweep's verification: its number and pairs (an item of the
    Message Batches phases).
    """

    id: int
    pairs: tuple[AskedPair, ...]

    @property
    def name(self) -> str:
        return f"request {self.id} ({len(self.pairs)} pairs)"


def requests_by_number(conn: Connection, job_id: str, numbers: list[int]
                       ) -> list[VerifyRequest]:
    """These requests of the sweep with their pairs' questions, by number."""
    grouped: dict[int, list[AskedPair]] = defaultdict(list)
    for r in conn.execute(_QUESTIONS, {"job_id": job_id,
                                       "requests": search.id_array(sorted(numbers))}):
        grouped[r.request_no].append(AskedPair(PairQuestion(
            PairTopic(r.winner_topic_id, r.w_name, r.w_description, r.w_class),
            PairTopic(r.loser_topic_id, r.l_name, r.l_description, r.l_class),
            r.score, proposals.Evidence.from_json(r.evidence)), r.w_live and r.l_live))
    return [VerifyRequest(n, tuple(grouped[n])) for n in sorted(grouped)]


def requests_after(conn: Connection, job_id: str, last: int, up_to: int, n: int
                   ) -> list[VerifyRequest]:
    """Up to ``n`` requests numbered in (last, up_to]."""
    return requests_by_number(conn, job_id, list(range(last + 1, min(up_to, last + n) + 1)))


def request_of(request: VerifyRequest, model: str) -> dict[str, Any]:
    """The Messages API parameters of one request."""
    return request_params([p.question for p in request.pairs], model=model)


def cost_estimate(conn: Connection, job_id: str, numbered: Numbered) -> cost.Cost:
    """The expected usage and cost of the numbered requests, sized by a sample of them."""
    sample = [p.question for r in requests_after(
        conn, job_id, 0, numbered.requests,
        max(1, PROFILE_SAMPLE // PAIRS_PER_REQUEST)) for p in r.pairs]
    return estimate_requests(numbered.pairs, sample)


def estimate_requests(pairs: int, sample: list[PairQuestion]) -> cost.Cost:
    """The cost of asking about ``pairs`` pairs, PAIRS_PER_REQUEST a request (the last one
    fewer), sized by ``sample`` (a typical pair's size without one).
    """
    k = PAIRS_PER_REQUEST
    full, rest = divmod(pairs, k)
    estimate = cost.estimate(full, _profile(sample, k))
    if not rest:
        return estimate
    last = cost.estimate(1, _profile(sample, rest))
    usage = Usage(*(a + b for a, b in zip(estimate.usage.as_tuple(), last.usage.as_tuple(),
                                          strict=True)))
    return cost.Cost(usage, cost.price(usage))


# a typical pair (names of ~30 characters, descriptions of ~100, a two-level class), for an
# estimate without a sample
_TYPICAL = PairQuestion(
    PairTopic(1, "n" * 30, "d" * 100, "Interest > Hobbies & Interests"),
    PairTopic(2, "n" * 30, "d" * 100, "Interest > Hobbies & Interests"), 0.55,
    proposals.Evidence(0.8, 0.5, (), ()))


def _profile(sample: list[PairQuestion], k: int) -> cost.PromptProfile:
    """Requests of ``k`` pairs like the sample's (like _TYPICAL without one)."""
    return verify_profile(sample or [_TYPICAL], k)


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
class _Tally:
    same: int = 0
    different: int = 0
    failed: int = 0
    gone: int = 0  # a topic merged or deleted before the answer came


def write_verdicts(conn: Connection, job: Job, staged: list[Any], outcome: ChunkOutcome, *,
                   model: str, matching_mode: str) -> None:
    """Apply staged answers (rows of llm.phases.BY_REQUEST): each pair's state and
    verdict; "same" pairs join their winners' clusters; verdicts are remembered; a failed
    or malformed answer is an error of each of its pairs.
    """
    requests = {r.id: r for r in requests_by_number(conn, job.id,
                                                     [row.request_id for row in staged])}
    states, remember, joins = [], [], []
    tally = _Tally()
    for row in staged:
        request = requests.get(row.request_id)
        if request is None:  # not a request of this job (cannot happen but by hand)
            outcome.skips += 1
            continue
        pairs = request.pairs
        try:
            verdicts = read_verdicts(answer_of(row), len(pairs))
        except AnswerError as exc:
            for pair in pairs:
                q = pair.question
                states.append({"loser": q.b.id, "state": FAILED, "confidence": None,
                               "reason": str(exc)})
                outcome.errors.append(ItemError(
                    f"Claude: {exc}; the pair stays unverified and is not proposed",
                    id=q.b.id, name=q.b.name,
                    details={"pairWith": q.a.id, "pairWithName": q.a.name}))
            tally.failed += len(pairs)
            continue
        for pair, verdict in zip(pairs, verdicts, strict=True):
            q = pair.question
            state = SAME if verdict.same else DIFFERENT
            states.append({"loser": q.b.id, "state": state, "confidence": verdict.confidence,
                           "reason": verdict.reason})
            remember.append({"a": q.a.id, "b": q.b.id, "same": verdict.same,
                             "confidence": verdict.confidence, "reason": verdict.reason,
                             "score": q.score})
            if not pair.live:  # merged or deleted meanwhile: nothing to propose
                outcome.skips += 1
                tally.gone += 1
                continue
            outcome.success += 1
            if verdict.same:
                tally.same += 1
                joins.append((q.a.id, q.b.id, q.score, _with_verdict(
                    q.evidence, proposals.ClaudeVerdict(verdict.confidence, verdict.reason))))
            else:
                tally.different += 1
    if states:
        conn.execute(_SAVE_VERDICTS, {"job_id": job.id, "verdicts": json.dumps(states)})
    if remember:
        conn.execute(_REMEMBER, {"verdicts": json.dumps(remember), "matching": matching_mode,
                                 "model": model, "job_id": job.id})
    added_clusters = _join_clusters(conn, job, joins)
    so_far = SweepResult.of(job.result)
    assert so_far.verification is not None  # numbered before any request was sent
    outcome.result_patch.update(so_far.model_copy(update={
        "verification": so_far.verification.answered(
            same=tally.same, different=tally.different, failed=tally.failed, gone=tally.gone),
        "cluster_count": so_far.cluster_count + added_clusters,
        "duplicate_count": so_far.duplicate_count + len(joins),
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
        losers += [{"id": loser, "similarity": round(score, 6), **evidence.to_json()}
                   for loser, score, evidence in added]
        losers.sort(key=lambda m: (-m["similarity"], m["id"]))
        if row is None:
            seq, new, next_seq = next_seq, new + 1, next_seq + 1
        else:
            seq = row.seq
        rows.append({"seq": seq, "winner": winner,
                     "members": [winner, *(m["id"] for m in losers)], "losers": losers,
                     "weakest": min(m["similarity"] for m in losers)})
    conn.execute(_UPSERT_CLUSTERS, {"job_id": job.id, "clusters": json.dumps(rows)})
    return new


# ---------------------------------------------------------------------------------------
# before a sweep: how many pairs would be asked about, at what cost


@dataclass(frozen=True)
class BandEstimate:
    """What a verifying sweep would send: the band's pairs (of the topics swept for the
    estimate, scaled to all when the time ran out), those over maxPairs, the cost.
    """

    band: tuple[float, float]
    pairs: int  # in the band, not judged before
    remembered: int  # in the band, judged before (not asked again)
    sent: int  # at most maxPairs
    requests: int
    cost: cost.Cost
    swept: int
    total: int
    unembedded: int = 0  # live topics whose embedding is missing or stale

    @property
    def scaled(self) -> bool:
        return self.swept < self.total

    def sentence(self) -> str:
        low, high = self.band
        share = (f" (scaled from the first {self.swept:,} of {self.total:,} topics)"
                 if self.scaled else "")
        over = (f"; at most {self.sent:,} are sent (Max pairs)" if self.sent < self.pairs
                else "")
        earlier = (f"; {self.remembered:,} {'more ' if self.pairs else ''}were judged by an "
                   "earlier sweep and are not asked again" if self.remembered else "")
        caveat = (f" {self.unembedded:,} topics have no current embedding yet: the sweep "
                  "embeds them first, and the count may grow." if self.unembedded else "")
        if not self.pairs:
            return (f" No pair scores {low:.2f}–{high:.2f}{share}{earlier}: nothing would "
                    f"be sent to Claude.{caveat}")
        dollars = self.cost.dollars
        price = f"${dollars:,.2f}" if dollars >= 1 or not dollars else f"${dollars:.4f}"
        return (f" About {self.pairs:,} pair{'s' if self.pairs != 1 else ''} score "
                f"{low:.2f}–{high:.2f}{share}{over}{earlier}: Claude verifies them in "
                f"{self.requests:,} request{'s' if self.requests != 1 else ''}, estimated "
                f"{price} through Message Batches.{caveat}")


def band_estimate(conn: Connection, source_ids: list[int], *, total: int, mode: str,
                  low: float, high: float, max_pairs: int,
                  seconds: float | None = 20.0) -> BandEstimate:
    """Sweep ``source_ids`` in memory (nothing written) down to ``low`` and count the pairs
    that would go to Claude; with ``seconds``, stop when they run out and scale the count to
    ``total`` topics. The embeddings are used as they are (a sweep first refreshes stale
    ones).
    """
    started = time.monotonic()
    lexicon = lexical.index_for(conn, "verify-estimate", fixed=False,
                                group=guards.guard_group)
    method = search.search_method(conn)
    placed: dict[int, float] = {}
    pending: list[BandPair] = []
    remembered = swept = 0
    for start in range(0, len(source_ids), 500):
        if seconds is not None and swept and time.monotonic() - started > seconds:
            break
        ids = source_ids[start:start + 500]
        step = matching.sweep(
            conn, ids, threshold=high, method=method, mode=mode, lexicon=lexicon,
            clustered_before=lambda found: {i: placed[i] for i in found if i in placed},
            declined=lambda found: judged_different(conn, found), band_from=low)
        for c in step.clusters:
            placed[c.winner] = max(s for _, s in c.losers)
            placed.update(dict(c.losers))
        found = split(conn, step.clusters, upper=high)
        pending += found.pending
        remembered += found.remembered
        swept += len(ids)
    scale = total / swept if swept else 0.0
    pairs = round(len(pending) * scale)
    sent = min(pairs, max_pairs)
    sample_ids = {i for p in pending[:PROFILE_SAMPLE] for i in (p.winner, p.loser)}
    topics = _pair_topics(conn, sample_ids)
    sample = [PairQuestion(topics[p.winner], topics[p.loser], p.score, p.evidence)
              for p in pending[:PROFILE_SAMPLE] if p.winner in topics and p.loser in topics]
    return BandEstimate((low, high), pairs, round(remembered * scale), sent,
                        math.ceil(sent / PAIRS_PER_REQUEST),
                        estimate_requests(sent, sample), swept, total,
                        embeddings.pending_count(conn))


def _pair_topics(conn: Connection, ids: set[int]) -> dict[int, PairTopic]:
    if not ids:
        return {}
    rows = conn.execute(sa.text(
        f"SELECT t.id, t.name, t.description, {_classification('t')} AS classification "
        "FROM topics t WHERE t.id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": search.id_array(sorted(ids))})
    return {r.id: PairTopic(r.id, r.name, r.description, r.classification) for r in rows}
