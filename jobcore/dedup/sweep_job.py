"""dedup_sweep: propose clusters of near-duplicate topics, 500 swept topics a chunk.

The swept topics are those a reclassify job changed (``sourceBatchId``: changed
embeddings can create new near-duplicates) or the whole live catalogue, optionally one
parent category; their neighbours come from anywhere in the live catalogue. Embeddings
stale or missing anywhere in the catalogue (writes mark them) are refreshed first, in
chunks of their own, so that the search sees current text. Clusters, their winners and the
candidates and scores (hybrid or semantic) follow jobcore.dedup.matching's rules; they
accumulate in the ``dedup_clusters`` table (one INSERT per chunk; a job read through the
runner shows them as ``result.clusters``: ``{winner, losers: [{id, similarity, semantic,
lexical, shared, unshared}]}``, ``similarity`` being the pair's score), and a histogram of
each swept topic's best score shows what another threshold would give. The sweep writes
nothing but embeddings.

With ``verify: "claude"`` the sweep clusters at the threshold as always, then takes pairs
down to ``verifyFrom`` too, and sends those scoring below the threshold to Claude through
Message Batches once every topic is swept (phases submit, poll; see jobcore.dedup.verify);
those Claude calls the same join the clusters.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection

from jobcore import warmup
from jobcore.catalog.topic_store import LIVE
from jobcore.classify.taxonomy import with_canonical_parent_category
from jobcore.config import get_settings
from jobcore.dedup import (
    clustering,
    embeddings,
    encoders,
    guards,
    lexical,
    matching,
    proposals,
    search,
    thresholds,
)
from jobcore.dedup import verify as verification
from jobcore.dedup.follow_ups import REVIEW_CLUSTERS, SOURCE_BATCH, SWEEP_CHANGED_TOPICS
from jobcore.dedup.sweep_result import (
    Histogram,
    SweepResult,
    Verification,
    verification_caption,
)
from jobcore.errors import ConfigError
from jobcore.jobs import store
from jobcore.jobs.base import (
    JOB_ID_PATTERN,
    ChunkOutcome,
    JobConfig,
    JobHandler,
    JobPlan,
    shown_when,
    take_slice,
)
from jobcore.jobs.follow_ups import DetailLink, DetailPanel
from jobcore.jobs.registry import register
from jobcore.jobs.store import Job, JobSummary
from jobcore.llm import phases
from jobcore.llm.client import model_of
from jobcore.schema import admin_jobs, dedup_clusters, topic_history, topics
from jobcore.sql_rules import POLL_PHASE

CHUNK_SIZE = 500  # a step's searches and reads are batched: fewer round trips a topic
HISTOGRAM_STARTS = thresholds.REPORTED_FROM
HISTOGRAM_BINS = 40


_VERIFYING = shown_when(verify=["claude"])


_WEIGHT = thresholds.SEMANTIC_WEIGHT
_DEFAULTS = thresholds.DEFAULT_THRESHOLDS
_LOWEST = min(thresholds.REPORTED_FROM.values())  # a sweep reports (and can cluster) from here


class DedupSweepConfig(JobConfig):
    source_batch_id: str | None = Field(
        default=None, pattern=JOB_ID_PATTERN,
        description="Only the topics this reclassify job changed (else the whole catalogue).")
    parent_category_filter: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="Only topics currently in this parent category.",
        json_schema_extra={"choicesFrom": "parentCategories"})
    matching: Literal["hybrid", "semantic"] = Field(
        default=thresholds.DEFAULT_MATCHING,
        description=f"hybrid: embeddings and names (candidates from both, score "
                    f"{_WEIGHT:.2f} x cosine + {1 - _WEIGHT:.2f} x name similarity); "
                    "semantic: the embeddings' cosine alone.")
    threshold: float | None = Field(
        default=None, ge=_LOWEST, le=1.0,
        description=f"Score at which two topics are near-duplicates (default "
                    f"{_DEFAULTS[thresholds.HYBRID]:.2f} for hybrid, "
                    f"{_DEFAULTS[thresholds.SEMANTIC]:.2f} for semantic matching).")
    limit: int | None = Field(default=None, ge=1, le=10_000_000,
                              description="At most this many topics swept.")
    verify: Literal["off", "claude"] = Field(
        default="off",
        description="claude: pairs scoring between Verify from and the threshold are sent to "
                    "Claude (Message Batches, paid); those it judges the same join clusters "
                    "with its reason.")
    verify_from: float | None = Field(
        default=None, ge=_LOWEST, le=1.0,
        description=f"Lower edge of the band Claude verifies (default "
                    f"{thresholds.VERIFY_FROM[thresholds.HYBRID]:.2f} for hybrid, "
                    f"{thresholds.VERIFY_FROM[thresholds.SEMANTIC]:.2f} for semantic "
                    "matching); pairs below it are dropped.",
        json_schema_extra=_VERIFYING)
    max_pairs: int = Field(default=verification.DEFAULT_MAX_PAIRS, ge=1, le=100_000,
                           description="At most this many pairs sent to Claude, the highest "
                                       "scores first.", json_schema_extra=_VERIFYING)
    model: str | None = Field(default=None, min_length=1, max_length=100,
                              pattern=r"^claude-[a-z0-9.-]+$",
                              description="The Claude model, such as claude-sonnet-4-5 "
                                          "(default: the CLASSIFICATION_MODEL setting).",
                              json_schema_extra=_VERIFYING)
    concurrency: int = Field(default=4, ge=1, le=16,
                             description="Message batches of 100 requests submitted at the "
                                         "same time.", json_schema_extra=_VERIFYING)

    @property
    def score_threshold(self) -> float:
        """The threshold given, else the matching's default."""
        if self.threshold is not None:
            return self.threshold
        return thresholds.DEFAULT_THRESHOLDS[self.matching]

    @property
    def verifying(self) -> bool:
        return self.verify == "claude"

    @property
    def band_from(self) -> float:
        """The lowest score a pair is considered at: the band's lower edge when verifying,
        else the threshold.
        """
        if not self.verifying:
            return self.score_threshold
        if self.verify_from is not None:
            return self.verify_from
        return min(thresholds.VERIFY_FROM[self.matching], self.score_threshold)


