"""reclassify: classify topics with the local segment classifier, 50 a chunk.

Eligible topics are live topics never classified, or classified by another version of the
local classifier (every live topic with ``force``), optionally only those of one parent
category, or only the topics in another job's errors (``retryOf``). A topic an analyst
classified by hand (source ``manual``) is never taken by a local run. A changed topic gets
a topic_history row; an unchanged one is skipped (its version is stamped so that it is no
longer outdated). A topic the classifier is unsure of keeps its best candidate and is
flagged ``needs_review`` with the two candidates; one it cannot classify at all is an item
error and is flagged with the reason. With ``rollbackOf`` the job instead undoes another
job (see jobcore.classify.rollback).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection

from jobcore import warmup
from jobcore.catalog import topic_store
from jobcore.classify import exemplars, llm_results, recovery, rollback
from jobcore.classify.planning import PlannedChange, plan_topics
from jobcore.classify.prompts import (
    candidate_request_params,
    candidates_of,
    reclassify_profile,
    request_params,
)
from jobcore.classify.recovery import RETRY_ERRORS, RETRY_OF
from jobcore.classify.rollback import CLASSIFICATION_KEYS, ROLLBACK, ROLLBACK_OF
from jobcore.classify.segment_classifier import (
    CLASSIFIER_LOAD,
    current_version,
    get_classifier,
)
from jobcore.classify.taxonomy import CLASSIFICATION_FIELDS, with_canonical_parent_category
from jobcore.config import get_settings
from jobcore.dedup import embeddings
from jobcore.dedup.follow_ups import SWEEP_CHANGED_TOPICS
from jobcore.errors import ConfigError
from jobcore.jobs.base import (
    INTERNAL,
    JOB_ID_PATTERN,
    ChunkOutcome,
    ItemError,
    JobConfig,
    JobHandler,
    JobPlan,
    RollbackSource,
    shown_when,
    take_slice,
)
from jobcore.jobs.registry import register
from jobcore.jobs.store import Job, JobSummary
from jobcore.llm import phases
from jobcore.llm.batch_result import BatchCursor, BatchResult
from jobcore.llm.client import model_of
from jobcore.llm.cost import PromptProfile
from jobcore.schema import topics
from jobcore.trees import seeding

# a local chunk: about 0.1 s of work (Stop lands between chunks), its fixed cost spread
# over 500 topics (20,000-topic demo's reclassify: 3.6-4.1 s whole at 200, 3.0-3.4 s at 500)
CHUNK_SIZE = 500
MAX_LIMIT = 10_000_000


_LLM_MODES_ONLY = shown_when(mode=["llm", "column"])


class ReclassifyConfig(JobConfig):
    mode: Literal["local", "llm", "column"] = Field(
        default="local", description="local: the segment classifier; llm: Claude through the "
                                     "Message Batches API; column: Claude, one field only.")
    force: bool = Field(default=False, description="Every live topic, not only outdated ones.")
    limit: int | None = Field(default=None, ge=1, le=MAX_LIMIT,
                              description="At most this many topics.")
    parent_category_filter: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="Only topics currently in this parent category.",
        json_schema_extra={"choicesFrom": "parentCategories"})
    target_column: Literal[CLASSIFICATION_FIELDS] | None = Field(  # type: ignore[valid-type]
        default=None, description="Column mode: the one field to reclassify.",
        json_schema_extra=shown_when(mode=["column"]))
    enable_web_search: bool = Field(default=True,
                                    description="LLM modes: let Claude search the web.",
                                    json_schema_extra=_LLM_MODES_ONLY)
    model: str | None = Field(default=None, min_length=1, max_length=100,
                              description="LLM modes: the model (default CLASSIFICATION_MODEL).",
                              json_schema_extra=_LLM_MODES_ONLY)
    concurrency: int = Field(
        default=4, ge=1, le=16,
        description="LLM modes: sub-batches of 100 topics submitted at the same time.",
        json_schema_extra=_LLM_MODES_ONLY)
    fallback_local: bool = Field(
        default=False, description="LLM modes: a topic whose LLM result failed is classified "
                                   "by the local rules (noted in the errors).",
        json_schema_extra=_LLM_MODES_ONLY)
    topic_ids: list[int] | None = Field(default=None, min_length=1, max_length=10_000,
                                        json_schema_extra=INTERNAL)
    rollback_of: str | None = Field(default=None, pattern=JOB_ID_PATTERN,
                                    json_schema_extra=INTERNAL)
    retry_of: str | None = Field(default=None, pattern=JOB_ID_PATTERN,
                                 json_schema_extra=INTERNAL)
    # the errors a retry took, when only a group of them ("pattern: ...", "parent category: ...")
    retry_group: str | None = Field(default=None, min_length=1, max_length=500,
                                    json_schema_extra=INTERNAL)


def eligible_where(config: ReclassifyConfig, skip_misses: bool = False
                   ) -> sa.ColumnElement[bool]:
    """Which topics a local reclassify with this config takes (parameters: see
    ``eligible_params``; ``skip_misses``: a retry leaves out rule misses).
    """
    return _eligible_where(*_shape(config, skip_misses))


def _shape(config: ReclassifyConfig, skip_misses: bool = False
           ) -> tuple[bool, bool, bool, bool, bool, bool]:
    return (config.force, config.parent_category_filter is not None,
            config.retry_of is not None, config.topic_ids is not None, config.mode == "local",
            skip_misses)


def eligible_params(config: ReclassifyConfig, rules_version: str) -> dict:
    return {"rules_version": rules_version, "parent": config.parent_category_filter,
            "retry_of": config.retry_of, "topic_ids": config.topic_ids}


@lru_cache(maxsize=32)
def _eligible_where(force: bool, filtered: bool, retry: bool, listed: bool,
                    local: bool, skip_misses: bool) -> sa.ColumnElement[bool]:
    conditions: list[sa.ColumnElement[bool]] = [topic_store.LIVE]
    if local:  # an analyst's classification is never the local classifier's to change
        conditions.append(topics.c.classification_source.is_distinct_from("manual"))
    if not force:
        conditions.append(sa.or_(
            topics.c.classification_version.is_(None),
            sa.and_(topics.c.classification_source == "rules",
                    topics.c.classification_version != sa.bindparam("rules_version")),
            sa.and_(topics.c.classification_source == "exemplar",
                    topics.c.classification_version != sa.bindparam("rules_version")),
            exemplars.orphaned(),
        ))
    if filtered:
        conditions.append(topics.c.parent_category == sa.bindparam("parent"))
    if retry:
        conditions.append(topics.c.id.in_(recovery.error_topic_ids(skip_misses)))
    if listed:
        conditions.append(topics.c.id == sa.func.any(sa.bindparam("topic_ids")))
    return sa.and_(*conditions)


@lru_cache(maxsize=32)
def _chunk_select(force: bool, filtered: bool, retry: bool, listed: bool,
                  local: bool, skip_misses: bool) -> sa.Select:
    """One chunk of eligible topics after the cursor, locked (built once per shape): of
    those planned, i.e. not changed since the job was created (a topic that became
    eligible later, or that another job or an edit changed meanwhile, is left out).
    """
    return (topic_store.select_topics(sa.and_(_eligible_where(force, filtered, retry, listed,
                                                              local, skip_misses),
                                          topics.c.id > sa.bindparam("last_id"),
                                          topics.c.id <= sa.bindparam("max_id"),
                                          topics.c.updated_at <= sa.bindparam("planned_at")))
            .limit(sa.bindparam("row_limit", type_=sa.Integer)).with_for_update())


class ReclassifyResult(BatchResult):
    """A reclassify job's result: the LLM phases' part, and the topics flagged unsure."""

    unsure: int = 0


class ReclassifyCursor(BatchCursor):
    """Where a reclassify stands: the topics walked by id up to the planned largest, the
    rules version and time it was planned with (topics changed after it are left for the
    next job); in an LLM mode, the phases' part too (a rollback has its own,
    rollback.RollbackCursor).
    """

    rules_version: str | None = None
    planned_at: str | None = None  # ISO time; None: a job from before it was saved
    skips_rule_misses: bool = False  # a retry that leaves out rule misses (see recovery)


@register
class ReclassifyHandler(JobHandler[ReclassifyConfig]):
    job_type = "reclassify"
    label = "Reclassify"
    description = ("Classify topics into the taxonomy: the local rules, or Claude through "
                   "Message Batches.")
    config_model = ReclassifyConfig
    result_model = ReclassifyResult
    form_order = 0  # the everyday job first
    empty_hint = ("Every topic may already be classified by the current rules: tick Force to "
                  "take them all.")
    llm_batches = True
    rollback = RollbackSource("reclassified", CLASSIFICATION_KEYS)
    relations = (ROLLBACK_OF, RETRY_OF)
    follow_ups = (ROLLBACK, RETRY_ERRORS, SWEEP_CHANGED_TOPICS)

    def uses_llm_batches(self, config: dict[str, Any]) -> bool:
        return config.get("mode", "local") != "local" and not config.get("rollbackOf")

    def cost_profile(self, config: dict[str, Any]) -> PromptProfile | None:
        if not self.uses_llm_batches(config):
            return None
        return reclassify_profile(web_search=config.get("enableWebSearch", True),
                                  narrow=config.get("mode") != "column")

    def loads_first(self, job_id: str, config: dict[str, Any]) -> list[str]:
        local = config.get("mode", "local") == "local" or config.get("fallbackLocal")
        return [] if not local or warmup.is_loaded(CLASSIFIER_LOAD) else [CLASSIFIER_LOAD]

    def normalize_config(self, config: ReclassifyConfig) -> ReclassifyConfig:
        if config.rollback_of is not None:
            others = [name for name, value in (
                ("force", config.force), ("limit", config.limit),
                ("parentCategoryFilter", config.parent_category_filter),
                ("retryOf", config.retry_of), ("topicIds", config.topic_ids)) if value]
            if others:
                raise ConfigError(f"Invalid config for reclassify: rollbackOf cannot be combined "
                                  f"with {', '.join(others)}", field=others[0])
        if config.retry_group is not None and (config.retry_of is None
                                               or config.topic_ids is None):
            raise ConfigError("Invalid config for reclassify: retryGroup: only with retryOf "
                              "and the group's topicIds", field="retryGroup")
        _check_mode(config)
        return with_canonical_parent_category(self.job_type, config)

    def plan(self, conn: Connection, config: ReclassifyConfig, *,
             org_id: int | None) -> JobPlan:
        if config.rollback_of is not None:
            return rollback.plan_rollback(conn, config.rollback_of)
        if config.retry_of is not None:
            RETRY_ERRORS.check(conn, config.retry_of)
        version = current_version()
        seeding.ensure_trees(conn)  # classifications point at their tree node
        skip = recovery.skips_rule_misses(conn, config, version)
        count, max_id = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(topics.c.id), 0))
            .where(eligible_where(config, skip)),
            eligible_params(config, version),
        ).one()
        if skip and count == 0:
            recovery.refuse_only_rule_misses(conn, config.retry_of, version)
        total = min(count, config.limit) if config.limit else count
        planned_at = conn.execute(sa.select(sa.func.now())).scalar_one()
        return JobPlan(total_items=total, cursor=ReclassifyCursor(
            max_id=max_id, rules_version=version, planned_at=planned_at.isoformat(),
            skips_rule_misses=skip))

    def process(self, conn: Connection, job: Job, config: ReclassifyConfig,
                deadline: float) -> ChunkOutcome:
        if config.rollback_of is not None:
            return rollback.process_rollback(conn, job, config.rollback_of, deadline)
        if config.mode == "local":
            return _classify_locally(conn, job, config, deadline)
        cursor = ReclassifyCursor.of(job.cursor)
        if not cursor.submitting:
            phases.poll_and_stage(conn, job)
            return phases.post_process(
                conn, job, cursor, lambda staged, outcome: llm_results.write_classifications(
                    conn, job, config, staged, outcome))
        return self._submit(conn, job, config, cursor, deadline)

    def _submit(self, conn: Connection, job: Job, config: ReclassifyConfig,
                cursor: ReclassifyCursor, deadline: float) -> ChunkOutcome:
        """LLM phase 1 (see llm.phases.submit_step)."""
        model = model_of(config)
        return phases.submit_step(conn, job, cursor, phases.SubmitSource(
            eligible_after=lambda last_id, up_to, n: _eligible_after(
                conn, config, cursor, current_version(), last_id, up_to, n),
            request=lambda t: _request(t, config, model),
            concurrency=config.concurrency), deadline)

    def on_cancel(self, conn: Connection, job: Job) -> None:
        if self.uses_llm_batches(job.config):
            phases.cancel_batches(conn, job)

    def errors_note(self, conn: Connection, job: JobSummary) -> str | None:
        return recovery.rule_miss_note(conn, job, current_version())


def _request(topic: topic_store.TopicRow, config: ReclassifyConfig, model: str) -> dict:
    """One topic's request: the narrow question over the local classifier's candidates in
    LLM mode, the wide one (the whole taxonomy) in column mode or when it has none.
    """
    if config.target_column is None:
        decision = get_classifier().classify(topic.name, topic.description)
        candidates = candidates_of(decision)
        if candidates:
            return candidate_request_params(
                name=topic.name, description=topic.description, candidates=candidates,
                model=model, web_search=config.enable_web_search)
    return request_params(name=topic.name, description=topic.description,
                          current=topic.classification, model=model,
                          web_search=config.enable_web_search,
                          target_column=config.target_column)


def _check_mode(config: ReclassifyConfig) -> None:
    """ConfigError when the mode and targetColumn do not fit, or an LLM mode has no key."""
    if config.mode == "column" and config.target_column is None:
        raise ConfigError("Invalid config for reclassify: targetColumn: column mode needs "
                          "the field to reclassify", field="targetColumn")
    if config.mode != "column" and config.target_column is not None:
        raise ConfigError("Invalid config for reclassify: targetColumn: only for column "
                          "mode", field="targetColumn")
    if config.mode != "local" and not get_settings().anthropic_api_key:
        raise ConfigError(
            f"Invalid config for reclassify: mode: {config.mode!r} needs an Anthropic API "
            "key: set ANTHROPIC_API_KEY in the environment (or .env) and restart; or use "
            "mode 'local'", field="mode")


def _classify_locally(conn: Connection, job: Job, config: ReclassifyConfig,
                      deadline: float) -> ChunkOutcome:
    """One chunk of a local reclassify: CHUNK_SIZE eligible topics through the classifier."""
    classifier = get_classifier()
    cursor = ReclassifyCursor.of(job.cursor)
    assert cursor.max_id is not None  # planned with the job
    up_to = cursor.max_id
    chunk = take_slice(lambda n: _eligible_after(conn, config, cursor, classifier.version,
                                                 cursor.last_id, up_to, n),
                       size=CHUNK_SIZE, deadline=deadline, limit=job.total_items,
                       processed=job.processed_items)
    outcome = ChunkOutcome(cursor=cursor, done=False)
    writes: list[topic_store.ClassificationWrite] = []
    errors: dict[int, str] = {}
    unsure = 0
    taken = list(chunk.within_budget())
    for change in plan_topics(classifier, taken, exemplars.live_by_key(conn)):
        topic = change.topic
        cursor.last_id = topic.id
        if change.error is not None:
            outcome.errors.append(ItemError(change.error, id=topic.id, name=topic.name))
            errors[topic.id] = change.error
            continue
        unsure += change.flag is not None
        outcome.success += change.changed
        outcome.skips += not change.changed
        writes.append(_write_of(change, classifier.version))
    topic_store.apply_classifications(conn, writes, job_id=job.id, action="reclassified",
                                      created_by=job.created_by)
    embeddings.keep_current(conn, [w.topic_id for w in writes if w.history is not None])
    topic_store.flag_for_review(conn, errors)
    if unsure:
        so_far = ReclassifyResult.of(job.result).unsure
        outcome.result_patch.update(ReclassifyResult(unsure=so_far + unsure).patch("unsure"))
    outcome.done = chunk.done(outcome.processed)
    return outcome


def _write_of(change: PlannedChange, version: str) -> topic_store.ClassificationWrite:
    """The write of a planned change: the classification, its node and detail (history
    only when the classification changed).
    """
    assert change.new is not None
    topic = change.topic
    history = None
    if change.changed:
        history = (topic_store.classification_state(topic), {
            **change.new.as_dict(), "classification_version": version,
            "classification_source": change.source, "rule": change.evidence,
            "taxonomy_node_id": change.node_id})
    return topic_store.ClassificationWrite(
        topic.id, change.new, version, change.source, history, change.node_id, change.detail,
        flag=change.flag, clears_flag=change.flag is None and topic.review_status == "needs_review")


def _eligible_after(conn: Connection, config: ReclassifyConfig, cursor: ReclassifyCursor,
                    rules_version: str, last_id: int, up_to: int,
                    limit: int) -> list[topic_store.TopicRow]:
    """Planned eligible topics with last_id < id <= up_to, by id, locked, at most
    ``limit`` (jobs from before plannedAt was saved: every eligible one).
    """
    planned_at = cursor.planned_at
    params = {**eligible_params(config, rules_version), "last_id": last_id, "max_id": up_to,
              "row_limit": limit, "planned_at": datetime.fromisoformat(planned_at)
              if planned_at else datetime.max.replace(tzinfo=UTC)}
    return [topic_store.topic_row(r) for r in conn.execute(
        _chunk_select(*_shape(config, cursor.skips_rule_misses)), params)]


def preview(conn: Connection, config: ReclassifyConfig) -> list[PlannedChange]:
    """What a local reclassify with this config would do, without writing anything."""
    classifier = get_classifier()
    stmt = topic_store.select_topics(eligible_where(config))
    if config.limit is not None:
        stmt = stmt.limit(config.limit)
    rows = conn.execute(stmt, eligible_params(config, classifier.version))
    return plan_topics(classifier, [topic_store.topic_row(row) for row in rows],
                       exemplars.live_by_key(conn))
