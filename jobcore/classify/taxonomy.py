"""The taxonomy: allowed values of every classification field.

Built from the IAB Audience Taxonomy 1.1 (Tier 1 -> taxonomy type, Tier 2 -> parent
category, deeper tiers -> subcategory) plus the project's "Business Technology" tree.
Every classification the project writes is validated here.
"""

from __future__ import annotations

import csv
import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from jobcore.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
IAB_AUDIENCE_FILE = DATA_DIR / "iab" / "Audience Taxonomy 1.1.tsv"
B2B_FILE = DATA_DIR / "b2b_taxonomy.json"

IAB_AUDIENCE = "iab_audience_1_1"
B2B_TREE = "b2b_technology"
C = TypeVar("C", bound=BaseModel)

CLASSIFICATION_FIELDS = (
    "segment_type",
    "taxonomy_type",
    "parent_category",
    "subcategory",
    "audience_type",
)
SEGMENT_TYPES = ("b2c", "b2b")
AUDIENCE_TYPES = ("demographic", "interest", "intent", "technographic")
TAXONOMY_TYPES = ("Demographic", "Interest", "Purchase Intent", "Business Technology")

# Which segment and audience types each taxonomy type admits.
ALLOWED_SEGMENT_TYPES = {
    "Demographic": ("b2c",),
    "Interest": ("b2c", "b2b"),
    "Purchase Intent": ("b2c", "b2b"),
    "Business Technology": ("b2b",),
}
ALLOWED_AUDIENCE_TYPES = {
    "Demographic": ("demographic",),
    "Interest": ("interest",),
    "Purchase Intent": ("intent",),
    "Business Technology": ("technographic",),
}


@dataclass(frozen=True)
class TaxonomyNode:
    """One node of a taxonomy tree; ``path`` runs from Tier 1 down to this node."""

    id: str
    taxonomy: str
    source_id: str
    parent_id: str | None
    label: str
    path: tuple[str, ...]

    @property
    def level(self) -> int:
        return len(self.path)

    @property
    def taxonomy_type(self) -> str:
        return self.path[0]

    @property
    def parent_category(self) -> str | None:
        return self.path[1] if self.level >= 2 else None

    @property
    def subcategory(self) -> str | None:
        return self.label if self.level >= 3 else None


@dataclass(frozen=True)
class Classification:
    """The five classification fields of a topic."""

    segment_type: str | None
    taxonomy_type: str | None
    parent_category: str | None
    subcategory: str | None
    audience_type: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"segment_type": self.segment_type, "taxonomy_type": self.taxonomy_type,
                "parent_category": self.parent_category, "subcategory": self.subcategory,
                "audience_type": self.audience_type}

    @classmethod
    def from_mapping(cls, values: dict) -> Classification:
        return cls(**{name: values.get(name) for name in CLASSIFICATION_FIELDS})


class Taxonomy:
    """All nodes of the classification trees, indexed for validation and lookup."""

    def __init__(self, nodes: list[TaxonomyNode]) -> None:
        self.nodes = {node.id: node for node in nodes}
        self._parents: dict[str, list[str]] = {t: [] for t in TAXONOMY_TYPES}
        self._subcategories: dict[tuple[str, str], set[str]] = {}
        for node in nodes:
            if node.level == 2:
                self._parents[node.taxonomy_type].append(node.label)
            elif node.level >= 3:
                key = (node.taxonomy_type, node.path[1])
                self._subcategories.setdefault(key, set()).add(node.label)

    def parent_categories(self, taxonomy_type: str | None = None) -> list[str]:
        """Parent categories of one taxonomy type, or of all of them (sorted, unique)."""
        if taxonomy_type is not None:
            return list(self._parents.get(taxonomy_type, []))
        return sorted({p for parents in self._parents.values() for p in parents})

    def subcategories(self, taxonomy_type: str, parent_category: str) -> list[str]:
        return sorted(self._subcategories.get((taxonomy_type, parent_category), set()))

    def problems(self, classification: Classification) -> list[str]:
        """Everything wrong with a classification; empty when it is valid."""
        c = classification
        problems: list[str] = []
        if c.taxonomy_type not in TAXONOMY_TYPES:
            return [f"taxonomy_type {c.taxonomy_type!r} is not one of {', '.join(TAXONOMY_TYPES)}"]
        if c.segment_type not in ALLOWED_SEGMENT_TYPES[c.taxonomy_type]:
            allowed = ", ".join(ALLOWED_SEGMENT_TYPES[c.taxonomy_type])
            problems.append(
                f"segment_type {c.segment_type!r} is not allowed for {c.taxonomy_type} "
                f"(allowed: {allowed})"
            )
        if c.audience_type not in ALLOWED_AUDIENCE_TYPES[c.taxonomy_type]:
            allowed = ", ".join(ALLOWED_AUDIENCE_TYPES[c.taxonomy_type])
            problems.append(
                f"audience_type {c.audience_type!r} is not allowed for {c.taxonomy_type} "
                f"(allowed: {allowed})"
            )
        if c.parent_category not in self._parents[c.taxonomy_type]:
            problems.append(
                f"parent_category {c.parent_category!r} is not a category of {c.taxonomy_type}"
                + _suggestion(c.parent_category, self._parents[c.taxonomy_type])
            )
        elif c.subcategory is not None:
            allowed_subs = self._subcategories.get((c.taxonomy_type, c.parent_category), set())
            if c.subcategory not in allowed_subs:
                problems.append(
                    f"subcategory {c.subcategory!r} is not under "
                    f"{c.taxonomy_type} > {c.parent_category}"
                    + _suggestion(c.subcategory, sorted(allowed_subs))
                )
        return problems

    def resolve_parent_category(self, name: str) -> str:
        """The exact spelling of a parent category (case-insensitive), or ValueError."""
        known = self.parent_categories()
        for label in known:
            if label.casefold() == name.strip().casefold():
                return label
        raise ValueError(f"{name!r} is not a parent category" + _suggestion(name, known))


