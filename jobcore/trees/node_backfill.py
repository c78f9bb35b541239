"""backfill_taxonomy_nodes: Claude chooses a tree node for topics that have none, from the
candidate nodes of their parent category, through the same Message Batches phases as LLM
reclassify (submit, poll and stage, post-process; see jobcore.llm.phases).

An answer naming a node that does not exist, or one outside the topic's parent category,
is the topic's error and flags it needs_review; so is a topic whose parent category has no
candidate nodes (it is not sent). The node is written with ``node_assigned`` history, so
the job can be rolled back like a reclassify.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection

from jobcore.catalog import topic_store
from jobcore.classify.rollback import PLACEMENT_KEYS
from jobcore.config import get_settings
from jobcore.errors import ConfigError
from jobcore.jobs.base import ChunkOutcome, ItemError, JobPlan, RollbackSource
from jobcore.jobs.registry import register
from jobcore.jobs.store import Job
from jobcore.llm import cost, phases
from jobcore.llm.answers import AnswerError, answer_of, json_answer, live_results
from jobcore.llm.batch_result import BatchCursor
from jobcore.llm.client import model_of
from jobcore.schema import topics
from jobcore.trees import tree_index
from jobcore.trees.placement import PlacementConfig, PlacementHandler

MAX_TOKENS = 100
INSTRUCTIONS = """You place audience segments (topics) of an advertising catalogue on the \
node of a taxonomy tree that describes them best. Each request gives a topic, its current \
classification and the candidate nodes below its parent category as "id: path" lines. \
Answer with the id of one candidate node, exactly as listed, in the JSON schema's node_id."""


# For cost estimates: the instructions are short (below the prompt-cache minimum, so they
# are paid on every request); a topic's prompt lists its parent category's candidate nodes,
# about 25 on average in the IAB Audience tree, ~12 tokens a line, plus the topic (~45).
PROMPT_PROFILE = cost.PromptProfile(system_tokens=len(INSTRUCTIONS) // cost.CHARS_PER_TOKEN,
                                    cached=False, topic_tokens=45 + 25 * 12, answer_tokens=20)


class BackfillConfig(PlacementConfig):
    model: str | None = Field(default=None, min_length=1, max_length=100,
                              description="The model (default CLASSIFICATION_MODEL).")
    concurrency: int = Field(default=4, ge=1, le=16,
                             description="Sub-batches of 100 topics submitted at the same "
                                         "time.")


@lru_cache(maxsize=16)
def _where(filtered: bool, listed: bool) -> sa.ColumnElement[bool]:
    conditions = [topic_store.LIVE, topics.c.taxonomy_node_id.is_(None),
                  topics.c.taxonomy_type.is_not(None), topics.c.parent_category.is_not(None)]
    if filtered:
        conditions.append(topics.c.taxonomy_type == sa.bindparam("taxonomy_type"))
    if listed:
        conditions.append(topics.c.id == sa.func.any(sa.bindparam("topic_ids")))
    return sa.and_(*conditions)


def request_params(topic: topic_store.TopicRow, candidates: list[tree_index.Node],
                   model: str) -> dict[str, Any]:
    """The Messages API parameters asking for one topic's node among ``candidates``."""
    c = topic.classification
    lines = "\n".join(f"{n.id}: {' > '.join(n.path)}" for n in candidates)
    return {
        "model": model, "max_tokens": MAX_TOKENS,
        "system": [{"type": "text", "text": INSTRUCTIONS,
                    "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": (
            f"Topic: {topic.name}\nDescription: {topic.description or '(none)'}\n"
            f"Classification: {c.taxonomy_type} > {c.parent_category}"
            f"{' > ' + c.subcategory if c.subcategory else ''}\n\n"
            f"Candidate nodes:\n{lines}")}],
        "output_config": {"format": {"type": "json_schema", "schema": {
            "type": "object", "required": ["node_id"], "additionalProperties": False,
            "properties": {"node_id": {"type": "string",
                                       "enum": [n.id for n in candidates]}}}}},
    }


