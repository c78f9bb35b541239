"""Taxonomy trees in the database: seeding ``taxonomy_nodes`` and looking nodes up.

Three trees: the IAB Audience Taxonomy 1.1 and the IAB Content Taxonomy 3.1 (IAB Tech Lab,
CC BY 3.0; bundled in jobcore/data/iab) and the project's Business Technology tree. A
node's id is ``<tree>:<source id>`` (the IAB Unique ID), so a relabelled source updates
labels and paths in place and every topic keeps pointing at its node. Seeding is one
upsert that touches only rows that differ: a second run changes nothing.

``TreeIndex`` answers what the subcategory tools ask: the node of a classification path,
the candidate nodes under a parent category, the nearest label, the display value.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.classify.taxonomy import (
    B2B_FILE,
    B2B_TREE,
    DATA_DIR,
    IAB_AUDIENCE,
    IAB_AUDIENCE_FILE,
    TaxonomyNode,
    _b2b_nodes,
    _iab_audience_nodes,
    load_b2b_tree,
)
from jobcore.schema import taxonomy_nodes, topics

IAB_CONTENT = "iab_content_3_1"
IAB_CONTENT_FILE = DATA_DIR / "iab" / "Content Taxonomy 3.1.tsv"
TREE_TITLES = {
    IAB_AUDIENCE: "IAB Audience Taxonomy 1.1",
    IAB_CONTENT: "IAB Content Taxonomy 3.1",
    B2B_TREE: "Business Technology (project tree)",
}
# Trees whose nodes topics are classified into (the content tree is for browsing).
CLASSIFICATION_TREES = (IAB_AUDIENCE, B2B_TREE)
PATH_SEPARATOR = " | "  # as in the IAB's condensed names


@dataclass(frozen=True)
class TreeSources:
    """Where each tree is read from (tests point these at edited copies)."""

    audience: Path = IAB_AUDIENCE_FILE
    content: Path = IAB_CONTENT_FILE
    b2b: Path = B2B_FILE


@dataclass(frozen=True)
class SeedReport:
    inserted: int
    updated: int
    unchanged: int
    not_in_source: int  # nodes in the database that the sources no longer have (kept)


def source_nodes(sources: TreeSources | None = None) -> list[TaxonomyNode]:
    """Every node of the three trees as the source files give them, parents first."""
    sources = sources or TreeSources()
    nodes = (_iab_audience_nodes(sources.audience) + _iab_content_nodes(sources.content)
             + _b2b_nodes(load_b2b_tree(sources.b2b)))
    return sorted(nodes, key=lambda n: n.level)


def _iab_content_nodes(path: Path) -> list[TaxonomyNode]:
    """The IAB Content Taxonomy 3.1 TSV: two header rows, then Unique ID, Parent, Name,
    Tier 1..4.
    """
    nodes = []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        for row in rows:
            source_id = row[0].strip() if row else ""
            if len(row) < 4 or not source_id or " " in source_id:
                continue  # the two header rows ("Relational ID System", "Unique ID")
            tiers = [t.strip() for t in row[3:7] if t.strip()]
            parent = row[1].strip()
            nodes.append(TaxonomyNode(
                id=f"{IAB_CONTENT}:{source_id}", taxonomy=IAB_CONTENT, source_id=source_id,
                parent_id=f"{IAB_CONTENT}:{parent}" if parent else None,
                label=row[2].strip() or tiers[-1], path=tuple(tiers)))
    return nodes


_UPSERT = sa.text(
    """
    WITH v AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS v(id text, taxonomy text, source_id text, parent_id text, label text,
                 level integer, path text)
    )
    INSERT INTO taxonomy_nodes AS n (id, taxonomy, source_id, parent_id, label, level, path)
    SELECT id, taxonomy, source_id, parent_id, label, level, path FROM v
    ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, label = excluded.label,
        level = excluded.level, path = excluded.path, updated_at = now()
    WHERE (n.parent_id, n.label, n.level, n.path)
          IS DISTINCT FROM (excluded.parent_id, excluded.label, excluded.level, excluded.path)
    RETURNING (xmax = 0) AS inserted
    """
)


def seed_trees(conn: Connection, sources: TreeSources | None = None) -> SeedReport:
    """Insert new nodes and update changed ones (ids kept); nodes the sources dropped stay,
    since topics may point at them.
    """
    nodes = source_nodes(sources)
    rows = [{"id": n.id, "taxonomy": n.taxonomy, "source_id": n.source_id,
             "parent_id": n.parent_id, "label": n.label, "level": n.level,
             "path": PATH_SEPARATOR.join(n.path)} for n in nodes]
    touched = conn.execute(_UPSERT, {"rows": json.dumps(rows)}).scalars().all()
    inserted = sum(1 for t in touched if t)
    stale = conn.execute(sa.select(sa.func.count()).select_from(taxonomy_nodes).where(
        taxonomy_nodes.c.id.not_in([n.id for n in nodes]))).scalar_one()
    return SeedReport(inserted, len(touched) - inserted, len(nodes) - len(touched), stale)


def has_trees(conn: Connection) -> bool:
    return conn.execute(sa.select(sa.exists().select_from(taxonomy_nodes))).scalar_one()


@dataclass(frozen=True)
class Node:
    """A node as stored: ``path`` from Tier 1 down to it."""

    id: str
    taxonomy: str
    parent_id: str | None
    label: str
    level: int
    path: tuple[str, ...]

    @property
    def display_subcategory(self) -> str | None:
        """What a topic on this node shows as its subcategory: the node's label below the
        parent category, nothing on a Tier 1 or Tier 2 node.
        """
        return self.label if self.level >= 3 else None


def normalized(label: str) -> str:
    """A label reduced for comparison: case, '&', punctuation and plural 's' ignored."""
    text = label.casefold().replace("&", " and ")
    words = re.findall(r"[a-z0-9+]+", text)
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss")
                    else w for w in words)


NEAREST_LABEL_CUTOFF = 0.8


class TreeIndex:
    """The classification trees' nodes, indexed by id and by (type, parent, label)."""

    def __init__(self, nodes: list[Node]) -> None:
        self.by_id = {n.id: n for n in nodes}
        self._by_path: dict[tuple[str, ...], Node] = {}
        self._under: dict[tuple[str, str], list[Node]] = {}
        for node in sorted(nodes, key=lambda n: (n.level, n.id)):
            if node.taxonomy not in CLASSIFICATION_TREES:
                continue
            self._by_path.setdefault(self._key(node.path), node)
            if node.level >= 3:
                self._under.setdefault((node.path[0], node.path[1]), []).append(node)
        self.upper_labels = sorted({n.label for n in nodes if n.level <= 2
                                    and n.taxonomy in CLASSIFICATION_TREES})

    @staticmethod
    def _key(path: tuple[str, ...]) -> tuple[str, ...]:
        return path if len(path) <= 2 else (path[0], path[1], path[-1])

    def node_at(self, taxonomy_type: str | None, parent_category: str | None,
                subcategory: str | None = None) -> Node | None:
        """The node of an exact classification path (the shallowest when a label repeats)."""
        if not taxonomy_type or (subcategory and not parent_category):
            return None
        path = tuple(p for p in (taxonomy_type, parent_category, subcategory) if p)
        return self._by_path.get(self._key(path))

    def candidates(self, taxonomy_type: str | None, parent_category: str | None) -> list[Node]:
        """The nodes below a parent category (what a topic of it may sit on)."""
        return list(self._under.get((taxonomy_type or "", parent_category or ""), []))

    def nearest(self, taxonomy_type: str | None, parent_category: str | None,
                label: str) -> Node | None:
        """The candidate whose label is closest to ``label`` (same words up to case, '&'
        and plurals; else a similarity >= NEAREST_LABEL_CUTOFF), or None.
        """
        wanted = normalized(label)
        best, best_score = None, NEAREST_LABEL_CUTOFF
        for node in self.candidates(taxonomy_type, parent_category):
            have = normalized(node.label)
            if have == wanted:
                return node
            score = difflib.SequenceMatcher(None, wanted, have).ratio()
            if score > best_score or (score == best_score and best is None):
                best, best_score = node, score
        return best


