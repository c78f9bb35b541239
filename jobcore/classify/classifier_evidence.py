"""The local segment classifier's evidence (jobcore.classify.segment_classifier): what the
parsed structure says (a company, a numeric band in its family, an occupation) and how the
leaf and its ancestors score against the labels, framing weighed in.
"""

from __future__ import annotations

import re

import numpy as np

from jobcore.catalog.name_numbers import NumericRange
from jobcore.catalog.segment_names import (
    DEMOGRAPHIC,
    INTENT,
    INTEREST,
    ParsedName,
)
from jobcore.classify.classifier_rules import (
    CACHE_SIZE,
    Candidate,
    CompiledRules,
)
from jobcore.classify.taxonomy import (
    B2B_TREE,
    TaxonomyNode,
)

_WORD = re.compile(r"[a-z0-9]+")
TIER_OF_FRAMING = {INTENT: "Purchase Intent", INTEREST: "Interest",
                    DEMOGRAPHIC: "Demographic"}
SEMANTIC_SHORTLIST = 25
LEXICAL_SHORTLIST = 25
CANDIDATES_KEPT = 10


class StructuralEvidence(CompiledRules):
    """Nodes the name's structure points to (before any label is compared)."""

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


class LabelScoring(CompiledRules):
    """The leaf and ancestors against the node labels, lexically and by the encoder."""

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
        if len(lexical) > LEXICAL_SHORTLIST:
            cut = sorted((m[0] for m in lexical.values()), reverse=True)[LEXICAL_SHORTLIST - 1]
            lexical = {i: m for i, m in lexical.items() if m[0] >= cut}
        shortlist = set(np.argpartition(-base, SEMANTIC_SHORTLIST)[:SEMANTIC_SHORTLIST]
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
        order = np.argsort(-np.asarray(values), kind="stable")[:CANDIDATES_KEPT].tolist()
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
            tier = TIER_OF_FRAMING.get(framing or "")
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
            if len(self._leaf_idf_of) < CACHE_SIZE:
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
        if len(self._lexical_cache) >= CACHE_SIZE:
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
