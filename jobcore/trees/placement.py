"""realign_subcategories and fix_subcategory_level0: put topics' subcategories in line
with the taxonomy tree (500 topics a chunk, with history, rollback like a reclassify).

- **realign**: each classified topic's subcategory becomes the display value of its tree
  node. A topic without a node gets one from its classification: the exact path first,
  then the nearest label under its parent category.
- **fix level-0**: a subcategory holding a Tier 1 or Tier 2 label (not a leaf under the
  topic's parent category) or a whole " | " path is fixed to the display value of its
  node (the node named by the path, else the topic's node, else its parent category's).

A topic that cannot be placed (not classified, no node close enough, a node under another
parent category) is an item error and is flagged needs_review with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection, Engine

from jobcore.catalog import topic_store
from jobcore.classify.rollback import PLACEMENT_KEYS, ROLLBACK
from jobcore.classify.taxonomy import TAXONOMY_TYPES
from jobcore.db import get_engine
from jobcore.dedup import embeddings
from jobcore.errors import ConfigError
from jobcore.jobs.base import (
    INTERNAL,
    ChunkOutcome,
    ItemError,
    JobConfig,
    JobHandler,
    JobPlan,
    KeyCursor,
    RollbackSource,
    take_slice,
)
from jobcore.jobs.registry import register
from jobcore.jobs.store import Job
from jobcore.schema import topics
from jobcore.trees import seeding, tree_index

CHUNK_SIZE = 500
MAX_IDS = 100_000


class PlacementConfig(JobConfig):
    taxonomy_filter: str | None = Field(
        default=None, min_length=1, max_length=100,
        description=f"Only topics of this taxonomy type ({', '.join(TAXONOMY_TYPES)}).")
    limit: int | None = Field(default=None, ge=1, le=10_000_000,
                              description="At most this many topics.")
    topic_ids: list[int] | None = Field(
        default=None, min_length=1, max_length=MAX_IDS,
        description="Only these topics (the CLI's --ids-file).",
        json_schema_extra=INTERNAL)


@dataclass(frozen=True)
class PlacedTopic:
    """The columns of a topic that placement reads."""

    id: int
    name: str
    taxonomy_type: str | None
    parent_category: str | None
    subcategory: str | None
    taxonomy_node_id: str | None


@dataclass(frozen=True)
class Placement:
    """What placing one topic does: new subcategory and node, how they were found, or why
    the topic cannot be placed.
    """

    topic: PlacedTopic
    subcategory: str | None = None
    node_id: str | None = None
    how: str = ""
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.error is None and (self.subcategory, self.node_id) != (
            self.topic.subcategory, self.topic.taxonomy_node_id)


def _placed(topic: PlacedTopic, node: tree_index.Node, how: str) -> Placement:
    if node.path[:2] != (topic.taxonomy_type, topic.parent_category):
        return Placement(topic, error=f"its node {node.id} ({' > '.join(node.path)}) is not "
                                      f"under {topic.taxonomy_type} > {topic.parent_category}")
    return Placement(topic, node.display_subcategory, node.id, how)


def _unclassified(topic: PlacedTopic) -> Placement | None:
    if not topic.taxonomy_type or not topic.parent_category:
        return Placement(topic, error="not classified (no taxonomy type or parent category)")
    return None


def plan_realign(topic: PlacedTopic, index: tree_index.TreeIndex) -> Placement:
    """The subcategory of a topic's tree node (finding the node when it has none)."""
    if (problem := _unclassified(topic)) is not None:
        return problem
    if topic.taxonomy_node_id is not None:
        return _placed(topic, index.by_id[topic.taxonomy_node_id], "its node")
    wanted = topic.subcategory
    if wanted and tree_index.PATH_SEPARATOR.strip() in wanted:
        wanted = wanted.split(tree_index.PATH_SEPARATOR.strip())[-1].strip() or None
    node = index.node_at(topic.taxonomy_type, topic.parent_category, wanted)
    if node is not None:
        return _placed(topic, node, "exact path")
    node = index.nearest(topic.taxonomy_type, topic.parent_category, wanted or "")
    if node is not None:
        return _placed(topic, node, f"nearest label to {wanted!r}")
    return Placement(topic, error=f"no node under {topic.taxonomy_type} > "
                                  f"{topic.parent_category} matches {wanted!r}")


def is_level0(topic: PlacedTopic, index: tree_index.TreeIndex) -> bool:
    """Whether the subcategory is a Tier 1/Tier 2 label or a whole path, not a leaf."""
    sub = topic.subcategory
    if not sub:
        return False
    if tree_index.PATH_SEPARATOR.strip() in sub:
        return True
    if sub not in index.upper_labels:
        return False
    leaf = index.node_at(topic.taxonomy_type, topic.parent_category, sub)
    return leaf is None or leaf.level < 3


