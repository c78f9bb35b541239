"""A sweep's view of the catalogue around the topics it sweeps: each topic's candidates with
both scores (lexical index and stored embeddings in hybrid matching, nearest embeddings in
semantic matching), the winner-rule facts of the topics that may join a cluster, the pairs
analysts marked not duplicates or Claude judged different, and what the guards and the
same-subject rule allow. Fetched in batches as a sweep needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup import guards
from jobcore.dedup.guards import compatible, markers
from jobcore.dedup.lexical import LexicalIndex
from jobcore.dedup.proposals import Evidence, pair_evidence, pair_key
from jobcore.dedup.search import (
    NEIGHBOURS_PER_QUERY,
    Searchers,
    embedded_names,
    id_array,
    pair_similarities,
)
from jobcore.dedup.thresholds import (
    HYBRID,
    LEXICAL_NEIGHBOURS,
    REPORTED_FROM,
    SEMANTIC,
    SEMANTIC_WEIGHT,
    pair_score,
)


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


_CANDIDATES = sa.text(
    """
    SELECT t.id, t.name,
           (SELECT count(*) FROM org_topics o WHERE o.topic_id = t.id)
           + (SELECT count(*) FROM activations a
              WHERE a.topic_id = t.id AND a.status <> 'removed') AS links,
           t.classification_version IS NOT NULL AS classified, t.created_at
    FROM topics t WHERE t.id = ANY(CAST(:ids AS bigint[]))
    """
)

_NOT_DUPLICATES = sa.text(
    """
    SELECT low_topic_id, high_topic_id FROM not_duplicate_pairs
    WHERE low_topic_id = ANY(CAST(:ids AS bigint[]))
    UNION SELECT low_topic_id, high_topic_id FROM not_duplicate_pairs
    WHERE high_topic_id = ANY(CAST(:ids AS bigint[]))
    """
)


def candidates(conn: Connection, topic_ids: set[int]) -> dict[int, Candidate]:
    rows = conn.execute(_CANDIDATES, {"ids": id_array(sorted(topic_ids))})
    return {row.id: Candidate(row.id, row.name, row.links, row.classified, row.created_at)
            for row in rows}


def marked_not_duplicates(conn: Connection, topic_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The pairs an analyst marked "not duplicates" that hold one of these topics."""
    return set(conn.execute(_NOT_DUPLICATES, {"ids": id_array(sorted(topic_ids))}).tuples())


