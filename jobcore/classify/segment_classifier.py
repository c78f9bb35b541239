"""The local segment classifier: a topic's name to one taxonomy node, with a confidence
and a runner-up, or unsure.

Evidence, in order of trust:

1. **Structure** from the parsed name (``jobcore.catalog.segment_names``): a numeric band
   in a band family the context names (ages, household or personal income, affluence,
   home value, housing payment, household counts, length of residence, company size) goes
   to the family's child whose band contains it, or to the family when it straddles the
   children's bands (the children's bands are read from their own labels by the same
   parser); a generation goes to Age Range; a leaf that only names a gender to its node.
2. **The leaf against node labels** (and their synonyms, ``segment_rules.json``): lexical
   overlap weighted by how rare each word is among the labels, plus the static encoder's
   cosine between the leaf and the label; then the ancestors against the node's path.
3. **Framing** chooses the tree: purchase intent (in-market, intenders, shoppers, a
   "Purchase Intent" root), interest (enthusiasts, fans, affinity), demographic, B2B (job
   functions and seniority go to Employment Role, firmographics to Education & Occupation).

The best node wins; its runner-up is the best candidate under another parent category.
Their margin, calibrated on the development set (bench/classify_quality.py), decides
whether the topic is flagged for review. Everything is deterministic; ``VERSION`` changes
when the rules or weights do.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from math import log
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jobcore.catalog.name_numbers import NumericRange
from jobcore.catalog.segment_names import (
    B2B,
    DEMOGRAPHIC,
    INTENT,
    INTEREST,
    ParsedName,
    parse,
)
from jobcore.classify.companies import company_places, load_companies
from jobcore.classify.taxonomy import (
    B2B_TREE,
    IAB_AUDIENCE,
    Classification,
    Taxonomy,
    TaxonomyNode,
    get_taxonomy,
    load_b2b_tree,
)
from jobcore.warmup import one_time_load

RULES_FILE = Path(__file__).resolve().parent / "segment_rules.json"
CLASSIFIER_LOAD = "the segment classifier"  # a one-time load (jobcore.warmup)

_WORD = re.compile(r"[a-z0-9]+")
_TIER_OF_FRAMING = {INTENT: "Purchase Intent", INTEREST: "Interest",
                    DEMOGRAPHIC: "Demographic"}
_TWIN_TIERS = ("Interest", "Purchase Intent")
_SEMANTIC_SHORTLIST = 25
_LEXICAL_SHORTLIST = 25
_CANDIDATES_KEPT = 10
_CACHE_SIZE = 50_000
_AUDIENCE_TYPE = {"Demographic": "demographic", "Interest": "interest",
                  "Purchase Intent": "intent", "Business Technology": "technographic"}


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


@dataclass(frozen=True)
class Decision:
    """The classifier's answer for one name."""

    best: Candidate | None        # None: nothing in the name matches the taxonomy
    runner_up: Candidate | None
    margin: float
    unsure: bool
    parsed: ParsedName
    candidates: tuple[Candidate, ...] = ()  # the shortlist, best first (narrow LLM questions)

    @property
    def confidence(self) -> float:
        """0..1: how far the best stands above its runner-up (0.5 at the flag margin)."""
        return round(min(1.0, max(0.0, 0.5 + (self.margin - _flag_margin()) * 4)), 3)

    def reason(self) -> str:
        """Why the topic is unsure, naming both candidates (review_reason)."""
        if self.best is None:
            return "Not classified: no word of the name matches the taxonomy"
        runner = self.runner_up.describe() if self.runner_up else "none"
        return (f"Unsure between {self.best.describe()} ({self.best.evidence}) and "
                f"{runner} (margin {self.margin:.2f})")