def plan_fix_level0(topic: PlacedTopic, index: tree_index.TreeIndex) -> Placement:
    """A level-0 subcategory replaced by the display value of the topic's node."""
    if not is_level0(topic, index):
        return Placement(topic, topic.subcategory, topic.taxonomy_node_id, "not level-0")
    if (problem := _unclassified(topic)) is not None:
        return problem
    sub = topic.subcategory or ""
    if topic.taxonomy_node_id is not None:
        return _placed(topic, index.by_id[topic.taxonomy_node_id], "its node")
    if tree_index.PATH_SEPARATOR.strip() in sub:
        parts = [p.strip() for p in sub.split(tree_index.PATH_SEPARATOR.strip()) if p.strip()]
        node = (index.node_at(parts[0], parts[1], parts[-1] if len(parts) > 2 else None)
                if len(parts) >= 2 else None)
        if node is None and parts:
            node = (index.node_at(topic.taxonomy_type, topic.parent_category, parts[-1])
                    or index.nearest(topic.taxonomy_type, topic.parent_category, parts[-1]))
        if node is None:
            return Placement(topic, error=f"the path {sub!r} names no node under "
                                          f"{topic.taxonomy_type} > {topic.parent_category}")
        return _placed(topic, node, "the path it held")
    node = index.node_at(topic.taxonomy_type, topic.parent_category)
    if node is None:
        return Placement(topic, error=f"{topic.taxonomy_type} > {topic.parent_category} is "
                                      "not a node of the tree")
    return _placed(topic, node, "level-0 label")


_COLUMNS = (topics.c.id, topics.c.name, topics.c.taxonomy_type, topics.c.parent_category,
            topics.c.subcategory, topics.c.taxonomy_node_id)


@lru_cache(maxsize=16)
def _where(level0: bool, filtered: bool, listed: bool) -> sa.ColumnElement[bool]:
    conditions: list[sa.ColumnElement[bool]] = [topic_store.LIVE,
                                                topics.c.taxonomy_type.is_not(None)]
    if level0:
        conditions.append(sa.or_(topics.c.subcategory.contains("|"),
                                 topics.c.subcategory == sa.func.any(sa.bindparam("upper"))))
    if filtered:
        conditions.append(topics.c.taxonomy_type == sa.bindparam("taxonomy_type"))
    if listed:
        conditions.append(topics.c.id == sa.func.any(sa.bindparam("topic_ids")))
    return sa.and_(*conditions)


class PlacementHandler(JobHandler[PlacementConfig]):
    """Shared by the tree jobs: config checks, eligible topics by id, chunks of 500; their
    changes carry ``action`` in topic_history, and a rollback restores subcategory and node.
    """

    config_model = PlacementConfig
    rollback: ClassVar[RollbackSource]
    follow_ups = (ROLLBACK,)
    level0: ClassVar[bool]

    @property
    def action(self) -> str:
        """The topic_history action of this job type's changes."""
        return self.rollback.action

    def plan_topic(self, topic: PlacedTopic, index: tree_index.TreeIndex) -> Placement:
        raise NotImplementedError

    def normalize_config(self, config: PlacementConfig) -> PlacementConfig:
        value = config.taxonomy_filter
        if value is None:
            return config
        for known in TAXONOMY_TYPES:
            if known.casefold() == value.strip().casefold():
                return config.model_copy(update={"taxonomy_filter": known})
        raise ConfigError(f"Invalid config for {self.job_type}: taxonomyFilter: {value!r} is "
                          f"not a taxonomy type (one of {', '.join(TAXONOMY_TYPES)})",
                          field="taxonomyFilter")

    def _params(self, config: PlacementConfig, index: tree_index.TreeIndex) -> dict:
        return {"upper": index.upper_labels,
                "taxonomy_type": config.taxonomy_filter, "topic_ids": config.topic_ids}

    def _where(self, config: PlacementConfig) -> sa.ColumnElement[bool]:
        return _where(self.level0, config.taxonomy_filter is not None,
                      config.topic_ids is not None)

    def plan(self, conn: Connection, config: PlacementConfig, *,
             org_id: int | None) -> JobPlan:
        if not seeding.has_trees(conn):
            raise ConfigError(f"{self.job_type} needs the taxonomy trees: run "
                              "`python -m jobcore seed-trees` first", field="config")
        if config.topic_ids is not None:
            check_topic_ids(conn, config.topic_ids)
        count, max_id = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(topics.c.id), 0))
            .where(self._where(config)), self._params(config, tree_index.load_index(conn))).one()
        total = min(count, config.limit) if config.limit else count
        # topics created while the job runs are left for the next one, as reclassify does
        return JobPlan(total_items=total, cursor=KeyCursor(max_id=max_id))

    def select(self, conn: Connection, config: PlacementConfig, index: tree_index.TreeIndex,
               last_id: int, n: int, *, lock: bool, up_to: int | None = None
               ) -> list[PlacedTopic]:
        """Up to ``n`` eligible topics after ``last_id`` (up to ``up_to``), by id."""
        stmt = (sa.select(*_COLUMNS).where(self._where(config), topics.c.id > last_id)
                .order_by(topics.c.id).limit(n))
        if up_to is not None:
            stmt = stmt.where(topics.c.id <= up_to)
        if lock:
            stmt = stmt.with_for_update()
        return [PlacedTopic(*row) for row in conn.execute(stmt, self._params(config, index))]

    def preview(self, conn: Connection, config: PlacementConfig) -> list[Placement]:
        """What the job would do, without writing anything (for dry runs)."""
        index, placements, last_id = tree_index.load_index(conn), [], 0
        remaining = config.limit
        while remaining is None or remaining > 0:
            batch = self.select(conn, config, index, last_id,
                                min(remaining or CHUNK_SIZE, CHUNK_SIZE), lock=False)
            if not batch:
                break
            placements.extend(self.plan_topic(t, index) for t in batch)
            last_id = batch[-1].id
            remaining = None if remaining is None else remaining - len(batch)
        return placements

    def process(self, conn: Connection, job: Job, config: PlacementConfig,
                deadline: float) -> ChunkOutcome:
        cursor = KeyCursor.of(job.cursor)
        index = tree_index.load_index(conn)
        chunk = take_slice(lambda n: self.select(conn, config, index, cursor.last_id, n,
                                                 lock=True, up_to=cursor.max_id),
                           size=CHUNK_SIZE, deadline=deadline, limit=job.total_items,
                           processed=job.processed_items)
        outcome = ChunkOutcome(cursor=cursor, done=False)
        writes, flags = [], {}
        for topic in chunk.within_budget():
            cursor.last_id = topic.id
            placement = self.plan_topic(topic, index)
            if placement.error is not None:
                outcome.errors.append(ItemError(placement.error, id=topic.id, name=topic.name))
                flags[topic.id] = f"{self.job_type}: {placement.error}"
            elif placement.changed:
                writes.append(topic_store.PlacementWrite(
                    topic.id, placement.subcategory, placement.node_id, _history(placement)))
                outcome.success += 1
            else:
                outcome.skips += 1
        topic_store.apply_placements(conn, writes, job_id=job.id, action=self.action,
                                     created_by=job.created_by)
        embeddings.keep_current(conn, [w.topic_id for w in writes])  # the path holds it
        topic_store.flag_for_review(conn, flags)
        outcome.done = chunk.done(outcome.processed)
        return outcome


