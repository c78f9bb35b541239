"""A dedup sweep's chunks: embedding upkeep before the search, the sweep of the next topics
(clusters recorded, the result's counts and histogram), and the verification's start and
submission of the band's pairs to Claude.
"""

from __future__ import annotations

import dataclasses
import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore import warmup
from jobcore.dedup import (
    clustering,
    embeddings,
    guards,
    lexical,
    matching,
    proposals,
    search,
    thresholds,
    verify_band,
    verify_requests,
)
from jobcore.dedup import verify as verification
from jobcore.dedup.sweep_config import DedupSweepConfig, sources_where
from jobcore.dedup.sweep_result import (
    Histogram,
    SweepCursor,
    SweepResult,
    Verification,
)
from jobcore.jobs.base import (
    ChunkOutcome,
    take_slice,
)
from jobcore.jobs.store import Job
from jobcore.llm import phases
from jobcore.llm.client import model_of
from jobcore.schema import dedup_clusters, topics

CHUNK_SIZE = 500  # a step's searches and reads are batched: fewer round trips a topic
HISTOGRAM_STARTS = thresholds.REPORTED_FROM
HISTOGRAM_BINS = 40

# Which of :ids earlier chunks of this sweep placed in a cluster (dedup_cluster_members),
# each with its score there (a loser's against its winner; a winner's closest loser's).
_CLUSTERED = sa.text(
    "SELECT topic_id AS id, score FROM dedup_cluster_members "
    "WHERE job_id = :job_id AND topic_id = ANY(CAST(:ids AS bigint[]))")
_RECORD_PLACEMENTS = sa.text(
    """
    INSERT INTO dedup_cluster_members (job_id, topic_id, score)
    SELECT :job_id, (p ->> 'id')::bigint, (p ->> 'score')::float8
    FROM jsonb_array_elements(CAST(:placed AS jsonb)) AS p
    ON CONFLICT (job_id, topic_id) DO UPDATE
        SET score = greatest(dedup_cluster_members.score, excluded.score)
    """
)
# ... and, in a verifying sweep, those in a pair waiting for Claude
_CLUSTERED_OR_IN_BAND = sa.text(
    f"SELECT id, max(score) FROM ({_CLUSTERED.text} UNION ALL "
    f"{verify_band.IN_BAND_PAIRS}) AS placed(id, score) GROUP BY id")



def clusters_of(conn: Connection, job_id: str) -> list[proposals.Cluster]:
    """The clusters a sweep proposed, in the order found."""
    rows = conn.execute(sa.select(dedup_clusters.c.winner_topic_id, dedup_clusters.c.losers)
                        .where(dedup_clusters.c.job_id == job_id)
                        .order_by(dedup_clusters.c.seq)).all()  # one fetch, not per row
    return [proposals.Cluster.from_json({"winner": w, "losers": losers}) for w, losers in rows]


def refresh_embeddings(conn: Connection, job: Job, cursor: SweepCursor,
                       deadline: float) -> ChunkOutcome | None:
    """A chunk of embedding upkeep before the search, or None when none is due: stale or
    missing embeddings anywhere are refreshed first, in chunks of their own (the search
    runs from the next chunk on, when they are committed; it also reads on a second
    connection). Many of them (a catalogue reclassified since it was embedded): the vector
    index goes first, in a short chunk (the drop locks the vectors until it commits), and is
    built once after them, in a chunk of its own.
    """
    provider = embeddings.get_provider()
    pending = embeddings.pending_count(conn)
    if pending:
        index = embeddings.has_vector_index(conn)
        if index and embeddings.rebuild_worthwhile(conn, pending):
            embeddings.drop_vector_index(conn)
            return ChunkOutcome(cursor=cursor, done=False)
        refreshed = embeddings.refresh_pending(
            conn, provider, deadline=deadline,
            batch_size=embeddings.BATCH_SIZE if index else embeddings.BULK_BATCH)
        so_far = SweepResult.of(job.result)
        return ChunkOutcome(cursor=cursor, done=False, result_patch=so_far.model_copy(
            update={"embeddings_refreshed": so_far.embeddings_refreshed + refreshed,
                    "embeddings_pending": embeddings.pending_count(conn)}
        ).patch("embeddings_refreshed", "embeddings_pending"))
    if not embeddings.has_vector_index(conn):
        # built in a chunk of its own, on its own connection (no chunk statement timeout),
        # its time kept out of the sweep's rate
        with warmup.one_time_load(embeddings.INDEX_BUILD):
            embeddings.ensure_vector_index(conn.engine)
        return ChunkOutcome(cursor=cursor, done=False)
    return None