_NODES = sa.select(taxonomy_nodes.c.id, taxonomy_nodes.c.taxonomy, taxonomy_nodes.c.parent_id,
                   taxonomy_nodes.c.label, taxonomy_nodes.c.level, taxonomy_nodes.c.path)
_FINGERPRINT = sa.select(sa.func.count(), sa.func.max(taxonomy_nodes.c.updated_at))
_cached: tuple[tuple, TreeIndex] | None = None


def load_index(conn: Connection) -> TreeIndex:
    """The TreeIndex of the stored trees (rebuilt only when the nodes changed)."""
    global _cached
    fingerprint = tuple(conn.execute(_FINGERPRINT).one())
    if _cached is None or _cached[0] != fingerprint:
        nodes = [Node(r.id, r.taxonomy, r.parent_id, r.label, r.level,
                      tuple(r.path.split(PATH_SEPARATOR))) for r in conn.execute(_NODES)]
        _cached = (fingerprint, TreeIndex(nodes))
    return _cached[1]


def tree_counts(conn: Connection, taxonomy: str) -> list[dict]:
    """Every node of one tree with the live topics on it and below it, in tree order."""
    rows = conn.execute(sa.text(
        """
        WITH on_node AS (
            SELECT taxonomy_node_id AS id, count(*) AS n FROM topics
            WHERE taxonomy_node_id IS NOT NULL AND deleted_at IS NULL AND merged_into IS NULL
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


_LIVE = sa.and_(topics.c.deleted_at.is_(None), topics.c.merged_into.is_(None))


def topics_without_node(conn: Connection) -> int:
    """Live topics that sit on no tree node."""
    return conn.execute(sa.select(sa.func.count()).select_from(topics).where(
        topics.c.taxonomy_node_id.is_(None), _LIVE)).scalar_one()


def unplaced_by_category(conn: Connection) -> list[dict]:
    """Live topics without a node, counted by taxonomy type and parent category."""
    rows = conn.execute(
        sa.select(topics.c.taxonomy_type, topics.c.parent_category,
                  sa.func.count().label("topics"))
        .where(topics.c.taxonomy_node_id.is_(None), _LIVE)
        .group_by(topics.c.taxonomy_type, topics.c.parent_category)
        .order_by(sa.func.count().desc(), topics.c.taxonomy_type, topics.c.parent_category))
    return [dict(r._mapping) for r in rows]


def topics_on_node(conn: Connection, node_id: str, limit: int = 200) -> list[dict]:
    """Live topics on one node (by id): id, name, classification."""
    rows = conn.execute(
        sa.select(topics.c.id, topics.c.name, topics.c.taxonomy_type, topics.c.parent_category,
                  topics.c.subcategory)
        .where(topics.c.taxonomy_node_id == node_id, _LIVE).order_by(topics.c.id).limit(limit))
    return [dict(r._mapping) for r in rows]
