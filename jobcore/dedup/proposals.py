"""What a proposed pair carries and how clusters are stored: the identifiers two names share
or only one carries, both similarities, Claude's verdict on an uncertain pair, and a
cluster (a winner and its losers, each with its score and evidence) as kept in a sweep's
result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jobcore.dedup import guards
from jobcore.dedup.guards import markers


def identifiers(name: str) -> frozenset[str]:
    """The numbers, model codes (normalised), versions, bands, generation and market of a
    name, as the guards read them.
    """
    marks = markers(name)
    found = set(marks.numbers) | {f"code {c}" for c in marks.codes} | {
        f"version {v}" for v in marks.versions} | {
        f"band {guards.band_text(b)}" for b in marks.bands}
    if marks.market:
        found.add(f"market {marks.market}")
    if marks.generation:
        found.add(f"generation {marks.generation}")
    return frozenset(found)


def _ordered(values: set[str] | frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(values, key=lambda v: (len(v), v)))


@dataclass(frozen=True)
class ClaudeVerdict:
    """Claude's "same" about a pair the matcher was unsure of (jobcore.dedup.verify)."""

    confidence: float
    reason: str
    earlier: bool = False  # given in an earlier sweep (remembered, not asked again)

    def to_json(self) -> dict[str, Any]:
        return {"confidence": round(self.confidence, 4), "reason": self.reason,
                "earlier": self.earlier}


@dataclass(frozen=True)
class Evidence:
    """Why two topics look like duplicates: the embeddings' cosine similarity, the names'
    lexical similarity, the identifiers both names carry and those only one carries (never
    contradicting ones: the guards refuse those pairs); for a pair in the uncertain band,
    Claude's verdict.
    """

    semantic: float | None
    lexical: float | None
    shared: tuple[str, ...]
    unshared: tuple[str, ...]
    claude: ClaudeVerdict | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "semantic": None if self.semantic is None else round(self.semantic, 6),
            "lexical": None if self.lexical is None else round(self.lexical, 6),
            "shared": list(self.shared), "unshared": list(self.unshared)}
        if self.claude is not None:
            data["claude"] = self.claude.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        claude = data.get("claude")
        return cls(data.get("semantic"), data.get("lexical"), tuple(data.get("shared", ())),
                   tuple(data.get("unshared", ())),
                   ClaudeVerdict(float(claude["confidence"]), claude["reason"],
                                 bool(claude.get("earlier"))) if claude else None)


def pair_evidence(name_a: str, name_b: str, semantic: float | None,
                  lexical: float | None) -> Evidence:
    """The evidence of one pair (see Evidence)."""
    a, b = identifiers(name_a), identifiers(name_b)
    return Evidence(semantic, lexical, _ordered(a & b), _ordered(a ^ b))


def pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Cluster:
    """A winner and its losers, each loser with its score against the winner and, for
    clusters a sweep proposed, the evidence behind that score.
    """

    winner: int
    losers: tuple[tuple[int, float], ...]
    evidence: Mapping[int, Evidence] = field(default_factory=dict, compare=False, hash=False)

    @cached_property  # the Dedup screen sorts every cluster of a sweep by it
    def weakest(self) -> float:
        return min(s for _, s in self.losers)

    @cached_property  # read for every cluster of a sweep each time its screen opens
    def members(self) -> tuple[int, ...]:
        return (self.winner, *(i for i, _ in self.losers))

    def to_json(self) -> dict[str, Any]:
        return {"winner": self.winner, "losers": [
            {"id": i, "score": round(s, 6),
             **(self.evidence[i].to_json() if i in self.evidence else {})}
            for i, s in self.losers]}

    @classmethod
    def from_columns(cls, winner: int, loser_ids: list[int], scores: list[float],
                     losers_json: str) -> Cluster:
        """A cluster as a sweep's table row holds it, its evidence read from ``losers_json``
        (the losers as stored) only when asked for: a screen lists every cluster of a sweep
        and shows the evidence of a few.
        """
        return cls(int(winner), tuple(zip(map(int, loser_ids), map(float, scores),
                                          strict=True)), LazyEvidence(losers_json))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cluster:
        losers = data["losers"]
        return cls(int(data["winner"]),
                   tuple((int(m["id"]), float(m["score"])) for m in losers),
                   {int(m["id"]): Evidence.from_json(m) for m in losers if "semantic" in m})


class LazyEvidence(Mapping[int, Evidence]):
    """The evidence of a cluster's losers, parsed from their stored JSON on first use."""

    def __init__(self, losers_json: str) -> None:
        self._json: str | None = losers_json
        self._parsed: dict[int, Evidence] = {}

    def _evidence(self) -> dict[int, Evidence]:
        if self._json is not None:
            self._parsed = {int(m["id"]): Evidence.from_json(m)
                            for m in json.loads(self._json) if "semantic" in m}
            self._json = None
        return self._parsed

    def __getitem__(self, topic_id: int) -> Evidence:
        return self._evidence()[topic_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._evidence())

    def __len__(self) -> int:
        return len(self._evidence())