def sweep_topics(conn: Connection, job: Job, config: DedupSweepConfig, cursor: SweepCursor,
                 deadline: float) -> ChunkOutcome:
    """A chunk of the sweep: the next topics, swept together in one step."""
    chunk = take_slice(lambda n: list(conn.execute(
        sa.select(topics.c.id)
        .where(sources_where(config), topics.c.id > cursor.last_id,
               topics.c.id <= cursor.max_id)
        .order_by(topics.c.id).limit(n)).scalars()),
        size=CHUNK_SIZE, deadline=deadline, limit=job.total_items,
        processed=job.processed_items)
    ids = list(chunk.within_budget())  # the step below sweeps them together
    outcome = ChunkOutcome(cursor=cursor, done=False)
    if ids:
        embeddings.refresh_batch(conn, embeddings.get_provider(), topic_ids=ids,
                                 batch_size=len(ids))
        clustered = _CLUSTERED_OR_IN_BAND if config.verifying else _CLUSTERED
        step = matching.sweep(
            conn, ids, threshold=config.score_threshold, method=cursor.method,
            mode=config.matching, lexicon=lexical.index_for(
                conn, job.id, fixed=True, guard_key=guards.guard_key),
            clustered_before=lambda found: dict(conn.execute(clustered, {
                "job_id": job.id, "ids": search.id_array(sorted(found))}).tuples().all()),
            judged_different=(lambda found: verify_band.judged_different(conn, found))
            if config.verifying else lambda found: set(),
            band_from=config.band_from if config.verifying else None)
        clusters, remembered = step.clusters, 0
        if config.verifying:
            found = verify_band.split(conn, step.clusters, upper=config.score_threshold)
            verify_band.record_pending(conn, job.id, found.pending)
            clusters, remembered = found.clusters, found.remembered
        outcome.skips = len(step.already_clustered)
        outcome.success = len(ids) - outcome.skips
        cursor.last_id = ids[-1]
        _record_clusters(conn, job, clusters)
        summary = _summary(SweepResult.of(job.result), step, clusters, config,
                           cursor.method)
        if config.verifying:
            verified = _verification(summary, config)
            summary.verification = verified.model_copy(
                update={"remembered": verified.remembered + remembered})
        outcome.result_patch = summary.patch(*_SUMMARY_FIELDS, *(
            ("verification",) if config.verifying else ()))
    outcome.done = chunk.done(outcome.processed)
    if outcome.done and config.verifying:
        _start_verification(conn, job, config, outcome)
    return outcome


def _verification(previous: SweepResult, config: DedupSweepConfig) -> Verification:
    """The verification's figures so far, with its band."""
    band = (config.band_from, config.score_threshold)
    if previous.verification is None:
        return Verification(band=band, max_pairs=config.max_pairs)
    return previous.verification.model_copy(update={"band": band,
                                                    "max_pairs": config.max_pairs})


