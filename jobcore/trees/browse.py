"""What the Taxonomy screen shows of the trees: nodes with topic counts in tree order,
topics on a node, topics without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore import audit
from jobcore.catalog.topic_store import LIVE
from jobcore.db import get_engine
from jobcore.schema import topics
from jobcore.sql_rules import LIVE_TOPIC_SQL
from jobcore.trees import seeding


def tree_counts(conn: Connection, taxonomy: str) -> list[dict]:
    """Every node of one tree with the live topics on it and below it, in tree order."""
    rows = conn.execute(sa.text(
        f"""
        WITH on_node AS (
            SELECT taxonomy_node_id AS id, count(*) AS n FROM topics
            WHERE taxonomy_node_id IS NOT NULL AND {LIVE_TOPIC_SQL}
            GROUP BY taxonomy_node_id
        )
        SELECT n.id, n.parent_id, n.label, n.level, n.path, coalesce(o.n, 0) AS topics
        FROM taxonomy_nodes n LEFT JOIN on_node o ON o.id = n.id
        WHERE n.taxonomy = :taxonomy
        """), {"taxonomy": taxonomy}).mappings().all()
    children: dict[str | None, list[dict]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(dict(row))
    ordered: list[dict] = []

    def walk(parent: str | None) -> int:
        total = 0
        for row in sorted(children.get(parent, []), key=lambda r: r["label"].casefold()):
            ordered.append(row)
            row["with_descendants"] = row["topics"] + walk(row["id"])
            total += row["with_descendants"]
        return total

    walk(None)
    return ordered



def topics_without_node(conn: Connection) -> int:
    """Live topics that sit on no tree node."""
    return conn.execute(sa.select(sa.func.count()).select_from(topics).where(
        topics.c.taxonomy_node_id.is_(None), LIVE)).scalar_one()


def unplaced_by_category(conn: Connection) -> list[dict]:
    """Live topics without a node, counted by taxonomy type and parent category."""
    rows = conn.execute(
        sa.select(topics.c.taxonomy_type, topics.c.parent_category,
                  sa.func.count().label("topics"))
        .where(topics.c.taxonomy_node_id.is_(None), LIVE)
        .group_by(topics.c.taxonomy_type, topics.c.parent_category)
        .order_by(sa.func.count().desc(), topics.c.taxonomy_type, topics.c.parent_category))
    return [dict(r._mapping) for r in rows]


def topics_on_node(conn: Connection, node_id: str, limit: int = 200) -> list[dict]:
    """Live topics on one node (by id): id, name, classification."""
    rows = conn.execute(
        sa.select(topics.c.id, topics.c.name, topics.c.taxonomy_type, topics.c.parent_category,
                  topics.c.subcategory)
        .where(topics.c.taxonomy_node_id == node_id, LIVE).order_by(topics.c.id).limit(limit))
    return [dict(r._mapping) for r in rows]


@dataclass(frozen=True)
class TreeOverview:
    """One tree as the Taxonomy screen shows it."""

    nodes: list[dict]  # tree order, with "topics" and "with_descendants"
    topics_without_node: int
    unplaced: list[dict]  # topics without a node by taxonomy type and parent category


def trees_loaded(*, engine: Engine | None = None) -> bool:
    """Whether the taxonomy trees are in the database."""
    with (engine or get_engine()).connect() as conn:
        return seeding.has_trees(conn)


def load_trees(*, engine: Engine | None = None) -> seeding.SeedReport:
    """Seed (or update) the trees, in one transaction."""
    engine = engine or get_engine()
    with audit.action("seed_trees", engine=engine), engine.begin() as conn:
        return seeding.seed_trees(conn)


def tree_overview(taxonomy: str, *, engine: Engine | None = None) -> TreeOverview:
    """A tree's nodes with topic counts, and the topics that sit on no node."""
    with (engine or get_engine()).connect() as conn:
        return TreeOverview(tree_counts(conn, taxonomy), topics_without_node(conn),
                            unplaced_by_category(conn))


def topics_on(node_id: str, *, engine: Engine | None = None) -> list[dict]:
    """Live topics on one node (see topics_on_node)."""
    with (engine or get_engine()).connect() as conn:
        return topics_on_node(conn, node_id)
