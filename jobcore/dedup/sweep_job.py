"""dedup_sweep: propose clusters of near-duplicate topics, 500 swept topics a chunk.

The swept topics are those a reclassify job changed (``sourceBatchId``: changed
embeddings can create new near-duplicates) or the whole live catalogue, optionally one
parent category; their neighbours come from anywhere in the live catalogue. Embeddings
stale or missing anywhere in the catalogue (writes mark them) are refreshed first, in
chunks of their own, so that the search sees current text. Clusters, their winners and the
candidates and scores (hybrid or semantic) follow jobcore.dedup.matching's rules; they
accumulate in the ``dedup_clusters`` table (one INSERT per chunk; a job read through the
runner shows them as ``result.clusters``: ``{winner, losers: [{id, score, semantic,
lexical, shared, unshared}]}``, ``score`` being the pair's hybrid score), and a histogram of
each swept topic's best score shows what another threshold would give. The sweep writes
nothing but embeddings.

With ``verify: "claude"`` the sweep clusters at the threshold as always, then takes pairs
down to ``verifyFrom`` too, and sends those scoring below the threshold to Claude through
Message Batches once every topic is swept (phases submit, poll; see jobcore.dedup.verify);
those Claude calls the same join the clusters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore import warmup
from jobcore.classify.taxonomy import with_canonical_parent_category
from jobcore.config import get_settings
from jobcore.dedup import (
    embeddings,
    encoders,
    guards,
    lexical,
    search,
    thresholds,
    verify_requests,
)
from jobcore.dedup import sweep_steps as steps
from jobcore.dedup import verify as verification
from jobcore.dedup.follow_ups import REVIEW_CLUSTERS, SOURCE_BATCH, SWEEP_CHANGED_TOPICS
from jobcore.dedup.sweep_config import DedupSweepConfig, sources_where
from jobcore.dedup.sweep_result import (
    SweepCursor,
    SweepResult,
    verification_caption,
)
from jobcore.errors import ConfigError
from jobcore.jobs import store
from jobcore.jobs.base import (
    ChunkOutcome,
    JobHandler,
    JobPlan,
)
from jobcore.jobs.follow_ups import DetailLink
from jobcore.jobs.registry import register
from jobcore.jobs.store import Job, JobSummary
from jobcore.llm import phases
from jobcore.llm.client import model_of
from jobcore.schema import admin_jobs, topics
from jobcore.sql_rules import POLL_PHASE


def _check_source(conn: Connection, source_id: str) -> None:
    """A sweep of the topics a job changed: that job offers it (SweepChangedTopics), or
    retention removed it (its topics' history still names it).
    """
    kept = conn.execute(sa.select(admin_jobs.c.job_type).where(
        admin_jobs.c.id == source_id)).first()
    source = kept or store.pruned_job(conn, source_id)
    if source is None:
        raise ConfigError(f"Invalid config for dedup_sweep: sourceBatchId: there is no job "
                          f"{source_id}", field="sourceBatchId")
    if source.job_type != "reclassify":
        raise ConfigError(f"Invalid config for dedup_sweep: sourceBatchId: {source_id} is a "
                          f"{source.job_type} job, not a reclassify job", field="sourceBatchId")
    if kept is not None:
        SWEEP_CHANGED_TOPICS.check(conn, source_id)


@register
class DedupSweepHandler(JobHandler[DedupSweepConfig]):
    job_type = "dedup_sweep"
    label = "Dedup sweep"
    description = "Propose clusters of near-duplicate topics for review and merge."
    config_model = DedupSweepConfig
    result_model = SweepResult
    relations = (SOURCE_BATCH,)
    follow_ups = (REVIEW_CLUSTERS,)
    cost_estimated_late = True  # once it has found the pairs it sends

    def batches_caption(self, job: Job, submitted: int) -> str:
        return verification_caption(SweepResult.of(job.result).verification, submitted,
                                    finished=job.is_finished)

    def detail_links(self, conn: Connection, job: JobSummary) -> list[DetailLink]:
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
            .where(sources_where(config))).one()
        total = min(count, config.limit) if config.limit else count
        return JobPlan(total_items=total, cursor=SweepCursor(
            max_id=max_id, method=search.search_method(conn)))

    def process(self, conn: Connection, job: Job, config: DedupSweepConfig,
                deadline: float) -> ChunkOutcome:
        cursor = SweepCursor.of(job.cursor)
        if cursor.submitting:
            return steps.submit_pairs(conn, job, config, cursor, deadline)
        if cursor.phase == POLL_PHASE:
            phases.poll_and_stage(conn, job)
            return phases.post_process(
                conn, job, cursor, lambda staged, outcome: verification.write_verdicts(
                    conn, job, staged, outcome, model=model_of(config),
                    matching_mode=config.matching), take=phases.BY_REQUEST)
        refreshing = steps.refresh_embeddings(conn, job, cursor, deadline)
        if refreshing is not None:
            return refreshing
        return steps.sweep_topics(conn, job, config, cursor, deadline)

    def with_full_result(self, conn: Connection, job: Job) -> Job:
        """``result.clusters``: the clusters found so far, from their table."""
        return steps.with_clusters(conn, job)

    def loads_first(self, job_id: str, config: dict[str, Any]) -> list[str]:
        local_model = not isinstance(embeddings.get_provider(), encoders.HostedEmbeddings)
        pending = ([encoders.MODEL_LOAD]
                   if local_model and not warmup.is_loaded(encoders.MODEL_LOAD) else [])
        hybrid = config.get("matching", thresholds.DEFAULT_MATCHING) == thresholds.HYBRID
        if hybrid and not lexical.is_cached(job_id, guards.guard_key):
            pending.append(lexical.INDEX_LOAD)
        return pending

    def on_cancel(self, conn: Connection, job: Job) -> None:
        if self.uses_llm_batches(job.config):
            phases.cancel_batches(conn, job)

    def cost_preview(self, conn: Connection, config: DedupSweepConfig,
                     total: int) -> str | None:
        if not config.verifying:
            return ""
        stmt = sa.select(topics.c.id).where(sources_where(config)).order_by(topics.c.id)
        if config.limit:
            stmt = stmt.limit(config.limit)
        estimate = verify_requests.band_estimate(
            conn, list(conn.execute(stmt).scalars()), total=total, mode=config.matching,
            low=config.band_from, high=config.score_threshold, max_pairs=config.max_pairs)
        return estimate.sentence()
