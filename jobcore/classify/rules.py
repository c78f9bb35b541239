"""The local, deterministic rule engine.

Rules are data (``rules.json``): an ordered list, each either a hand-written rule with
phrases and a target classification, or a generator that turns a tree (IAB labels, the
Business Technology tree, the company list) into phrase rules. The first rule, in list
order, whose phrase occurs in the topic's name wins; within one rule, longer phrases and
deeper nodes win. Names are tried before descriptions. ``version`` marks which rules
classified a topic: topics classified by another version are "outdated".
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jobcore.classify.taxonomy import (
    DATA_DIR,
    Classification,
    Taxonomy,
    get_taxonomy,
    load_b2b_tree,
)
from jobcore.warmup import one_time_load

RULES_FILE = Path(__file__).resolve().parent / "rules.json"
COMPANIES_FILE = DATA_DIR / "catalog" / "sp500_constituents.csv"

_TOKEN = re.compile(r"[a-z0-9]+")
_COMPANY_SUFFIX = re.compile(
    r"(,?\s+(?:(?:&|and)\s+)?(inc\.?|incorporated|corporation|corp\.?|company|co\.|holdings|group|plc|ltd\.?|"
    r"technologies|\(class [a-z]\)))+\s*$",
    re.IGNORECASE,
)
_MAX_PHRASE_TOKENS = 8


class NoRuleMatched(Exception):
    """No rule of the engine matches a topic; the message says what was tried."""


@dataclass(frozen=True)
class RuleMatch:
    """The outcome of classifying one topic: the fields and the rule that set them."""

    classification: Classification
    rule_id: str
    phrase: str


@dataclass(frozen=True)
class _Entry:
    priority: tuple[int, int, int, int]
    requires: str | None
    classification: Classification
    rule_id: str
    phrase: str


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str | None) -> tuple[str, ...]:
    """Normalised words of a text: lower case, '&' as 'and', simple plural stripping."""
    if not text:
        return ()
    text = text.lower().replace("&", " and ").replace("'", "")
    return tuple(_stem(w) for w in _TOKEN.findall(text))


def _ngrams(words: tuple[str, ...]):
    for size in range(min(len(words), _MAX_PHRASE_TOKENS), 0, -1):
        for start in range(len(words) - size + 1):
            yield words[start:start + size]


def clean_company_name(name: str) -> str:
    """'Oracle Corporation' -> 'Oracle', 'Alphabet Inc. (Class A)' -> 'Alphabet',
    'McCormick & Company' -> 'McCormick' (not 'McCormick &').
    """
    return _COMPANY_SUFFIX.sub("", name).strip()


class RuleEngine:
    """Compiled rules: phrase -> candidate classifications, looked up by word n-grams."""

    def __init__(self, ruleset: dict, taxonomy: Taxonomy, b2b_tree: dict,
                 companies: list[tuple[str, str, str]]) -> None:
        self.version: str = ruleset["version"]
        self._ruleset = ruleset
        self._taxonomy = taxonomy
        self._cues = {kind: {tokens(p) for p in phrases}
                      for kind, phrases in ruleset["cues"].items()}
        self._b2b_parents = set(ruleset.get("b2b_parent_categories", []))
        self._ignored_parts = {tokens(p) for p in ruleset.get("ignored_label_parts", [])}
        self._index: dict[tuple[str, ...], list[_Entry]] = {}
        self._seq = 0
        for order, rule in enumerate(ruleset["rules"]):
            self._compile(order, rule, b2b_tree, companies)

    # -- compiling -----------------------------------------------------------------
    def _add(self, order: int, rule: dict, phrase: str, target: Classification, depth: int) -> None:
        words = tokens(phrase)
        if not words or words in self._ignored_parts or (
                len(words) == 1 and (words[0].isdigit() or len(words[0]) == 1)):
            return  # a lone number ("$0") or letter ("R&B" -> "B") would match too much
        self._seq += 1
        entry = _Entry((order, -len(words), -depth, self._seq), rule.get("requires"), target,
                       rule["id"], phrase)
        self._index.setdefault(words, []).append(entry)

    def _segment_type(self, taxonomy_type: str, parent: str) -> str:
        if taxonomy_type == "Business Technology":
            return "b2b"
        if taxonomy_type == "Demographic":
            return "b2c"
        return "b2b" if parent in self._b2b_parents else "b2c"

    def _node_target(self, path: tuple[str, ...]) -> Classification:
        audience = {"Demographic": "demographic", "Interest": "interest",
                    "Purchase Intent": "intent", "Business Technology": "technographic"}
        return Classification(
            segment_type=self._segment_type(path[0], path[1]),
            taxonomy_type=path[0],
            parent_category=path[1],
            subcategory=path[-1] if len(path) >= 3 else None,
            audience_type=audience[path[0]],
        )

    def _compile(self, order: int, rule: dict, b2b_tree: dict,
                 companies: list[tuple[str, str, str]]) -> None:
        kind = rule.get("generate")
        if kind is None:
            target = Classification.from_mapping(rule["set"])
            for phrase in rule["phrases"]:
                self._add(order, rule, phrase, target, 0)
        elif kind in ("iab_labels", "iab_label_parts", "b2b_labels"):
            tier1 = rule.get("tier1", "Business Technology")
            nodes = sorted((n for n in self._taxonomy.nodes.values()
                            if n.level >= 2 and n.taxonomy_type == tier1),
                           key=lambda n: (-n.level, n.id))
            for node in nodes:
                target = self._node_target(node.path)
                labels = [node.label]
                if kind == "iab_label_parts":
                    labels = [p for p in re.split(r"\s+and\s+|&|/|,|\(|\)", node.label)
                              if p.strip() and p.strip() != node.label]
                for label in labels:
                    self._add(order, rule, label, target, node.level)
        elif kind == "companies":
            overrides = b2b_tree["company_overrides"]
            mapping = b2b_tree["gics_sub_industry_map"]
            for name, sector, sub_industry in companies:
                short = clean_company_name(name)
                place = overrides.get(short) or (
                    mapping.get(sub_industry) if sector in b2b_tree["company_sectors"] else None)
                if place:
                    target = self._node_target((b2b_tree["taxonomy_type"], *place))
                    self._add(order, rule, short, target, 3)
        else:
            raise ValueError(f"rule {rule['id']!r}: unknown generator {kind!r}")

    # -- classifying ---------------------------------------------------------------
    def _best(self, grams: list[tuple[str, ...]], cues: dict[str, bool]) -> _Entry | None:
        best: _Entry | None = None
        index = self._index
        for gram in grams:
            for entry in index.get(gram, ()):
                if best is not None and entry.priority >= best.priority:
                    continue
                req = entry.requires
                if req is not None and (
                    (req == "intent" and not cues["intent"])
                    or (req == "no_intent" and cues["intent"])
                    or (req == "business" and not cues["business"])
                ):
                    continue
                best = entry
        return best

    def classify(self, name: str, description: str | None = None) -> RuleMatch:
        """Classify one topic; raises NoRuleMatched when no rule applies."""
        name_words = tokens(name)
        if not name_words:
            raise NoRuleMatched("the name has no words to match")
        grams = list(_ngrams(name_words))
        gram_set = set(grams)
        cues = {kind: not phrases.isdisjoint(gram_set) for kind, phrases in self._cues.items()}
        best = self._best(grams, cues)
        if best is None and description:
            best = self._best(list(_ngrams(tokens(description))), cues)
        if best is None:
            raise NoRuleMatched(f"no rule of {self.version} matches the name {name!r}")
        return RuleMatch(best.classification, best.rule_id, best.phrase)


def load_companies(path: Path = COMPANIES_FILE) -> list[tuple[str, str, str]]:
    """(name, GICS sector, GICS sub-industry) of the bundled S&P 500 list."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["Security"], row["GICS Sector"], row["GICS Sub-Industry"])
                for row in csv.DictReader(handle)]


def load_ruleset(path: Path = RULES_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


RULES_LOAD = "the classification rules"  # a one-time load, as pages name it (jobcore.warmup)


@lru_cache(maxsize=1)
def get_rule_engine() -> RuleEngine:
    """The process-wide rule engine built from the bundled rules and trees (a one-time load:
    its seconds are left out of the first chunk's rate).
    """
    with one_time_load(RULES_LOAD):
        return RuleEngine(load_ruleset(), get_taxonomy(), load_b2b_tree(), load_companies())