def _sources_where(config: DedupSweepConfig) -> sa.ColumnElement[bool]:
    conditions: list[sa.ColumnElement[bool]] = [LIVE]
    if config.source_batch_id is not None:
        conditions.append(topics.c.id.in_(
            sa.select(topic_history.c.topic_id)
            .where(topic_history.c.batch_id == config.source_batch_id)))
    if config.parent_category_filter is not None:
        conditions.append(topics.c.parent_category == config.parent_category_filter)
    return sa.and_(*conditions)


# Which of :ids earlier chunks of this sweep placed in a cluster (dedup_cluster_members),
# each with its similarity there (a loser's to its winner; a winner's closest loser's).
_CLUSTERED = sa.text(
    "SELECT topic_id AS id, similarity FROM dedup_cluster_members "
    "WHERE job_id = :job_id AND topic_id = ANY(CAST(:ids AS bigint[]))")
_RECORD_PLACEMENTS = sa.text(
    """
    INSERT INTO dedup_cluster_members (job_id, topic_id, similarity)
    SELECT :job_id, (p ->> 'id')::bigint, (p ->> 'similarity')::float8
    FROM jsonb_array_elements(CAST(:placed AS jsonb)) AS p
    ON CONFLICT (job_id, topic_id) DO UPDATE
        SET similarity = greatest(dedup_cluster_members.similarity, excluded.similarity)
    """
)
# ... and, in a verifying sweep, those in a pair waiting for Claude
_CLUSTERED_OR_IN_BAND = sa.text(
    f"SELECT id, max(similarity) FROM ({_CLUSTERED.text} UNION ALL "
    f"{verification.IN_BAND_PAIRS}) AS placed(id, similarity) GROUP BY id")



def clusters_of(conn: Connection, job_id: str) -> list[proposals.Cluster]:
    """The clusters a sweep proposed, in the order found."""
    rows = conn.execute(sa.select(dedup_clusters.c.winner_topic_id, dedup_clusters.c.losers)
                        .where(dedup_clusters.c.job_id == job_id)
                        .order_by(dedup_clusters.c.seq)).all()  # one fetch, not per row
    return [proposals.Cluster.from_json({"winner": w, "losers": losers}) for w, losers in rows]


def _check_source(conn: Connection, source_id: str) -> None:
    """A sweep of the topics a job changed: that job offers it (SweepChangedTopics), or
    retention removed it (its topics' history still names it).
    """
    kept = conn.execute(sa.select(admin_jobs.c.job_type).where(
        admin_jobs.c.id == source_id)).first()
    source = kept or store.pruned_job(conn, source_id)
    if source is None or source.job_type != "reclassify":
        raise ConfigError(f"Invalid config for dedup_sweep: sourceBatchId: {source_id} is "
                          "not a reclassify job", field="sourceBatchId")
    if kept is not None:
        SWEEP_CHANGED_TOPICS.check(conn, source_id)