def _suggestion(value: str | None, choices: list[str]) -> str:
    if not value or not choices:
        return ""
    close = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _iab_audience_nodes(path: Path) -> list[TaxonomyNode]:
    nodes: list[TaxonomyNode] = []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows)  # header
        for row in rows:
            if len(row) < 6 or not row[1].strip():
                continue
            tiers = [t.strip() for t in row[4:10] if t.strip()]
            tiers[0] = tiers[0].rstrip("*").strip()
            parent = row[2].strip()
            nodes.append(
                TaxonomyNode(
                    id=f"{IAB_AUDIENCE}:{row[1].strip()}",
                    taxonomy=IAB_AUDIENCE,
                    source_id=row[1].strip(),
                    parent_id=f"{IAB_AUDIENCE}:{parent}" if parent else None,
                    label=tiers[-1],
                    path=tuple(tiers),
                )
            )
    return nodes


def load_b2b_tree(path: Path = B2B_FILE) -> dict:
    """The Business Technology tree and its company mapping, as stored."""
    return json.loads(path.read_text(encoding="utf-8"))


def _b2b_nodes(tree: dict) -> list[TaxonomyNode]:
    root_label = tree["taxonomy_type"]
    root = TaxonomyNode(f"{B2B_TREE}:1", B2B_TREE, "1", None, root_label, (root_label,))
    nodes = [root]
    for i, (category, subs) in enumerate(tree["categories"].items(), start=1):
        cat_id = f"{i}"
        nodes.append(TaxonomyNode(f"{B2B_TREE}:{cat_id}0", B2B_TREE, f"{cat_id}0", root.id,
                                  category, (root_label, category)))
        for j, sub in enumerate(subs, start=1):
            source_id = f"{cat_id}0.{j}"
            nodes.append(TaxonomyNode(f"{B2B_TREE}:{source_id}", B2B_TREE, source_id,
                                      f"{B2B_TREE}:{cat_id}0", sub, (root_label, category, sub)))
    return nodes


@lru_cache(maxsize=1)
def get_taxonomy() -> Taxonomy:
    """The process-wide taxonomy (IAB Audience 1.1 plus Business Technology)."""
    return Taxonomy(_iab_audience_nodes(IAB_AUDIENCE_FILE) + _b2b_nodes(load_b2b_tree()))


def with_canonical_parent_category(job_type: str, config: C) -> C:
    """``config`` with its ``parent_category_filter`` in the taxonomy's spelling; a name
    the taxonomy does not know is a ConfigError on parentCategoryFilter (with a suggestion).
    """
    value = getattr(config, "parent_category_filter", None)
    if value is None:
        return config
    try:
        canonical = get_taxonomy().resolve_parent_category(value)
    except ValueError as exc:
        raise ConfigError(f"Invalid config for {job_type}: parentCategoryFilter: {exc}",
                          field="parentCategoryFilter") from None
    return config.model_copy(update={"parent_category_filter": canonical})
