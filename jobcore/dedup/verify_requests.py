"""Claude's questions about a sweep's band pairs: the requests sent through Message
Batches, their cost, and the estimate before a sweep.

**Requests.** When the last topic is swept, the band's pairs, highest score first, up to
``maxPairs``, are numbered into requests of ``verify_band.PAIRS_PER_REQUEST`` (the rest are
``skipped``) and go through the Message Batches phases (jobcore.llm.phases; custom_id =
request number). The job's total grows by the pairs sent, so progress runs on through the
verification.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup import embeddings, guards, lexical, matching, proposals, search, verify_band
from jobcore.dedup.verify_prompt import (
    PairQuestion,
    PairTopic,
    request_params,
    verify_profile,
)
from jobcore.llm import cost
from jobcore.llm.answers import Usage
from jobcore.sql_rules import live_topic

PROFILE_SAMPLE = 200  # pairs whose text sizes the cost estimate


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


def cost_estimate(conn: Connection, job_id: str, numbered: verify_band.Numbered) -> cost.Cost:
    """The expected usage and cost of the numbered requests, sized by a sample of them."""
    sample = [p.question for r in requests_after(
        conn, job_id, 0, numbered.requests,
        max(1, PROFILE_SAMPLE // verify_band.PAIRS_PER_REQUEST)) for p in r.pairs]
    return estimate_requests(numbered.pairs, sample)


def estimate_requests(pairs: int, sample: list[PairQuestion]) -> cost.Cost:
    """The cost of asking about ``pairs`` pairs, PAIRS_PER_REQUEST a request (the last one
    fewer), sized by ``sample`` (a typical pair's size without one).
    """
    k = verify_band.PAIRS_PER_REQUEST
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
                                guard_key=guards.guard_key)
    method = search.search_method(conn)
    placed: dict[int, float] = {}
    pending: list[verify_band.BandPair] = []
    remembered = swept = 0
    for start in range(0, len(source_ids), 500):
        if seconds is not None and swept and time.monotonic() - started > seconds:
            break
        ids = source_ids[start:start + 500]
        step = matching.sweep(
            conn, ids, threshold=high, method=method, mode=mode, lexicon=lexicon,
            clustered_before=lambda found: {i: placed[i] for i in found if i in placed},
            judged_different=lambda found: verify_band.judged_different(conn, found), band_from=low)
        for c in step.clusters:
            placed[c.winner] = max(s for _, s in c.losers)
            placed.update(dict(c.losers))
        found = verify_band.split(conn, step.clusters, upper=high)
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
                        math.ceil(sent / verify_band.PAIRS_PER_REQUEST),
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