class Neighbourhoods:
    """Candidates with their scores and names; and for the topics that may join a cluster
    (the swept ones and their candidates at or above the threshold) the winner-rule facts,
    the pairs marked not duplicates and earlier clustering. Fetched in batches as needed.
    """

    def __init__(self, conn: Connection, searchers: Searchers, lexicon: LexicalIndex,
                 mode: str, threshold: float, clustered: set[int],
                 clustered_before: Callable[[set[int]], dict[int, float]],
                 judged_different: Callable[[set[int]], set[tuple[int, int]]] = lambda ids: set(),
                 upper: float = 1.0, load_from: float | None = None) -> None:
        self.conn, self.searchers, self.lexicon = conn, searchers, lexicon
        # close() lists the candidates scoring ``threshold`` or more; the winner-rule facts
        # are read for those scoring ``load_from`` or more (a band below the threshold)
        self.mode, self.threshold = mode, threshold
        self.load_from = threshold if load_from is None else min(load_from, threshold)
        self.clustered, self.clustered_before = clustered, clustered_before
        # pairs judged different that are kept apart below ``upper``
        self.judged_different_of, self.upper = judged_different, upper
        self.judged_different: set[tuple[int, int]] = set()
        self.near: dict[int, list[tuple[int, float]]] = {}
        self.names: dict[int, str] = {}
        self.scores: dict[tuple[int, int], tuple[float, float]] = {}  # semantic, lexical
        self.marks: dict[int, guards.Markers] = {}
        self.info: dict[int, Candidate] = {}
        self.marked_apart: set[tuple[int, int]] = set()
        # pairs the guards and the subject rule allow (names and markers are fixed a step)
        self.guarded: dict[tuple[int, int], bool] = {}
        # names less alike than this cannot score the threshold or REPORTED_FROM
        lowest = min(self.load_from, REPORTED_FROM[HYBRID])
        self.lexical_floor = max(0.0, (lowest - SEMANTIC_WEIGHT) / (1 - SEMANTIC_WEIGHT))

    def load(self, topic_ids: list[int]) -> None:
        wanted = [i for i in dict.fromkeys(topic_ids) if i not in self.near]
        if not wanted:
            return
        found = self._candidates(wanted, NEIGHBOURS_PER_QUERY)
        # semantic matching: more neighbours above the threshold than one query returns,
        # search wider (hybrid matching has the lexical candidates for crowded names)
        saturated = [s for s in wanted if self.mode == SEMANTIC
                     and self._saturated(s, found.get(s, []))]
        if saturated:
            found.update(self._candidates(saturated, NEIGHBOURS_PER_QUERY * 16))
        involved = set(wanted)
        for topic_id in wanted:
            self.near[topic_id] = sorted(
                ((i, self.score(topic_id, i)) for i in found.get(topic_id, [])),
                key=lambda item: (-item[1], item[0]))
            involved.update(i for i, _ in self.near[topic_id])
        for topic_id in involved - self.marks.keys():
            if topic_id in self.names:
                self.marks[topic_id] = markers(self.names[topic_id])
        may_join = {i for t in wanted if t in self.names
                    for i in (t, *(n for n, s in self.near[t] if s >= self.load_from))}
        new = may_join - self.info.keys()
        if new:  # the three reads overlap: committed rows only, on two connections
            facts = self.searchers.on_other(candidates, new)
            self.marked_apart |= marked_not_duplicates(self.conn, new)
            self.judged_different |= self.judged_different_of(new)
            self.clustered.update(self.clustered_before(new))  # in place: shared with sweep()
            self.info.update(facts.result())

    def _candidates(self, topic_ids: list[int], k: int) -> dict[int, list[int]]:
        """Each topic's candidates, with both scores of every pair recorded: in semantic
        matching its ``k`` nearest embeddings; in hybrid matching the lexical index's
        candidates at or above the lexical similarity a pair needs to reach the reported
        scores (exact: see the module docstring), their cosines read for the pairs.
        """
        if self.mode == SEMANTIC:
            found = self.searchers.nearest(topic_ids, k=k, names=self.names)
            semantic = {pair_key(s, i): sim for s, ns in found.items() for i, sim in ns}
            self._score([p for p in semantic if p not in self.scores], semantic, {})
            return {s: [i for i, _ in ns] for s, ns in found.items()}
        unnamed = [t for t in topic_ids if t not in self.names]
        self.names.update(embedded_names(self.conn, unnamed))
        named = {s: self.names[s] for s in topic_ids if s in self.names}
        known: dict[tuple[int, int], float] = {}  # lexical scores the index search computed
        lexical: dict[int, list[int]] = {}
        for s, found_lexical in self.lexicon.candidates(
                named, LEXICAL_NEIGHBOURS, self.lexical_floor).items():
            lexical[s] = [i for i, _ in found_lexical]
            known.update((pair_key(s, i), score) for i, score in found_lexical)
        wanted = [(s, i) for s, ids in lexical.items() for i in ids
                  if pair_key(s, i) not in self.scores]
        semantic = {}
        for (s, i), (similarity, name) in pair_similarities(self.conn, wanted).items():
            semantic[pair_key(s, i)] = similarity
            self.names[i] = name
        self._score(list(semantic), semantic, known)
        return {s: [i for i in ids if pair_key(s, i) in self.scores]
                for s, ids in lexical.items()}

    def _score(self, new: list[tuple[int, int]], semantic: dict[tuple[int, int], float],
               known: dict[tuple[int, int], float]) -> None:
        # a score the index search computed stands where the index holds the current names
        reused = {p for p in new if p in known
                  and all(self.lexicon.holds(t, self.names[t]) for t in p)}
        fresh = [p for p in new if p not in reused]
        lexical_scores = dict(zip(fresh, self.lexicon.similarities(
            [(self.names[a], self.names[b]) for a, b in fresh]), strict=True))
        for pair in new:
            self.scores[pair] = (semantic[pair],
                                 known[pair] if pair in reused else lexical_scores[pair])

    def _saturated(self, topic_id: int, listed: list[int]) -> bool:
        vector = listed[:NEIGHBOURS_PER_QUERY]
        if len(vector) < NEIGHBOURS_PER_QUERY:
            return False
        weakest = min(vector, key=lambda i: self.scores[pair_key(topic_id, i)][0])
        return self.score(topic_id, weakest) >= self.load_from  # the lowest floor asked

    def score(self, a: int, b: int) -> float:
        return pair_score(self.mode, *self.scores[pair_key(a, b)])

    def evidence(self, a: int, b: int) -> Evidence:
        return pair_evidence(self.names[a], self.names[b], *self.scores[pair_key(a, b)])

    def allowed(self, a: int, b: int) -> bool:
        key = pair_key(a, b)
        if key in self.marked_apart:
            return False
        if key in self.judged_different and (key not in self.scores
                                             or self.score(a, b) < self.upper):
            return False  # judged different (two losers need not have been scored)
        found = self.guarded.get(key)
        if found is None:  # asked again and again by the clustering: decided once a step
            found = compatible(self.marks[a], self.marks[b]) and \
                self.lexicon.same_subject(self.names[a], self.names[b])
            self.guarded[key] = found
        return found

    def consistent(self, ranked: list[tuple[int, float]],
                   held: tuple[tuple[int, float], ...] = ()) -> tuple[tuple[int, float], ...]:
        """The losers, best first, leaving out one whose markers contradict a loser kept
        before it ("... 2024" and "... 2025" may each match "..." but not each other) or one
        the cluster ``held`` already.
        """
        kept: list[tuple[int, float]] = list(held)
        for topic_id, similarity in ranked:
            if all(self.allowed(topic_id, other) for other, _ in kept):
                kept.append((topic_id, similarity))
        return tuple(kept[len(held):])

    def best(self, topic_id: int) -> float:
        """The topic's best score with a candidate it may be a duplicate of."""
        return max((s for i, s in self.near[topic_id] if self.allowed(topic_id, i)),
                   default=0.0)

    def close(self, topic_id: int, floor: float | None = None) -> list[tuple[int, float]]:
        """The candidates the topic may be a duplicate of, scoring ``floor`` (by default
        the threshold) or more, best first.
        """
        floor = self.threshold if floor is None else floor
        return [(i, s) for i, s in self.near[topic_id]
                if s >= floor and self.allowed(topic_id, i)]
