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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from jobcore.catalog.segment_names import (
    B2B,
    INTENT,
    INTEREST,
    ParsedName,
    parse,
)
from jobcore.classify.classifier_evidence import (
    LabelScoring,
    StructuralEvidence,
)
from jobcore.classify.classifier_rules import CACHE_SIZE, Candidate, stem
from jobcore.classify.companies import company_places, load_companies
from jobcore.classify.taxonomy import (
    B2B_TREE,
    Classification,
    Taxonomy,
    TaxonomyNode,
    get_taxonomy,
    load_b2b_tree,
)
from jobcore.heap import kept_for_good
from jobcore.warmup import one_time_load

RULES_FILE = Path(__file__).resolve().parent / "segment_rules.json"
CLASSIFIER_LOAD = "the segment classifier"  # a one-time load (jobcore.warmup)

_WORD = re.compile(r"[a-z0-9]+")
_TWIN_TIERS = ("Interest", "Purchase Intent")
_AUDIENCE_TYPE = {"Demographic": "demographic", "Interest": "interest",
                  "Purchase Intent": "intent", "Business Technology": "technographic"}


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
            return NO_MATCH
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


class SegmentClassifier(StructuralEvidence, LabelScoring):
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
            if len(cache) + len(decided) > CACHE_SIZE:
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
            if len(cache) + len(new) > CACHE_SIZE:
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
        kept = [w for w in words if stem(w.lower().strip(",.()")) not in self._role_words]
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
        words = {stem(w) for part in parsed.parts for w in _WORD.findall(part.lower())}
        if words & self._commerce_words:
            return INTENT, "commerce"
        return None, "none"


def _flag_margin() -> float:
    return load_rules()["flag_margin"]


# a rule miss: the same rules always miss the same name (a retry under them cannot help)
NO_MATCH = "Not classified: no word of the name matches the taxonomy"


def current_version() -> str:
    """The local classifier's version, from its rules file (no model is loaded)."""
    return load_rules()["version"]


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> dict:
    """The classifier's rules and weights, as stored."""
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def get_classifier() -> SegmentClassifier:
    """The process-wide classifier (a one-time load: the label vectors are encoded once;
    kept out of the garbage collector's walks, see jobcore.heap).
    """
    from jobcore.config import get_settings
    from jobcore.dedup.static_encoder import StaticMiniLM

    encoder = StaticMiniLM(get_settings().data_dir / "models")
    with one_time_load(CLASSIFIER_LOAD):
        encoder.load()  # first: a distillation (first run only) stays out of the freeze
        with kept_for_good():
            return SegmentClassifier(load_rules(), get_taxonomy(), encoder.encode_array,
                                     company_places(load_b2b_tree(), load_companies()))

