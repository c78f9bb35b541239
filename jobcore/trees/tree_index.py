"""The classification trees' nodes, indexed: what the subcategory tools ask (the node of a
classification path, the candidate nodes under a parent category, the nearest label, the
display value).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.classify.taxonomy import B2B_TREE, IAB_AUDIENCE
from jobcore.schema import taxonomy_nodes

IAB_CONTENT = "iab_content_3_1"
TREE_TITLES = {
    IAB_AUDIENCE: "IAB Audience Taxonomy 1.1",
    IAB_CONTENT: "IAB Content Taxonomy 3.1",
    B2B_TREE: "Business Technology (project tree)",
}
# Trees whose nodes topics are classified into (the content tree is for browsing).
CLASSIFICATION_TREES = (IAB_AUDIENCE, B2B_TREE)
PATH_SEPARATOR = " | "  # as in the IAB's condensed names


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