def classification_of(node: TaxonomyNode) -> Classification:
    """The five classification fields of a node."""
    tier1 = node.taxonomy_type
    segment = "b2b" if tier1 == "Business Technology" else "b2c"
    return Classification(segment_type=segment, taxonomy_type=tier1,
                          parent_category=node.parent_category,
                          subcategory=node.label if node.level >= 3 else None,
                          audience_type=_AUDIENCE_TYPE[tier1])


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """A word without its plural ending ("categories" -> "category", "fans" -> "fan")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("ses") and not word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class _Variant:
    """One way a node is written: its label, a part of it, or a synonym phrase."""

    words: frozenset[str]
    weight: float   # 1 for the label, less for a part of it
    needs_b2b: bool
    mass: float = 0.0  # the words' summed rarity (set once the rarities are known)


class SegmentClassifier:
    """Compiled rules, label index and label vectors (see the module docstring)."""

    def __init__(self, rules: dict, taxonomy: Taxonomy, encode,
                 companies: dict[str, tuple[str, str]] | None = None) -> None:
        self._words_cache: dict[tuple[str, bool], list[str]] = {}
        self._read_rules(rules)
        self._index_nodes(rules, taxonomy, companies)
        labels = [n.label for n in self._pool]
        paths = [" ".join(n.path[1:]) for n in self._pool]
        vectors = np.asarray(encode(labels + paths), dtype=np.float32)
        self._semantic_matrix = np.ascontiguousarray(np.vstack((
            self._weights["leaf_semantic"] * vectors[:len(labels)].T,
            self._weights["path_semantic"] * vectors[len(labels):].T)))
        self._encode = encode
        self._framing_cache: dict[tuple, np.ndarray] = {}
        self._lexical_cache: dict[tuple, dict[int, tuple[float, int]]] = {}
        self._decision_cache: dict[tuple, Decision] = {}
        self._vector_cache: dict[str, np.ndarray] = {}

    def _read_rules(self, rules: dict) -> None:
        """The rule book's words, framings and weights, stemmed."""
        self.version: str = rules["version"]
        self._weights = rules["weights"]
        self.flag_margin: float = rules["flag_margin"]
        self._synonyms: dict[str, list[str]] = {
            _stem(k): [_stem(w) for w in v.split()] for k, v in rules["synonyms"].items()}
        self._stop = frozenset(_stem(w) for w in rules["stopwords"])
        self._context_stop = frozenset(_stem(w) for w in rules["context_stopwords"])
        self._framing_roots = {kind: [tuple(self._words(p, keep_stop=True)) for p in phrases]
                               for kind, phrases in rules["framing_roots"].items()}
        self._root_phrases = {p for roots in self._framing_roots.values() for p in roots}
        self._role_words = frozenset(_stem(w) for w in rules["role_words"])
        self._commerce_words = frozenset(_stem(w) for w in rules["commerce_words"])
        self._b2b_contexts = [
            (spec["kind"], spec["node"],
             _Phrases([tuple(self._words(p, keep_stop=True)) for p in spec["words"]]))
            for spec in rules["b2b_contexts"]]
        self._technographic = _Phrases([tuple(self._words(p, keep_stop=True))
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
        self._variants = {node_id: [_Variant(v.words, v.weight, v.needs_b2b,
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
            if len(self._words_cache) >= _CACHE_SIZE:
                self._words_cache.clear()
            cached = self._words_cache[key] = self._normalised_words(text, keep_stop)
        return cached

    def _normalised_words(self, text: str, keep_stop: bool) -> list[str]:
        text = text.lower().replace("&", " and ").replace("'s", "").replace("'", "")
        out: list[str] = []
        for word in _WORD.findall(text):
            stem = _stem(word)
            if not keep_stop and (stem in self._stop or len(stem) == 1 or stem.isdigit()):
                continue  # a lone letter ("R&B" -> "b") or number matches too much
            out.extend(self._synonyms.get(stem, (stem,)))
        return out

    # -- compiling --------------------------------------------------------------------
    def _band_children(self) -> set[str]:
        """Nodes whose label is a numeric band (reached through their family only)."""
        banded: set[str] = set()
        for node in self._taxonomy.nodes.values():
            if node.taxonomy == IAB_AUDIENCE and node.taxonomy_type == "Demographic" and \
                    _label_band(node.label) is not None:
                banded.add(node.id)
        return banded

    def _node_variants(self, node: TaxonomyNode) -> list[_Variant]:
        label = re.sub(r"\(.*?\)", " ", node.label)
        variants = [_Variant(frozenset(self._words(label)), 1.0, False)]
        pieces = [p for p in re.split(r"\s+and\s+|&|/|,|\bor\b", label) if p.strip()]
        if len(pieces) > 1:
            for piece in pieces:
                words = frozenset(self._words(piece))
                if words:
                    variants.append(_Variant(words, 0.92, False))
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
                    variants.append(_Variant(words, 1.0, needs_b2b))

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
            band = _label_band(child.label)
            if band is not None:
                children.append((child, band))
            stack.extend(n for n in self._taxonomy.nodes.values() if n.parent_id == child.id)
        own = [" ".join(node.path[1:]), node.label, node.path[-2] if node.level > 2 else ""]
        return {"node": node, "children": children, "units": set(spec["units"]),
                "words": _Phrases(
                    [tuple(self._words(w, keep_stop=True)) for w in spec["words"]]
                    + [tuple(self._words(re.sub(r"\(.*?\)", "", w))) for w in own if w]),
                "nouns": set(spec.get("nouns", [])), "default_for": spec.get("default_for")}

    # -- classifying ------------------------------------------------------------------
    def forget(self) -> None:
        """Drop the remembered answers, lexical matches and words (a benchmark's cold start)."""
        self._decision_cache.clear()
        self._lexical_cache.clear()
        self._words_cache.clear()
        self._vector_cache.clear()
        self._leaf_idf_of.clear()

    def classify(self, name: str, description: str | None = None) -> Decision:
        """The best node for a name, its runner-up and whether the answer is unsure."""
        return self.classify_many([(name, description)])[0]

    def classify_many(self, items: list[tuple[str, str | None]]) -> list[Decision]:
        """``classify`` for many (name, description) pairs at once (one encoder call). A
        name whose path (provider and market left out) was classified before gets that
        answer again: one segment published for many markets is decided once. The
        description is read only when nothing in the name matches.
        """
        parsed = [parse(name) for name, _description in items]
        cache = self._decision_cache  # shared by the app's threads: read it once per key
        known = {p.parts: found for p in parsed if (found := cache.get(p.parts)) is not None}
        todo = {p.parts: p for p in parsed if p.parts not in known}
        if todo:
            decided = dict(zip(todo, self._decide_all(list(todo.values())), strict=True))
            known.update(decided)
            if len(cache) + len(decided) > _CACHE_SIZE:
                cache.clear()
            cache.update(decided)
        decisions = [known[p.parts] for p in parsed]
        fallback = [(i, description) for i, ((_name, description), decision)
                    in enumerate(zip(items, decisions, strict=True))
                    if decision.best is None and description]
        if fallback:
            for (i, _description), found in zip(fallback, self.classify_many(
                    [(description, None) for _i, description in fallback]), strict=True):
                decisions[i] = found
        return [dataclasses.replace(decision, parsed=p)
                for decision, p in zip(decisions, parsed, strict=True)]

    def _decide_all(self, parsed: list[ParsedName]) -> list[Decision]:
        """Decisions for parsed names (one encoder call, one matrix product)."""
        if not parsed:
            return []
        texts = []
        for p in parsed:
            subject = self._subject(p.leaf)
            texts += [subject, " ".join((*p.ancestors, subject))]
        cache = self._vector_cache  # a catalogue repeats its leaves and paths
        unique = dict.fromkeys(texts)
        known = {t: v for t in unique if (v := cache.get(t)) is not None}
        new = [t for t in unique if t not in known]
        if new:
            encoded = dict(zip(new, np.asarray(self._encode(new), dtype=np.float32),
                               strict=True))
            known.update(encoded)
            if len(cache) + len(new) > _CACHE_SIZE:
                cache.clear()
            cache.update(encoded)
        # each name's leaf and path vectors side by side, against the weighted label and path
        # vectors of every node: one matrix product for the whole batch
        vectors = np.stack([known[t] for t in texts]).reshape(len(parsed), -1)
        # rounded: a matrix product's last bits depend on the batch it is computed in, and an
        # answer must not depend on which chunk a topic fell in
        semantic = np.round(vectors @ self._semantic_matrix, 5)
        return [self._decide(p, semantic[i]) for i, p in enumerate(parsed)]

    def exemplar_key(self, name: str) -> str:
        """What close names share (see jobcore.classify.exemplars): framing, the leaf's
        words without role words (and the path's, when the leaf has one word or none),
        bands, generation; "" when the name has none of them.
        """
        parsed = parse(name)
        framing, _strength = self._framing_of(parsed)
        words = sorted({w for w in self._words(parsed.leaf)
                        if w not in self._role_words and not any(c.isdigit() for c in w)})
        if len(words) < 2:  # "Luxury", "Used", "Soccer Fans": the path says what about
            path = sorted({w for part in parsed.ancestors for w in self._words(part)
                           if tuple(self._words(part, keep_stop=True)) not in self._root_phrases
                           and w not in self._context_stop and w not in self._role_words})
            words = [*path, "/", *words]
        bands = sorted(f"{r.low:g}-{r.high:g}" if r.high is not None else f"{r.low:g}+"
                       for r in parsed.ranges if r.low is not None) + sorted(
            f"<{r.high:g}" for r in parsed.ranges if r.low is None and r.high is not None)
        if not words and not bands and not parsed.generation:
            return ""
        return "|".join((framing or "none", " ".join(words), " ".join(bands),
                         parsed.generation or ""))

    def _subject(self, leaf: str) -> str:
        """The leaf without its role words ("Coffee Lovers" -> "Coffee"), for the encoder:
        "lovers" says how a segment is framed, not what it is about.
        """
        words = leaf.split()
        kept = [w for w in words if _stem(w.lower().strip(",.()")) not in self._role_words]
        return " ".join(kept) if kept else leaf

    def _decide(self, parsed: ParsedName, semantic: np.ndarray) -> Decision:
        framing, strength = self._framing_of(parsed)
        ancestors = [words for words in (
            [w for w in self._words(part) if w not in self._context_stop]
            for part in parsed.ancestors
            if tuple(self._words(part, keep_stop=True)) not in self._root_phrases) if words]
        context_words = [w for words in ancestors for w in words]
        all_words = context_words + self._words(parsed.leaf)
        b2b_kind = None
        if not (strength == "root" and framing in (INTEREST, INTENT)):
            # an interest in a business topic is not a job ("Interest > Business > Executive
            # Leadership" is read, not held)
            b2b_kind = next((kind for kind, _node, phrases in self._b2b_contexts
                             if phrases.any_in(all_words)), None)
        b2b = framing == B2B or b2b_kind is not None
        technographic = self._technographic.any_in(all_words)
        structural = self._structural(parsed, context_words, all_words)
        candidates = self._scored(parsed, semantic, ancestors, framing, strength, b2b,
                                  technographic)
        if b2b_kind is not None and not (
                candidates and candidates[0].node.taxonomy == B2B_TREE
                and candidates[0].why.startswith("words")):
            # a job or a company's size, unless a named business technology is the subject
            candidates = self._within_occupation(candidates, b2b_kind)
        if structural is not None:
            candidates.insert(0, structural)
        if candidates and candidates[0].evidence.startswith("close to") and \
                candidates[0].score < self._weights["min_semantic_score"]:
            candidates = []  # no word matches and nothing is near: not a guess worth making
        if not candidates:
            return Decision(None, None, 0.0, True, parsed)
        best = candidates[0]
        runner = next((c for c in candidates[1:] if c.key != best.key), None)
        margin = best.score - (runner.score if runner else 0.0)
        if strength in ("none", "commerce") and best.node.taxonomy_type in _TWIN_TIERS:
            # Nothing says interest or intent: the other tree's best is as likely.
            other = next((c for c in candidates[1:]
                          if c.node.taxonomy_type in _TWIN_TIERS
                          and c.node.taxonomy_type != best.node.taxonomy_type), None)
            if other is not None:
                penalty = self._weights["unframed_tier_margin" if strength == "none"
                                        else "commerce_tier_margin"]
                unframed = best.score - other.score - penalty
                if unframed < margin:
                    runner, margin = other, unframed
        return Decision(best, runner, round(margin, 4), margin < self.flag_margin, parsed,
                        tuple(candidates))

    def _framing_of(self, parsed: ParsedName) -> tuple[str | None, str]:
        """The framing and how it was told: a root of the path ("Purchase Intent >",
        "Interests »"; strongest), a cue word of the name (in-market, enthusiasts), or
        commerce words (products, services, rentals) when nothing else tells.
        """
        for part in parsed.ancestors:
            words = tuple(self._words(part, keep_stop=True))
            for kind, roots in self._framing_roots.items():
                if words in roots:
                    return kind, "root"
        if parsed.framing is not None:
            return parsed.framing, "cue"
        words = {_stem(w) for part in parsed.parts for w in _WORD.findall(part.lower())}
        if words & self._commerce_words:
            return INTENT, "commerce"
        return None, "none"

    def _within_occupation(self, candidates: list[Candidate], kind: str) -> list[Candidate]:
        """Job functions, seniority and firmographics: the Education & Occupation node a
        synonym or label names, else the context's own node (Employment Role for job
        functions and seniority, Education & Occupation for company size and revenue).
        Other candidates stay as runners-up.
        """
        node = self._iab[next(n for k, n, _p in self._b2b_contexts if k == kind)]
        inside = [c for c in candidates
                  if c.node.path[:2] == ("Demographic", "Education & Occupation")
                  and c.evidence.startswith("words")]
        top = inside[0] if inside else None
        if top is None or top.score < self._weights["b2b_named_score"]:
            top = Candidate(node, 1.9, f"{kind} context")
        else:
            top = Candidate(top.node, 1.9, top.evidence)
        return [top] + [c for c in candidates if c.node.id != top.node.id]

    def _structural(self, parsed: ParsedName, context: list[str],
                    words: list[str]) -> Candidate | None:
        company = self._company(parsed, words)
        if company is not None:
            return company
        for band in parsed.ranges:
            found = self._band_node(band, words)
            if found is not None:
                return found
        if parsed.generation and self._generation_node is not None:
            return Candidate(self._generation_node, 2.0, f"generation {parsed.generation}")
        leaf_words = [w for w in self._words(parsed.leaf) if w not in ("age",)]
        if parsed.gender and set(leaf_words) <= {"female", "male", "woman", "man", "women",
                                                 "men", "gender", "adult", "lady", "guy",
                                                 "sex"}:
            node = self._iab["49" if parsed.gender == "female" else "50"]
            return Candidate(node, 2.0, f"gender {parsed.gender}")
        return None

    def _company(self, parsed: ParsedName, words: list[str]) -> Candidate | None:
        """A company the tree places, named with a technographic cue ("Salesforce CRM
        Users", "Snowflake Administrators").
        """
        if not self._companies or not self._technographic.any_in(words):
            return None
        raw = parsed.leaf.casefold().replace(",", " ").split()
        for size in range(min(self._company_words, len(raw)), 0, -1):
            for start in range(len(raw) - size + 1):
                node = self._companies.get(tuple(raw[start:start + size]))
                if node is not None:
                    name = " ".join(raw[start:start + size])
                    return Candidate(node, 2.0, f"company {name}")
        return None

    def _band_node(self, band: NumericRange, words: list[str]) -> Candidate | None:
        """The band's family (named by the context, else the default for its unit) and the
        child band that contains it, or the family when it straddles its children.
        """
        best_family, best_hits = None, 0
        for family in self._families:
            if band.unit not in family["units"]:
                continue
            hits = sum(len(p) for p in family["words"].found_in(words))
            if band.noun and band.noun in family["nouns"]:
                hits += 2
            if hits > best_hits:
                best_family, best_hits = family, hits
        if best_family is None:
            best_family = next((f for f in self._families if f["default_for"] == band.unit),
                               None)
            if best_family is None:
                return None
        inside = [(child, b) for child, b in best_family["children"] if b.contains(band)]
        if inside:
            child = max(inside, key=lambda cb: cb[0].level)[0]
            return Candidate(child, 2.0, f"band {band.text} in {child.label}")
        node = best_family["node"]
        return Candidate(node, 1.8, f"band {band.text} spans {node.label}'s bands")

    def _scored(self, parsed: ParsedName, semantic: np.ndarray, ancestors: list[list[str]],
                framing: str | None, strength: str, b2b: bool,
                technographic: bool) -> list[Candidate]:
        leaf = self._words(parsed.leaf)
        if not leaf and not ancestors:
            return []
        weights = self._weights
        leaf_set = set(leaf)
        context_set = {w for words in ancestors for w in words} - leaf_set
        context_mass = sum(self._leaf_idf(w) for w in context_set) or 1.0
        base = semantic + self._framing_vector(framing, strength, b2b, technographic)
        lexical: dict[int, tuple[float, int, frozenset[str], bool]] = {}
        sources = [(frozenset(leaf_set), 1.0)] + [
            (frozenset(words), weights["ancestor_match"] ** distance)
            for distance, words in enumerate(reversed(ancestors), start=1)]
        for words, factor in sources:
            for index, (lex, number) in self._lexical_matches(words, b2b).items():
                lex *= factor
                if lex > lexical.get(index, (0.0,))[0]:
                    lexical[index] = (lex, number, words, factor != 1.0)
        if len(lexical) > _LEXICAL_SHORTLIST:
            cut = sorted((m[0] for m in lexical.values()), reverse=True)[_LEXICAL_SHORTLIST - 1]
            lexical = {i: m for i, m in lexical.items() if m[0] >= cut}
        shortlist = set(np.argpartition(-base, _SEMANTIC_SHORTLIST)[:_SEMANTIC_SHORTLIST]
                        .tolist()) | set(lexical)
        listed = sorted(shortlist)  # pool order: ties go to the earlier node
        leaf_lexical = weights["leaf_lexical"]
        values = base[listed].tolist()
        if lexical:
            values = [value + leaf_lexical * lexical[index][0] if index in lexical else value
                      for index, value in zip(listed, values, strict=True)]
        if context_set:
            context_lexical, clash = weights["context_lexical"], weights["context_clash"]
            path_words_at = self._path_words_at
            for position, index in enumerate(listed):
                shared = context_set & path_words_at[index]
                if shared:  # the path says the same subject
                    values[position] += context_lexical * sum(
                        self._leaf_idf(w) for w in shared) / context_mass
                else:  # the path says another subject
                    values[position] -= clash
        order = np.argsort(-np.asarray(values), kind="stable")[:_CANDIDATES_KEPT].tolist()
        kept = [(listed[position], values[position]) for position in order]
        return [Candidate(self._pool[index], score,
                          self._why(index, lexical[index]) if index in lexical else "")
                for index, score in kept]

    def _framing_vector(self, framing: str | None, strength: str, b2b: bool,
                        technographic: bool) -> np.ndarray:
        """Each pool node's framing adjustment (see ``_framing_adjustment``) and its small
        preference for deeper nodes, cached.
        """
        key = (framing, strength, b2b, technographic)
        cached = self._framing_cache.get(key)
        if cached is None:
            tier = _TIER_OF_FRAMING.get(framing or "")
            cached = np.array([self._framing_adjustment(n, tier, strength, b2b, technographic)
                               + self._weights["depth"] * n.level
                               for n in self._pool], dtype=np.float32)
            self._framing_cache[key] = cached
        return cached

    def _leaf_idf(self, word: str) -> float:
        """How much a word of the name tells: rare label words most, role words ("owners",
        "enthusiasts", "intenders") little (remembered per word).
        """
        weight = self._leaf_idf_of.get(word)
        if weight is None:
            weight = self._idf.get(word, self._default_idf)
            if word in self._role_words:
                weight *= self._weights["role_word_weight"]
            if len(self._leaf_idf_of) < _CACHE_SIZE:
                self._leaf_idf_of[word] = weight
        return weight

    def _lexical_matches(self, words: frozenset[str], b2b: bool) -> dict[int, tuple[float, int]]:
        """Pool index -> (lexical score, variant number) of every node sharing a word with
        ``words``: its best variant's rarity-weighted overlap, the geometric mean of how
        much of the label and how much of the words it covers (a role word the label itself
        holds, "Home Owners", counts in full). Remembered: a catalogue repeats its paths.
        """
        key = (words, b2b)
        found = self._lexical_cache.get(key)
        if found is not None:
            return found
        mass = sum(self._leaf_idf(w) for w in words)
        matched: dict[tuple[int, int], list[float]] = {}
        for word in words:
            full, leaf = self._idf.get(word, 1.0), self._leaf_idf(word)
            for posting in self._postings.get(word, ()):
                sums = matched.get(posting)
                if sums is None:
                    matched[posting] = [full, leaf]
                else:
                    sums[0] += full
                    sums[1] += leaf
        found = {}
        variants_at = self._variants_at
        for (index, number), (full, leaf) in matched.items():
            variant = variants_at[index][number]
            if variant.needs_b2b and not b2b:
                continue
            score = variant.weight * (full * full / (variant.mass * (mass + full - leaf))) ** 0.5
            if score > found.get(index, (0.0, 0))[0]:
                found[index] = (score, number)
        if len(self._lexical_cache) >= _CACHE_SIZE:
            self._lexical_cache.clear()
        self._lexical_cache[key] = found
        return found

    def _why(self, index: int, match: tuple[float, int, frozenset[str], bool]) -> str:
        """The words a lexical match shares with its node ("path words ..." when they came
        from the path, not the leaf).
        """
        _score, number, words, from_path = match
        shared = self._variants_at[index][number].words & words
        return f"{'path ' if from_path else ''}words {', '.join(sorted(shared))}"

    def _framing_adjustment(self, node: TaxonomyNode, tier: str | None, strength: str,
                            b2b: bool, technographic: bool) -> float:
        weights = self._weights
        if node.taxonomy == B2B_TREE:  # technology a business uses: named with its users
            return weights["technographic_match"] if technographic \
                else -weights["technographic_clash"]
        if b2b and node.path[:2] == ("Demographic", "Education & Occupation"):
            return weights["framing_match"]
        if tier is None:
            return 0.0
        if node.taxonomy_type == tier:
            if strength == "root" and tier == "Demographic":
                return weights["demographic_root_match"]  # such roots hold pets, cards, donors
            return weights[{"root": "framing_root_match", "cue": "framing_match",
                            "commerce": "commerce_match"}[strength]]
        return -weights["commerce_clash" if strength == "commerce" else "framing_clash"]


class _Phrases:
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


def _label_band(label: str) -> NumericRange | None:
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


def _flag_margin() -> float:
    return load_rules()["flag_margin"]


def current_version() -> str:
    """The local classifier's version, from its rules file (no model is loaded)."""
    return load_rules()["version"]


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> dict:
    """The classifier's rules and weights, as stored."""
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def get_classifier() -> SegmentClassifier:
    """The process-wide classifier (a one-time load: the label vectors are encoded once)."""
    from jobcore.config import get_settings
    from jobcore.dedup.static_encoder import StaticMiniLM

    encoder = StaticMiniLM(get_settings().data_dir / "models")
    with one_time_load(CLASSIFIER_LOAD):
        return SegmentClassifier(load_rules(), get_taxonomy(), encoder.encode_array,
                                 company_places(load_b2b_tree(), load_companies()))
