"""Seeding ``taxonomy_nodes`` from the bundled trees: the IAB Audience Taxonomy 1.1 and the
IAB Content Taxonomy 3.1 (IAB Tech Lab, CC BY 3.0; jobcore/data/iab) and the project's
Business Technology tree. A node's id is ``<tree>:<source id>`` (the IAB Unique ID), so a
relabelled source updates labels and paths in place and every topic keeps pointing at its
node. Seeding is one upsert that touches only rows that differ: a second run changes
nothing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.classify.taxonomy import (
    B2B_FILE,
    DATA_DIR,
    IAB_AUDIENCE_FILE,
    TaxonomyNode,
    _b2b_nodes,
    _iab_audience_nodes,
    load_b2b_tree,
)
from jobcore.schema import taxonomy_nodes
from jobcore.trees.tree_index import IAB_CONTENT, PATH_SEPARATOR

IAB_CONTENT_FILE = DATA_DIR / "iab" / "Content Taxonomy 3.1.tsv"

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


def ensure_trees(conn: Connection) -> None:
    """Seed the trees when the IAB Audience tree is not loaded yet (a new database)."""
    loaded = conn.execute(sa.select(sa.exists().where(
        taxonomy_nodes.c.taxonomy == "iab_audience_1_1"))).scalar_one()
    if not loaded:
        seed_trees(conn)