def _start_verification(conn: Connection, job: Job, config: DedupSweepConfig,
                        outcome: ChunkOutcome) -> None:
    """After the last swept topic: number the band's pairs into requests (the job's total
    grows by the pairs sent) and go on to submit them; done when there are none.
    """
    numbered = verify_band.number_requests(conn, job.id, config.max_pairs)
    estimate = verify_requests.cost_estimate(conn, job.id, numbered)
    so_far = SweepResult.of({**job.result, **outcome.result_patch})
    so_far.verification = _verification(so_far, config).model_copy(update={
        "pairs": numbered.pairs, "requests": numbered.requests, "skipped": numbered.skipped,
        "model": model_of(config)})
    so_far.cost_estimate = {"usage": estimate.usage.as_dict(),
                            "dollars": round(estimate.dollars, 4)}
    so_far.phase = "submit" if numbered.requests else "done"
    outcome.result_patch.update(so_far.patch("verification", "cost_estimate", "phase"))
    if numbered.requests:
        outcome.cursor = SweepCursor(phase="submit", max_id=numbered.requests)
        outcome.added_items = numbered.pairs
        outcome.done = False


def submit_pairs(conn: Connection, job: Job, config: DedupSweepConfig,
                  cursor: SweepCursor, deadline: float) -> ChunkOutcome:
    """Phase 1 of the verification (see llm.phases.submit_step): requests by number."""
    model = model_of(config)
    return phases.submit_step(conn, job, cursor, phases.SubmitSource(
        eligible_after=lambda last, up_to, n: verify_requests.requests_after(
            conn, job.id, last, up_to, n),
        request=lambda request: verify_requests.request_of(request, model),
        concurrency=config.concurrency,
        by_id=lambda conn, numbers: verify_requests.requests_by_number(conn, job.id, numbers),
        refuse=lambda conn, flags: None, limit=cursor.max_id), deadline)


def with_clusters(conn: Connection, job: Job) -> Job:
    result = {**job.result, "clusters": [c.to_json() for c in clusters_of(conn, job.id)]}
    return dataclasses.replace(job, result=result)


def _record_clusters(conn: Connection, job: Job, clusters: list[proposals.Cluster]) -> None:
    """Append a step's clusters to the sweep's, numbered on from the earlier chunks'."""
    if not clusters:
        return
    first = SweepResult.of(job.result).cluster_count + 1
    conn.execute(verification.RECORD_CLUSTERS, {"job_id": job.id, "clusters": json.dumps([
        {"seq": first + i, "winner": c.winner, "members": list(c.members),
         "losers": c.to_json()["losers"], "weakest": c.weakest}
        for i, c in enumerate(clusters)])})
    placed: dict[int, float] = {}  # one row per topic (a statement may not touch one twice)
    for c in clusters:
        for topic_id, score in ((c.winner, max(s for _, s in c.losers)), *c.losers):
            placed[topic_id] = max(score, placed.get(topic_id, score))
    conn.execute(_RECORD_PLACEMENTS, {"job_id": job.id, "placed": json.dumps([
        {"id": topic_id, "score": score} for topic_id, score in placed.items()])})


# what a sweep step's summary sets (the verification too, when Claude verifies)
_SUMMARY_FIELDS = ("threshold", "matching", "search", "cluster_count", "duplicate_count",
                   "histogram")


def _summary(previous: SweepResult, step: clustering.SweepStep,
             clusters: list[proposals.Cluster], config: DedupSweepConfig,
             method: str) -> SweepResult:
    """The result after a sweep step: counts, and its topics' closest scores binned."""
    start = HISTOGRAM_STARTS[config.matching]
    histogram = previous.histogram or Histogram(
        start=start, step=round((1 - start) / HISTOGRAM_BINS, 6),
        counts=[0] * HISTOGRAM_BINS)
    counts, below = list(histogram.counts), histogram.below
    for score in step.best_score.values():
        index = int((score - histogram.start) / histogram.step + 1e-9)
        if index < 0:
            below += 1
        else:
            counts[min(index, HISTOGRAM_BINS - 1)] += 1
    return previous.model_copy(update={
        "threshold": config.score_threshold,
        "matching": config.matching,
        # hybrid candidates come from the lexical index, semantic ones from the vectors'
        "search": "lexical" if config.matching == thresholds.HYBRID else method,
        "cluster_count": previous.cluster_count + len(clusters),
        "duplicate_count": previous.duplicate_count + sum(len(c.losers) for c in clusters),
        "histogram": histogram.model_copy(update={"counts": counts, "below": below}),
    })