@register
class DedupSweepHandler(JobHandler[DedupSweepConfig]):
    job_type = "dedup_sweep"
    label = "Dedup sweep"
    description = "Propose clusters of near-duplicate topics for review and merge."
    config_model = DedupSweepConfig
    relations = (SOURCE_BATCH,)
    follow_ups = (REVIEW_CLUSTERS,)
    cost_estimated_late = True  # once it has found the pairs it sends

    def batches_caption(self, job: Job, submitted: int) -> str:
        return verification_caption(SweepResult.of(job.result).verification, submitted,
                                    finished=job.is_finished)

    def detail_panels(self, conn: Connection, job: JobSummary) -> list[DetailPanel]:
        found = SweepResult.of(store.get_job(conn, job.id, with_errors=False).result)
        waiting = found.verification.waiting if found.verification else 0
        label = (f"Review its {found.cluster_count:,} clusters "
                 f"({found.duplicate_count:,} duplicates proposed"
                 + (f"; {waiting:,} pairs waiting for Claude" if waiting > 0 else "") + ")")
        return [DetailLink(label, "dedup", {"job": job.id}, icon=":material/join:")]
    llm_batches = True  # with verify "claude"

    def uses_llm_batches(self, config: dict[str, Any]) -> bool:
        return config.get("verify", "off") == "claude"

    def normalize_config(self, config: DedupSweepConfig) -> DedupSweepConfig:
        if not config.verifying:
            # (a stored config holds every field, defaults included: only other values count)
            given = [name for name in ("verify_from", "max_pairs", "model", "concurrency")
                     if getattr(config, name) != DedupSweepConfig.model_fields[name].default]
            if given:
                field = DedupSweepConfig.model_fields[given[0]].alias or given[0]
                raise ConfigError(f"Invalid config for dedup_sweep: {field}: only with verify "
                                  "'claude'", field=field)
        if config.verifying:
            if config.verify_from is None and config.band_from >= config.score_threshold:
                raise ConfigError(
                    f"Invalid config for dedup_sweep: threshold: a sweep Claude verifies needs "
                    f"a threshold above {config.band_from:.2f}, the lowest score it can send "
                    "to Claude", field="threshold")
            if config.band_from >= config.score_threshold:
                raise ConfigError(
                    f"Invalid config for dedup_sweep: verifyFrom: the band's lower edge "
                    f"({config.band_from:.3f}) must be below the threshold "
                    f"({config.score_threshold:.3f})", field="verifyFrom")
            if not get_settings().anthropic_api_key:
                raise ConfigError(
                    "Invalid config for dedup_sweep: verify: 'claude' needs an Anthropic API "
                    "key: set ANTHROPIC_API_KEY in the environment (or .env) and restart; or "
                    "verify 'off'", field="verify")
        return with_canonical_parent_category(self.job_type, config)

    def plan(self, conn: Connection, config: DedupSweepConfig, *,
             org_id: int | None) -> JobPlan:
        if config.source_batch_id is not None:
            _check_source(conn, config.source_batch_id)
        # embeddings of another encoder are refreshed with the stale ones, before the search
        embeddings.mark_other_encoders_stale(conn, embeddings.get_provider().model_name)
        count, max_id = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(topics.c.id), 0))
            .where(_sources_where(config))).one()
        total = min(count, config.limit) if config.limit else count
        cursor = {"lastId": 0, "maxId": max_id, "method": search.search_method(conn)}
        if config.verifying:
            cursor["phase"] = "sweep"
        return JobPlan(total_items=total, cursor=cursor)

    def process(self, conn: Connection, job: Job, config: DedupSweepConfig,
                deadline: float) -> ChunkOutcome:
        cursor = dict(job.cursor)
        phase = cursor.get("phase", "sweep")
        if phase == "submit":
            return _submit_pairs(conn, job, config, cursor, deadline)
        if phase == POLL_PHASE:
            phases.poll_and_stage(conn, job)
            return phases.post_process(
                conn, job, cursor, lambda staged, outcome: verification.write_verdicts(
                    conn, job, staged, outcome, model=model_of(config),
                    matching_mode=config.matching), take=phases.BY_REQUEST)
        provider = embeddings.get_provider()
        pending = embeddings.pending_count(conn)
        if pending:
            # Stale or missing embeddings are refreshed first, in chunks of their own: the
            # search runs from the next chunk on, when they are committed (it also reads
            # on a second connection). Many of them (a catalogue reclassified since it was
            # embedded): the vector index goes first, in a short chunk (the drop locks the
            # vectors until it commits), and is built once after them.
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
        chunk = take_slice(lambda n: list(conn.execute(
            sa.select(topics.c.id)
            .where(_sources_where(config), topics.c.id > cursor["lastId"],
                   topics.c.id <= cursor["maxId"])
            .order_by(topics.c.id).limit(n)).scalars()),
            size=CHUNK_SIZE, deadline=deadline, limit=job.total_items,
            processed=job.processed_items)
        ids = list(chunk.within_budget())  # the step below sweeps them together
        outcome = ChunkOutcome(cursor=cursor, done=False)
        if ids:
            embeddings.refresh_batch(conn, provider, topic_ids=ids, batch_size=len(ids))
            clustered = _CLUSTERED_OR_IN_BAND if config.verifying else _CLUSTERED
            step = matching.sweep(
                conn, ids, threshold=config.score_threshold, method=cursor["method"],
                mode=config.matching, lexicon=lexical.index_for(
                    conn, job.id, fixed=True, group=guards.guard_group),
                clustered_before=lambda found: dict(conn.execute(clustered, {
                    "job_id": job.id, "ids": search.id_array(sorted(found))}).tuples().all()),
                declined=(lambda found: verification.judged_different(conn, found))
                if config.verifying else lambda found: set(),
                band_from=config.band_from if config.verifying else None)
            clusters, remembered = step.clusters, 0
            if config.verifying:
                found = verification.split(conn, step.clusters, upper=config.score_threshold)
                verification.record_pending(conn, job.id, found.pending)
                clusters, remembered = found.clusters, found.remembered
            outcome.skips = len(step.already_clustered)
            outcome.success = len(ids) - outcome.skips
            cursor["lastId"] = ids[-1]
            _record_clusters(conn, job, clusters)
            summary = _summary(SweepResult.of(job.result), step, clusters, config,
                               cursor["method"])
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

    def with_full_result(self, conn: Connection, job: Job) -> Job:
        """``result.clusters``: the clusters found so far, from their table."""
        return _with_clusters(conn, job)

    def loads_first(self, job_id: str, config: dict[str, Any]) -> list[str]:
        local_model = not isinstance(embeddings.get_provider(), encoders.HostedEmbeddings)
        pending = ([encoders.MODEL_LOAD]
                   if local_model and not warmup.is_loaded(encoders.MODEL_LOAD) else [])
        hybrid = config.get("matching", thresholds.DEFAULT_MATCHING) == thresholds.HYBRID
        if hybrid and not lexical.is_cached(job_id, guards.guard_group):
            pending.append(lexical.INDEX_LOAD)
        return pending

    def on_cancel(self, conn: Connection, job: Job) -> None:
        if self.uses_llm_batches(job.config):
            phases.cancel_batches(conn, job)

    def cost_preview(self, conn: Connection, config: DedupSweepConfig,
                     total: int) -> str | None:
        if not config.verifying:
            return ""
        stmt = sa.select(topics.c.id).where(_sources_where(config)).order_by(topics.c.id)
        if config.limit:
            stmt = stmt.limit(config.limit)
        estimate = verification.band_estimate(
            conn, list(conn.execute(stmt).scalars()), total=total, mode=config.matching,
            low=config.band_from, high=config.score_threshold, max_pairs=config.max_pairs)
        return estimate.sentence()


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
    numbered = verification.number_requests(conn, job.id, config.max_pairs)
    estimate = verification.cost_estimate(conn, job.id, numbered)
    so_far = SweepResult.of({**job.result, **outcome.result_patch})
    so_far.verification = _verification(so_far, config).model_copy(update={
        "pairs": numbered.pairs, "requests": numbered.requests, "skipped": numbered.skipped,
        "model": model_of(config)})
    outcome.result_patch.update(so_far.patch("verification"))
    outcome.result_patch["costEstimate"] = {"usage": estimate.usage.as_dict(),
                                            "dollars": round(estimate.dollars, 4)}
    if numbered.requests:
        outcome.cursor.update(phase="submit", lastId=0, maxId=numbered.requests, submitted=0)
        outcome.added_items = numbered.pairs
        outcome.result_patch["phase"] = "submit"
        outcome.done = False
    else:
        outcome.result_patch["phase"] = "done"


