"""Near-duplicate topics: neighbour search, the clustering and winner rules, and the
"not duplicates" list.

Similarity is cosine similarity of the topics' embeddings (1 - pgvector's ``<=>``).

- **Search.** A topic's neighbours come from jobcore.dedup.search (HNSW or exact).
- **Guards.** Two topics for different markets (" - UK" against " - US" or none) or whose
  numbers contradict ("$40,000-$49,999" against "$50,000-$74,999", "Adults 25-34" against
  "Adults 35-44", "Windows 10" against "Windows 11") are distinct segments however close
  their wording, and are never proposed; numbers one name lacks or repeats do not
  contradict (see ``compatible``). Nor is a pair an analyst marked "not duplicates"
  proposed.
- **Clusters do not chain.** A cluster is a star around its winner: every loser is at least
  ``threshold`` similar to the winner itself. Sweeping topic S (not yet in a cluster of
  this sweep): the group is S and its neighbours not yet in a cluster; the group's winner W
  is chosen by the winner rule; the cluster is W and W's own neighbours not yet in a cluster
  (S among them). A~B, B~C with A and C far apart gives {B: A, C} when B wins and {A: B}
  when A wins (C then stays alone: C is not close to A).
- **Winner rule** (reproducible): most org links plus activations, then classified before
  unclassified, then the oldest, then the lowest id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from jobcore.dedup.search import NEIGHBOURS_PER_QUERY, Searchers
from jobcore.errors import UsageError
from jobcore.schema import not_duplicate_pairs

DEFAULT_THRESHOLD = 0.95

_MARKET = re.compile(r"\s-\s*([A-Za-z]{2})\s*$")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Markers:
    """What must not contradict for two names to be duplicates: the market code and the
    set of numbers in the name (repeats folded, thousands separators dropped).
    """

    market: str
    numbers: frozenset[str]


@lru_cache(maxsize=200_000)  # a name comes back as a neighbour in chunk after chunk
def markers(name: str) -> Markers:
    """The market code and numbers of a topic name."""
    market = _MARKET.search(name)
    numbers = frozenset(n.replace(",", "") for n in _NUMBER.findall(name))
    return Markers(market.group(1).upper() if market else "", numbers)


def compatible(a: Markers, b: Markers) -> bool:
    """Whether two names' markers allow a duplicate: the same market (or none on both),
    and numbers that do not contradict: one name's numbers all appear in the other's
    ("PV375 375-Watt ... PV375" against "375-Watt ... PV375", "5 Port 10/100 Switch -
    FS105" against "FS105 Switch"). Different age or income bands, versions ("Windows 10"
    against "Windows 11") or markets contradict.
    """
    return a.market == b.market and (a.numbers <= b.numbers or b.numbers <= a.numbers)


_WORDS = re.compile(r"[a-z0-9]+")


def _trigrams(name: str) -> frozenset[str]:
    text = " ".join(_WORDS.findall(name.casefold()))
    return frozenset(text[i:i + 3] for i in range(max(len(text) - 2, 1)))


@dataclass(frozen=True)
class Evidence:
    """Why two topics look like duplicates: the embeddings' similarity, how much their
    names share (Jaccard of character trigrams, case and punctuation aside), and the
    numbers both names carry.
    """

    semantic: float
    name_overlap: float
    shared_numbers: tuple[str, ...]


def pair_evidence(name_a: str, name_b: str, similarity: float) -> Evidence:
    """The evidence of one proposed pair (see Evidence)."""
    a, b = _trigrams(name_a), _trigrams(name_b)
    overlap = len(a & b) / len(a | b) if a | b else 0.0
    shared = markers(name_a).numbers & markers(name_b).numbers
    return Evidence(similarity, overlap, tuple(sorted(shared, key=lambda n: (len(n), n))))


def pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Candidate:
    """A topic that may be in a cluster, with what the guards and the winner rule read."""

    id: int
    name: str
    links: int  # org links + activations
    classified: bool
    created_at: Any

    @property
    def winner_key(self) -> tuple:
        return (-self.links, not self.classified, self.created_at, self.id)


@dataclass(frozen=True)
class Cluster:
    """A winner and its losers, each loser with its similarity to the winner."""

    winner: int
    losers: tuple[tuple[int, float], ...]

    @property
    def weakest(self) -> float:
        return min(s for _, s in self.losers)

    @property
    def members(self) -> tuple[int, ...]:
        return (self.winner, *(i for i, _ in self.losers))

    def to_json(self) -> dict[str, Any]:
        return {"winner": self.winner,
                "losers": [{"id": i, "similarity": round(s, 6)} for i, s in self.losers]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cluster:
        return cls(int(data["winner"]),
                   tuple((int(m["id"]), float(m["similarity"])) for m in data["losers"]))


_CANDIDATES = sa.text(
    """
    SELECT t.id, t.name,
           (SELECT count(*) FROM org_topics o WHERE o.topic_id = t.id)
           + (SELECT count(*) FROM activations a
              WHERE a.topic_id = t.id AND a.status <> 'removed') AS links,
           t.classification_version IS NOT NULL AS classified, t.created_at
    FROM topics t WHERE t.id = ANY(:ids)
    """
)

_NOT_DUPLICATES = sa.text(
    """
    SELECT low_topic_id, high_topic_id FROM not_duplicate_pairs
    WHERE low_topic_id = ANY(:ids) AND high_topic_id = ANY(:ids)
    """
)


def candidates(conn: Connection, topic_ids: set[int]) -> dict[int, Candidate]:
    rows = conn.execute(_CANDIDATES, {"ids": sorted(topic_ids)})
    return {row.id: Candidate(row.id, row.name, row.links, row.classified, row.created_at)
            for row in rows}


def refused_pairs(conn: Connection, topic_ids: set[int]) -> set[tuple[int, int]]:
    """The pairs among these topics an analyst marked "not duplicates"."""
    return set(conn.execute(_NOT_DUPLICATES, {"ids": sorted(topic_ids)}).tuples())


@dataclass
class SweepStep:
    """What one chunk of a sweep found."""

    clusters: list[Cluster]
    # each swept topic's closest neighbour that the market/number guard allows (pairs marked
    # not duplicates are left out at or above the threshold, where they matter); for a topic
    # an earlier chunk placed, its similarity in that cluster
    best_similarity: dict[int, float]
    already_clustered: set[int]  # swept topics that earlier chunks had placed


class _Neighbourhoods:
    """Neighbours and names; and for the topics that may join a cluster (the swept ones and
    their neighbours at or above the threshold) the winner-rule facts, the pairs marked
    not duplicates and earlier clustering. Fetched in batches as needed.
    """

    def __init__(self, conn: Connection, searchers: Searchers, threshold: float,
                 clustered: set[int],
                 clustered_before: Callable[[set[int]], dict[int, float]]) -> None:
        self.conn, self.searchers, self.threshold = conn, searchers, threshold
        self.clustered, self.clustered_before = clustered, clustered_before
        self.near: dict[int, list[tuple[int, float]]] = {}
        self.names: dict[int, str] = {}
        self.marks: dict[int, Markers] = {}
        self.info: dict[int, Candidate] = {}
        self.refused: set[tuple[int, int]] = set()

    def load(self, topic_ids: list[int]) -> None:
        wanted = [i for i in dict.fromkeys(topic_ids) if i not in self.near]
        if not wanted:
            return
        found = self.searchers.nearest(wanted, names=self.names)
        saturated = [s for s, ns in found.items()
                     if len(ns) >= NEIGHBOURS_PER_QUERY and ns[-1][1] >= self.threshold]
        if saturated:  # more neighbours above the threshold than one query returns
            found.update(self.searchers.nearest(saturated, k=NEIGHBOURS_PER_QUERY * 16,
                                                names=self.names))
        involved = set(wanted)
        for topic_id in wanted:
            self.near[topic_id] = found.get(topic_id, [])
            involved.update(i for i, _ in self.near[topic_id])
        for topic_id in involved - self.marks.keys():
            if topic_id in self.names:
                self.marks[topic_id] = markers(self.names[topic_id])
        may_join = {i for t in wanted if t in self.names
                    for i in (t, *(n for n, s in self.near[t] if s >= self.threshold))}
        new = may_join - self.info.keys()
        if new:  # the three reads overlap: committed rows only, on two connections
            facts = self.searchers.on_other(candidates, new)
            self.refused |= refused_pairs(self.conn, set(self.info) | new)
            self.clustered.update(self.clustered_before(new))  # in place: shared with sweep()
            self.info.update(facts.result())

    def allowed(self, a: int, b: int) -> bool:
        return pair_key(a, b) not in self.refused and compatible(self.marks[a], self.marks[b])

    def consistent(self, ranked: list[tuple[int, float]]) -> tuple[tuple[int, float], ...]:
        """The losers, best first, leaving out one whose markers contradict a loser kept
        before it ("... 2024" and "... 2025" may each match "..." but not each other).
        """
        kept: list[tuple[int, float]] = []
        for topic_id, similarity in ranked:
            if all(self.allowed(topic_id, other) for other, _ in kept):
                kept.append((topic_id, similarity))
        return tuple(kept)

    def close(self, topic_id: int) -> list[tuple[int, float]]:
        return [(i, s) for i, s in self.near[topic_id]
                if s >= self.threshold and self.allowed(topic_id, i)]


def sweep(conn: Connection, source_ids: list[int], *, threshold: float, method: str,
          clustered_before: Callable[[set[int]], dict[int, float]] = lambda ids: {}
          ) -> SweepStep:
    """Clusters for these topics (in order), leaving out topics in a cluster already:
    ``clustered_before(ids)`` says which of ``ids`` earlier chunks placed, with their
    similarity in that cluster (they are not searched again). See the module docstring for
    the rules.
    """
    with Searchers(conn, method) as searchers:
        return _sweep(conn, searchers, source_ids, threshold, clustered_before)


def _sweep(conn: Connection, searchers: Searchers, source_ids: list[int], threshold: float,
           clustered_before: Callable[[set[int]], dict[int, float]]) -> SweepStep:
    placed = clustered_before(set(source_ids))
    clustered: set[int] = set(placed)
    best: dict[int, float] = dict(placed)
    hoods = _Neighbourhoods(conn, searchers, threshold, clustered, clustered_before)
    hoods.load([s for s in source_ids if s not in placed])
    already = set(placed)
    for source in source_ids:
        if source in placed:
            continue
        allowed = [s for i, s in hoods.near.get(source, []) if hoods.allowed(source, i)]
        if allowed:
            best[source] = allowed[0]

    def winner_of(source: int) -> int:
        group = [source, *(i for i, _ in hoods.close(source) if i not in clustered)]
        return min(group, key=lambda i: hoods.info[i].winner_key)

    # the winners' own neighbourhoods, fetched in one go (winners that change as clusters
    # form within the chunk are fetched when met)
    hoods.load([winner_of(s) for s in source_ids if s in hoods.info and s not in clustered])
    clusters = []
    for source in source_ids:
        if source in clustered or source not in hoods.info:
            continue
        if not any(i not in clustered for i, _ in hoods.close(source)):
            continue
        winner = winner_of(source)
        hoods.load([winner])
        members = dict(hoods.close(winner))
        if winner != source:  # the index may miss the reverse direction; the pair holds
            members.setdefault(source, dict(hoods.close(source))[winner])
        ranked = sorted(((i, s) for i, s in members.items() if i not in clustered),
                        key=lambda item: (-item[1], item[0]))
        cluster = Cluster(winner, hoods.consistent(ranked))
        clustered.update(cluster.members)
        clusters.append(cluster)
    return SweepStep(clusters, best, already)


def mark_not_duplicates(conn: Connection, a: int, b: int, *, created_by: str,
                        job_id: str | None = None) -> None:
    """Remember that topics ``a`` and ``b`` are not duplicates (idempotent)."""
    if a == b:
        raise UsageError("A topic cannot be marked 'not a duplicate' of itself.")
    low, high = pair_key(a, b)
    conn.execute(insert(not_duplicate_pairs)
                 .values(low_topic_id=low, high_topic_id=high, job_id=job_id,
                         created_by=created_by)
                 .on_conflict_do_nothing())
