"""Claude as a second reviewer of a sweep's uncertain pairs (dedup_sweep with verify "claude"): the
pairs in the band, while the sweep runs, and their numbering into requests.

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
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup import proposals, search
from jobcore.dedup.verify_prompt import (
    DEFAULT_PAIRS_PER_REQUEST,
)

DEFAULT_MAX_PAIRS = 2_000
PAIRS_PER_REQUEST = DEFAULT_PAIRS_PER_REQUEST
PENDING, SAME, DIFFERENT, FAILED, SKIPPED = "pending", "same", "different", "failed", "skipped"


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
                evidence[loser] = with_verdict(evidence.get(loser), verdict)
                remembered += 1
            elif verdict is False:  # never asked (a "different" one never gets here)
                pending.append(BandPair(c.winner, loser, score, c.evidence[loser]))
        if losers:
            kept.append(proposals.Cluster(c.winner, tuple(losers),
                                         {i: evidence[i] for i, _ in losers if i in evidence}))
    return Split(kept, pending, remembered)


def with_verdict(evidence: proposals.Evidence | None,
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
    SELECT m.id, m.score FROM (
        SELECT loser_topic_id AS id, score FROM dedup_verify_pairs
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