def _submit_pairs(conn: Connection, job: Job, config: DedupSweepConfig,
                  cursor: dict[str, Any], deadline: float) -> ChunkOutcome:
    """Phase 1 of the verification (see llm.phases.submit_step): requests by number."""
    model = model_of(config)
    return phases.submit_step(conn, job, cursor, phases.SubmitSource(
        eligible_after=lambda last, up_to, n: verification.requests_after(
            conn, job.id, last, up_to, n),
        request=lambda request: verification.request_of(request, model),
        concurrency=config.concurrency,
        by_id=lambda conn, numbers: verification.requests_by_number(conn, job.id, numbers),
        refuse=lambda conn, flags: None, limit=cursor["maxId"]), deadline)


def _with_clusters(conn: Connection, job: Job) -> Job:
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
        for topic_id, similarity in ((c.winner, max(s for _, s in c.losers)), *c.losers):
            placed[topic_id] = max(similarity, placed.get(topic_id, similarity))
    conn.execute(_RECORD_PLACEMENTS, {"job_id": job.id, "placed": json.dumps([
        {"id": topic_id, "similarity": similarity} for topic_id, similarity in placed.items()])})


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
    for similarity in step.best_similarity.values():
        index = int((similarity - histogram.start) / histogram.step + 1e-9)
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