def _history(placement: Placement) -> tuple[dict, dict]:
    topic = placement.topic
    return ({"subcategory": topic.subcategory, "taxonomy_node_id": topic.taxonomy_node_id},
            {"subcategory": placement.subcategory, "taxonomy_node_id": placement.node_id,
             "how": placement.how})


def check_topic_ids(conn: Connection, ids: list[int]) -> None:
    """ConfigError naming the ids that are not live topics."""
    found = set(conn.execute(sa.select(topics.c.id).where(
        topics.c.id == sa.func.any(sa.bindparam("ids")), topic_store.LIVE), {"ids": ids}).scalars())
    unknown = sorted(set(ids) - found)
    if unknown:
        shown = ", ".join(str(i) for i in unknown[:10])
        more = f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
        raise ConfigError(f"topicIds: {len(unknown):,} of the ids are not live topics "
                          f"(unknown, deleted or merged): {shown}{more}", field="topicIds")


@register
class RealignSubcategoriesHandler(PlacementHandler):
    job_type = "realign_subcategories"
    label = "Realign subcategories"
    description = ("Set each topic's subcategory to its tree node's label (finding the node "
                   "by exact path, then by nearest label).")
    rollback = RollbackSource("realigned", PLACEMENT_KEYS)
    level0 = False

    def plan_topic(self, topic: PlacedTopic, index: tree_index.TreeIndex) -> Placement:
        return plan_realign(topic, index)


@register
class FixSubcategoryLevel0Handler(PlacementHandler):
    job_type = "fix_subcategory_level0"
    label = "Fix level-0 subcategories"
    description = "Replace subcategories that hold a Tier 1/Tier 2 label or a whole path."
    rollback = RollbackSource("subcategory_fixed", PLACEMENT_KEYS)
    level0 = True

    def plan_topic(self, topic: PlacedTopic, index: tree_index.TreeIndex) -> Placement:
        return plan_fix_level0(topic, index)


def preview_job(job_type: str, config: dict, *, engine: Engine | None = None
                ) -> list[Placement]:
    """A placement job's dry run: the same checks as creating it, then what it would do to
    each eligible topic, in a read-only transaction (nothing written).
    """
    from jobcore.jobs.registry import get_handler  # the registry imports this module

    handler = get_handler(job_type)
    if not isinstance(handler, PlacementHandler):
        raise ConfigError(f"{job_type} has no preview", field="config")
    parsed = handler.parse_config(config)
    with (engine or get_engine()).connect() as conn:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        handler.plan(conn, parsed, org_id=None)
        placements = handler.preview(conn, parsed)
        conn.rollback()
    return placements
