"""The local segment classifier's compiled rule book (jobcore.classify.segment_classifier):
the rules' words stemmed, the nodes a name can land on with their variants' words and
rarities, the band families, the companies' places, and which variants hold each word.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from math import log
from typing import NamedTuple

from jobcore.catalog.name_numbers import NumericRange
from jobcore.catalog.segment_names import (
    parse,
)
from jobcore.classify.taxonomy import (
    B2B_TREE,
    IAB_AUDIENCE,
    Taxonomy,
    TaxonomyNode,
)

_WORD = re.compile(r"[a-z0-9]+")
CACHE_SIZE = 50_000  # names whose words, vectors and decisions are remembered


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A word without its plural ending ("categories" -> "category", "fans" -> "fan")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("ses") and not word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Variant:
    """One way a node is written: its label, a part of it, or a synonym phrase."""

    words: frozenset[str]
    weight: float   # 1 for the label, less for a part of it
    needs_b2b: bool
    mass: float = 0.0  # the words' summed rarity (set once the rarities are known)


class Phrases:
    """Word sequences to find in a name's words (indexed by their first word)."""

    def __init__(self, phrases: list[tuple[str, ...]]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in dict.fromkeys(p for p in phrases if p):
            self._by_first.setdefault(phrase[0], []).append(phrase)

    def found_in(self, words: list[str]) -> set[tuple[str, ...]]:
        """The phrases that occur in ``words``."""
        found = set()
        for start, word in enumerate(words):
            for phrase in self._by_first.get(word, ()):
                if tuple(words[start:start + len(phrase)]) == phrase:
                    found.add(phrase)
        return found

    def any_in(self, words: list[str]) -> bool:
        return bool(self.found_in(words))


def label_band(label: str) -> NumericRange | None:
    """The band a node's label names ("$50000 - $74999", "25-29", "3+ Child"), if any."""
    if not re.search(r"\d", label):
        return None
    parsed = parse(label)
    if not parsed.ranges:
        return None
    band = parsed.ranges[0]
    unit = band.unit
    if re.search(r"\$", label):
        unit = "usd"
    return NumericRange(band.low, band.high, unit, band.noun, band.text)


class Candidate(NamedTuple):
    """One node a name may belong to, its score and the evidence that put it there."""

    node: TaxonomyNode
    score: float
    why: str = ""  # empty: only the encoder put it there

    @property
    def evidence(self) -> str:
        return self.why or f"close to {self.node.label!r}"

    @property
    def key(self) -> tuple[str, str | None]:
        """(tier 1, tier 2): candidates under one key are one choice for review."""
        return self.node.taxonomy_type, self.node.parent_category

    def describe(self) -> str:
        return " > ".join(self.node.path)


class CompiledRules:
    """The rule book and the label index a classifier decides by (built once)."""

    def _read_rules(self, rules: dict) -> None:
        """The rule book's words, framings and weights, stemmed."""
        self.version: str = rules["version"]
        self._weights = rules["weights"]
        self.flag_margin: float = rules["flag_margin"]
        self._synonyms: dict[str, list[str]] = {
            stem(k): [stem(w) for w in v.split()] for k, v in rules["synonyms"].items()}
        self._stop = frozenset(stem(w) for w in rules["stopwords"])
        self._context_stop = frozenset(stem(w) for w in rules["context_stopwords"])
        self._framing_roots = {kind: [tuple(self._words(p, keep_stop=True)) for p in phrases]
                               for kind, phrases in rules["framing_roots"].items()}
        self._root_phrases = {p for roots in self._framing_roots.values() for p in roots}
        self._role_words = frozenset(stem(w) for w in rules["role_words"])
        self._commerce_words = frozenset(stem(w) for w in rules["commerce_words"])
        self._b2b_contexts = [
            (spec["kind"], spec["node"],
             Phrases([tuple(self._words(p, keep_stop=True)) for p in spec["words"]]))
            for spec in rules["b2b_contexts"]]
        self._technographic = Phrases([tuple(self._words(p, keep_stop=True))
                                        for p in rules["technographic_cues"]])

    def _index_nodes(self, rules: dict, taxonomy: Taxonomy,
                     companies: dict[str, tuple[str, str]] | None) -> None:
        """The nodes a name can land on, their variants' words and weights, the bands'
        families, the companies' places, and which variants hold each word.
        """
        self._taxonomy = taxonomy
        self._iab = {n.source_id: n for n in taxonomy.nodes.values() if n.taxonomy == IAB_AUDIENCE}
        self._band_nodes = self._band_children()
        self._pool = [n for n in taxonomy.nodes.values()
                      if n.level >= 2 and n.taxonomy in (IAB_AUDIENCE, B2B_TREE)
                      and not n.label.startswith("*")
                      and n.id not in self._band_nodes and n.label != "Other"]
        self._variants = {n.id: self._node_variants(n) for n in self._pool}
        self._add_concepts(rules["concepts"])
        self._idf = self._document_frequencies()
        self._leaf_idf_of: dict[str, float] = {}
        self._default_idf = log(len(self._pool) + 1)
        self._variants = {node_id: [Variant(v.words, v.weight, v.needs_b2b,
                                             sum(self._idf.get(w, 1.0) for w in v.words))
                                    for v in variants]
                          for node_id, variants in self._variants.items()}
        self._path_words_at = [frozenset(w for part in n.path[1:] for w in self._words(part))
                                for n in self._pool]
        self._families = [self._family(f) for f in rules["range_families"]]
        by_path = {n.path: n for n in taxonomy.nodes.values()}
        self._companies = {
            tuple(name.split()): by_path[("Business Technology", *place)]
            for name, place in (companies or {}).items()
            if ("Business Technology", *place) in by_path}
        self._company_words = max((len(k) for k in self._companies), default=0)
        self._variants_at = [self._variants[n.id] for n in self._pool]
        # word -> (pool index, variant index) of every variant holding it
        self._postings: dict[str, list[tuple[int, int]]] = {}
        for index, node in enumerate(self._pool):
            for number, variant in enumerate(self._variants[node.id]):
                for word in variant.words:
                    self._postings.setdefault(word, []).append((index, number))

    # -- words ------------------------------------------------------------------------
    def _words(self, text: str, *, keep_stop: bool = False) -> list[str]:
        """Normalised words of a text: lower case, '&' as 'and', plural stems, synonyms
        (remembered per text; the list returned must not be changed).
        """
        key = (text, keep_stop)
        cached = self._words_cache.get(key)
        if cached is None:
            if len(self._words_cache) >= CACHE_SIZE:
                self._words_cache.clear()
            cached = self._words_cache[key] = self._normalised_words(text, keep_stop)
        return cached

    def _normalised_words(self, text: str, keep_stop: bool) -> list[str]:
        text = text.lower().replace("&", " and ").replace("'s", "").replace("'", "")
        out: list[str] = []
        for word in _WORD.findall(text):
            root = stem(word)
            if not keep_stop and (root in self._stop or len(root) == 1 or root.isdigit()):
                continue  # a lone letter ("R&B" -> "b") or number matches too much
            out.extend(self._synonyms.get(root, (root,)))
        return out

    # -- compiling --------------------------------------------------------------------
    def _band_children(self) -> set[str]:
        """Nodes whose label is a numeric band (reached through their family only)."""
        banded: set[str] = set()
        for node in self._taxonomy.nodes.values():
            if node.taxonomy == IAB_AUDIENCE and node.taxonomy_type == "Demographic" and \
                    label_band(node.label) is not None:
                banded.add(node.id)
        return banded

    def _node_variants(self, node: TaxonomyNode) -> list[Variant]:
        label = re.sub(r"\(.*?\)", " ", node.label)
        variants = [Variant(frozenset(self._words(label)), 1.0, False)]
        pieces = [p for p in re.split(r"\s+and\s+|&|/|,|\bor\b", label) if p.strip()]
        if len(pieces) > 1:
            for piece in pieces:
                words = frozenset(self._words(piece))
                if words:
                    variants.append(Variant(words, 0.92, False))
        return [v for v in variants if v.words]

    def _add_concepts(self, concepts: list[dict]) -> None:
        self._generation_node: TaxonomyNode | None = None
        for concept in concepts:
            node = self._iab[concept["node"]]
            if concept.get("when") == "generation":
                self._generation_node = node
                continue
            needs_b2b = concept.get("context") == "b2b"
            variants = self._variants.setdefault(node.id, [])
            if node not in self._pool:
                self._pool.append(node)
            for phrase in concept["phrases"]:
                words = frozenset(self._words(phrase, keep_stop=True))
                if words:
                    variants.append(Variant(words, 1.0, needs_b2b))

    def _document_frequencies(self) -> dict[str, float]:
        counts: Counter[str] = Counter()
        for node in self._pool:
            seen: set[str] = set()
            for variant in self._variants[node.id]:
                seen |= variant.words
            seen |= {w for part in node.path[1:] for w in self._words(part)}
            counts.update(seen)
        total = len(self._pool)
        return {w: log((total + 1) / (c + 0.5)) for w, c in counts.items()}

    def _family(self, spec: dict) -> dict:
        node = self._iab[spec["node"]]
        children = []
        stack = [n for n in self._taxonomy.nodes.values() if n.parent_id == node.id]
        while stack:
            child = stack.pop()
            band = label_band(child.label)
            if band is not None:
                children.append((child, band))
            stack.extend(n for n in self._taxonomy.nodes.values() if n.parent_id == child.id)
        own = [" ".join(node.path[1:]), node.label, node.path[-2] if node.level > 2 else ""]
        return {"node": node, "children": children, "units": set(spec["units"]),
                "words": Phrases(
                    [tuple(self._words(w, keep_stop=True)) for w in spec["words"]]
                    + [tuple(self._words(re.sub(r"\(.*?\)", "", w))) for w in own if w]),
                "nouns": set(spec.get("nouns", [])), "default_for": spec.get("default_for")}