def read_node_answer(text: str, topic: topic_store.TopicRow,
                     index: tree_index.TreeIndex) -> tree_index.Node:
    """The node an answer names, checked: it exists and sits under the topic's parent."""
    answer = json_answer(text)
    node_id = answer.get("node_id") if isinstance(answer, dict) else None
    if not isinstance(node_id, str):
        raise AnswerError(f"the answer names no node_id: {text[:200]!r}")
    node = index.by_id.get(node_id)
    if node is None:
        raise AnswerError(f"the answer names node {node_id!r}, which does not exist")
    c = topic.classification
    if node.path[:2] != (c.taxonomy_type, c.parent_category) or node.level < 3:
        raise AnswerError(f"the answer names node {node_id!r} ({' > '.join(node.path)}), "
                          f"not one below {c.taxonomy_type} > {c.parent_category}")
    return node


@register
class BackfillTaxonomyNodesHandler(PlacementHandler):
    job_type = "backfill_taxonomy_nodes"
    label = "Backfill nodes with Claude"
    description = "Let Claude choose a tree node for topics without one (Message Batches)."
    config_model = BackfillConfig  # type: ignore[assignment]
    rollback = RollbackSource("node_assigned", PLACEMENT_KEYS)
    llm_batches = True
    level0 = False

    def cost_profile(self, config: dict[str, Any]) -> cost.PromptProfile:
        return PROMPT_PROFILE

    def normalize_config(self, config):
        config = super().normalize_config(config)
        if not get_settings().anthropic_api_key:
            raise ConfigError(
                "Invalid config for backfill_taxonomy_nodes: it needs an Anthropic API key: "
                "set ANTHROPIC_API_KEY in the environment (or .env) and restart", field="config")
        return config

    def _where(self, config) -> sa.ColumnElement[bool]:
        return _where(config.taxonomy_filter is not None, config.topic_ids is not None)

    def plan(self, conn: Connection, config, *, org_id: int | None) -> JobPlan:
        plan = super().plan(conn, config, org_id=org_id)
        return JobPlan(total_items=plan.total_items,
                       cursor=BatchCursor.model_validate(plan.cursor.to_json()))

    def _eligible_after(self, conn: Connection, config, index: tree_index.TreeIndex,
                        last_id: int, up_to: int, n: int) -> list[topic_store.TopicRow]:
        stmt = topic_store.select_topics(sa.and_(
            self._where(config), topics.c.id > last_id, topics.c.id <= up_to)
        ).limit(n).with_for_update()
        return [topic_store.topic_row(r) for r in conn.execute(stmt, self._params(config, index))]

    def process(self, conn: Connection, job: Job, config, deadline: float) -> ChunkOutcome:
        cursor = BatchCursor.of(job.cursor)
        index = tree_index.load_index(conn)
        if not cursor.submitting:
            phases.poll_and_stage(conn, job)
            return phases.post_process(
                conn, job, cursor,
                lambda staged, outcome: self._write(conn, job, index, staged, outcome))
        model = model_of(config)

        def request(topic: topic_store.TopicRow) -> dict[str, Any] | str:
            c = topic.classification
            candidates = index.candidates(c.taxonomy_type, c.parent_category)
            if not candidates:
                return (f"no tree nodes below {c.taxonomy_type} > {c.parent_category} to "
                        "choose from; not sent")
            return request_params(topic, candidates, model)

        return phases.submit_step(conn, job, cursor, phases.SubmitSource(
            eligible_after=lambda last_id, up_to, n: self._eligible_after(
                conn, config, index, last_id, up_to, n),
            request=request, concurrency=config.concurrency), deadline)

    def _write(self, conn: Connection, job: Job, index: tree_index.TreeIndex,
               staged: list[Any], outcome: ChunkOutcome) -> None:
        writes, flags = [], {}
        for row, topic in live_results(staged, outcome):
            try:
                node = read_node_answer(answer_of(row), topic, index)
            except AnswerError as exc:
                outcome.errors.append(ItemError(f"LLM: {exc}", id=topic.id, name=topic.name))
                flags[topic.id] = f"LLM node backfill: {exc}"
                continue
            sub = topic.classification.subcategory
            writes.append(topic_store.PlacementWrite(topic.id, sub, node.id, (
                {"subcategory": sub, "taxonomy_node_id": None},
                {"subcategory": sub, "taxonomy_node_id": node.id, "how": "llm"})))
            outcome.success += 1
        topic_store.apply_placements(conn, writes, job_id=job.id, action=self.action,
                                     created_by=job.created_by)
        topic_store.flag_for_review(conn, flags)

    def on_cancel(self, conn: Connection, job: Job) -> None:
        phases.cancel_batches(conn, job)
