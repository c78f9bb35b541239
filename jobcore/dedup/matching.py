"""Near-duplicate topics: candidates, the pair score, the clustering and winner rules, and
the "not duplicates" list.

- **Candidates.** In hybrid matching, the lexical index's: every topic of the same market
  and qualifiers whose name shares the topic's subject (see below) and is at least as alike
  as a pair needs to score ``REPORTED_FROM`` (0.50, the lowest reported score; the
  semantic part weighs 0.25, so a lexical similarity of 1/3), with the cosine of each pair
  read from the stored embeddings. This set is exact for every threshold a sweep allows
  (0.50 and up), so a pair the embedding ranks low but the names share (a model code, a
  rare word) is found, and a pair the names do not share could not score the threshold;
  the vector index is not searched. In semantic matching, the nearest embeddings
  (jobcore.dedup.search: HNSW or exact).
- **Score.** ``hybrid`` (the default): ``SEMANTIC_WEIGHT`` x the embeddings' cosine
  similarity + the rest x the names' lexical similarity (TF-IDF of character trigrams),
  threshold 0.60. ``semantic``: the cosine similarity alone over the embedding's
  neighbours, threshold 0.95 (the first sweeps' behaviour). Each proposed pair keeps its
  evidence: both scores and the identifiers (numbers, model codes, market) the names share
  or only one carries.
- **Guards.** Two topics for different markets (" - UK" against " - US" or none) or
  audiences ("Affluent ..." against "Senior ..." or none; purchase intent against
  interest), or whose numbers contradict
  ("$40,000-$49,999" against "$50,000-$74,999", "Adults 25-34" against "Adults 35-44",
  "Windows 10" against "Windows 11") are distinct segments however close their wording,
  and are never proposed; numbers one name lacks or repeats do not contradict (see
  ``compatible``). Nor is a pair an analyst marked "not duplicates" proposed, nor one
  Claude judged different scoring below the threshold (a sweep that verifies its uncertain
  pairs: jobcore.dedup.verify).
- **Band.** A sweep that verifies (``band_from``) first clusters at the threshold as above,
  then lets those clusters take losers scoring from ``band_from`` up and forms new stars of
  such pairs (``_band_pass``), by the same rules; a winner never becomes a loser.
- **Same subject.** Each name's most distinctive word (its rarest one that some other name
  holds too) must appear in the other name, whole or shortened ("Tech", "Mgmt", a plural):
  "Suburban Intuit Administrators" and "Suburban Qualcomm Administrators" share a wording,
  not a subject (jobcore.dedup.lexical's ``same_subject``).
- **Best match.** A topic joins a winner only if that pair scores within
  ``BEST_MATCH_MARGIN`` of the topic's best candidate pair: it is proposed as a duplicate of
  the topic it most resembles, not of every topic above the threshold (a new version of a
  product is closer to itself than to the old one).
- **Clusters do not chain.** A cluster is a star around its winner: every loser scores at
  least ``threshold`` with the winner itself. Sweeping topic S (not yet in a cluster of
  this sweep): the group is S and the neighbours not yet in a cluster that S best matches
  (within ``BEST_MATCH_MARGIN`` of its best pair); the group's winner W
  is chosen by the winner rule; the cluster is W and W's own neighbours not yet in a cluster
  (S among them). A~B, B~C with A and C far apart gives {B: A, C} when B wins and {A: B}
  when A wins (C then stays alone: C is not close to A).
- **Winner rule** (reproducible): most org links plus activations, then classified before
  unclassified, then the oldest, then the lowest id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from jobcore.dedup import guards
from jobcore.dedup.guards import compatible, markers
from jobcore.dedup.lexical import LexicalIndex
from jobcore.dedup.search import (
    NEIGHBOURS_PER_QUERY,
    Searchers,
    embedded_names,
    id_array,
    pair_similarities,
)
from jobcore.errors import UsageError
from jobcore.schema import not_duplicate_pairs

HYBRID, SEMANTIC = "hybrid", "semantic"
MATCHING_MODES = (HYBRID, SEMANTIC)
DEFAULT_MATCHING = HYBRID
DEFAULT_THRESHOLDS = {HYBRID: 0.60, SEMANTIC: 0.95}
SEMANTIC_WEIGHT = 0.25  # of the hybrid score; the names' lexical similarity weighs the rest
# lexical candidates kept per topic (of its market and qualifiers, sharing its subject):
# deep, as a segment's variants for other audiences and numbers share its name
LEXICAL_NEIGHBOURS = 48
BEST_MATCH_MARGIN = 0.05
# a sweep reports each topic's best candidate score from here up (its histogram), so hybrid
# candidates are every pair that can score this much
REPORTED_FROM = {HYBRID: 0.50, SEMANTIC: 0.80}

def pair_score(mode: str, semantic: float, lexical: float) -> float:
    """The score a pair is clustered by (see the module docstring)."""
    if mode == SEMANTIC:
        return semantic
    return SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * lexical


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
    """A winner and its losers, each loser with its score against the winner (its
    ``similarity``) and, for clusters a sweep proposed, the evidence behind that score.
    """

    winner: int
    losers: tuple[tuple[int, float], ...]
    evidence: dict[int, Evidence] = field(default_factory=dict, compare=False, hash=False)

    @property
    def weakest(self) -> float:
        return min(s for _, s in self.losers)

    @property
    def members(self) -> tuple[int, ...]:
        return (self.winner, *(i for i, _ in self.losers))

    def to_json(self) -> dict[str, Any]:
        return {"winner": self.winner, "losers": [
            {"id": i, "similarity": round(s, 6),
             **(self.evidence[i].to_json() if i in self.evidence else {})}
            for i, s in self.losers]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cluster:
        losers = data["losers"]
        return cls(int(data["winner"]),
                   tuple((int(m["id"]), float(m["similarity"])) for m in losers),
                   {int(m["id"]): Evidence.from_json(m) for m in losers if "semantic" in m})


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


def refused_pairs(conn: Connection, topic_ids: set[int]) -> set[tuple[int, int]]:
    """The pairs an analyst marked "not duplicates" that hold one of these topics."""
    return set(conn.execute(_NOT_DUPLICATES, {"ids": id_array(sorted(topic_ids))}).tuples())


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
    """Candidates with their scores and names; and for the topics that may join a cluster
    (the swept ones and their candidates at or above the threshold) the winner-rule facts,
    the pairs marked not duplicates and earlier clustering. Fetched in batches as needed.
    """

    def __init__(self, conn: Connection, searchers: Searchers, lexicon: LexicalIndex,
                 mode: str, threshold: float, clustered: set[int],
                 clustered_before: Callable[[set[int]], dict[int, float]],
                 declined: Callable[[set[int]], set[tuple[int, int]]] = lambda ids: set(),
                 upper: float = 1.0, load_from: float | None = None) -> None:
        self.conn, self.searchers, self.lexicon = conn, searchers, lexicon
        # close() lists the candidates scoring ``threshold`` or more; the winner-rule facts
        # are read for those scoring ``load_from`` or more (a band below the threshold)
        self.mode, self.threshold = mode, threshold
        self.load_from = threshold if load_from is None else min(load_from, threshold)
        self.clustered, self.clustered_before = clustered, clustered_before
        # pairs judged different that are kept apart below ``upper``
        self.declined_of, self.upper = declined, upper
        self.declined: set[tuple[int, int]] = set()
        self.near: dict[int, list[tuple[int, float]]] = {}
        self.names: dict[int, str] = {}
        self.scores: dict[tuple[int, int], tuple[float, float]] = {}  # semantic, lexical
        self.marks: dict[int, guards.Markers] = {}
        self.info: dict[int, Candidate] = {}
        self.refused: set[tuple[int, int]] = set()
        self.subjects: dict[tuple[int, int], bool] = {}
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
            self.refused |= refused_pairs(self.conn, new)
            self.declined |= self.declined_of(new)
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
        return self.score(topic_id, weakest) >= self.threshold

    def score(self, a: int, b: int) -> float:
        return pair_score(self.mode, *self.scores[pair_key(a, b)])

    def evidence(self, a: int, b: int) -> Evidence:
        return pair_evidence(self.names[a], self.names[b], *self.scores[pair_key(a, b)])

    def allowed(self, a: int, b: int) -> bool:
        key = pair_key(a, b)
        if key in self.refused or not compatible(self.marks[a], self.marks[b]):
            return False
        if key in self.declined and (key not in self.scores or self.score(a, b) < self.upper):
            return False  # judged different (two losers need not have been scored)
        if key not in self.subjects:
            self.subjects[key] = self.lexicon.same_subject(self.names[a], self.names[b])
        return self.subjects[key]

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

    def close(self, topic_id: int) -> list[tuple[int, float]]:
        return [(i, s) for i, s in self.near[topic_id]
                if s >= self.threshold and self.allowed(topic_id, i)]


def sweep(conn: Connection, source_ids: list[int], *, threshold: float, method: str,
          lexicon: LexicalIndex, mode: str = DEFAULT_MATCHING,
          clustered_before: Callable[[set[int]], dict[int, float]] = lambda ids: {},
          declined: Callable[[set[int]], set[tuple[int, int]]] = lambda ids: set(),
          band_from: float | None = None) -> SweepStep:
    """Clusters for these topics (in order), leaving out topics in a cluster already:
    ``clustered_before(ids)`` says which of ``ids`` earlier chunks placed, with their
    score in that cluster (they are not searched again); ``declined(ids)`` lists pairs
    holding one of ``ids`` that are not duplicates unless they score ``threshold`` or more.
    With ``band_from``, the clusters at the threshold (the same as without it) then take
    losers scoring from ``band_from`` up, and new stars form of such pairs (see
    ``_band_pass``). See the module docstring for the rules.
    """
    with Searchers(conn, method) as searchers:
        hoods = _Neighbourhoods(conn, searchers, lexicon, mode, threshold, set(),
                                clustered_before, declined, threshold, band_from)
        step = _sweep(hoods, source_ids)
        if band_from is not None and band_from < threshold:
            hoods.threshold = band_from
            _band_pass(hoods, source_ids, step)
        return step


def _sweep(hoods: _Neighbourhoods, source_ids: list[int]) -> SweepStep:
    placed = hoods.clustered_before(set(source_ids))
    clustered = hoods.clustered
    clustered.update(placed)
    best: dict[int, float] = dict(placed)
    hoods.load([s for s in source_ids if s not in placed])
    already = set(placed)
    for source in source_ids:
        if source in placed:
            continue
        allowed = [s for i, s in hoods.near.get(source, []) if hoods.allowed(source, i)]
        if allowed:
            best[source] = allowed[0]

    def winner_of(source: int) -> int:
        # the source and the neighbours it best matches (one it matches less well would
        # make a winner the best match rule then keeps it from joining)
        floor = hoods.best(source) - BEST_MATCH_MARGIN
        group = [source, *(i for i, s in hoods.close(source)
                           if i not in clustered and s >= floor)]
        return min(group, key=lambda i: hoods.info[i].winner_key)

    # the winners' own neighbourhoods, then those of their close neighbours (for the best
    # match rule), fetched in one go each (winners that change as clusters form within the
    # chunk are fetched when met)
    winners = [winner_of(s) for s in source_ids if s in hoods.info and s not in clustered]
    hoods.load(winners)
    hoods.load([i for w in winners for i, _ in hoods.close(w)])
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
        hoods.load(list(members))
        ranked = sorted(((i, s) for i, s in members.items()
                         if i not in clustered and s >= hoods.best(i) - BEST_MATCH_MARGIN),
                        key=lambda item: (-item[1], item[0]))
        losers = hoods.consistent(ranked)
        if not losers:  # each one's best match is elsewhere
            continue
        cluster = Cluster(winner, losers, {i: hoods.evidence(winner, i) for i, _ in losers})
        clustered.update(cluster.members)
        clusters.append(cluster)
    return SweepStep(clusters, best, already)


def _band_pass(hoods: _Neighbourhoods, source_ids: list[int], step: SweepStep) -> None:
    """After the clusters at the threshold, the pairs scoring from the band's lower edge
    (``hoods.threshold`` is now that edge), with the same rules: a winner of this step keeps
    its cluster and may take more losers but never becomes one (no chaining); a topic whose
    best match is such a winner joins it; other free topics form stars by the winner rule.
    The clusters of ``step`` grow in place.
    """
    clustered = hoods.clustered
    stars = {c.winner: i for i, c in enumerate(step.clusters)}  # this step's winners

    def free(i: int) -> bool:
        return i not in clustered or i in stars

    def winner_of(source: int) -> int:
        if source in stars:
            return source
        floor = hoods.best(source) - BEST_MATCH_MARGIN
        group = [(i, s) for i, s in hoods.close(source) if free(i) and s >= floor]
        held = [i for i, _ in group if i in stars]  # best score first
        if held:
            return held[0]
        return min([source, *(i for i, _ in group)], key=lambda i: hoods.info[i].winner_key)

    for source in source_ids:
        if source not in hoods.info or not free(source):
            continue
        joinable = [i for i, _ in hoods.close(source)  # a free topic, or a winner to join
                    if i not in clustered or (source not in clustered and i in stars)]
        if not joinable:
            continue
        winner = winner_of(source)
        hoods.load([winner])
        members = {i: s for i, s in hoods.close(winner) if i not in clustered}
        if winner != source and source not in clustered:
            members.setdefault(source, hoods.score(source, winner))
        hoods.load(list(members))
        ranked = sorted(((i, s) for i, s in members.items()
                         if i not in clustered and s >= hoods.best(i) - BEST_MATCH_MARGIN),
                        key=lambda item: (-item[1], item[0]))
        held = step.clusters[stars[winner]] if winner in stars else None
        before = held.losers if held is not None else ()
        added = hoods.consistent(ranked, held=before)
        if not added:
            continue
        evidence = {**(held.evidence if held is not None else {}),
                    **{i: hoods.evidence(winner, i) for i, _ in added}}
        cluster = Cluster(winner, (*before, *added), evidence)
        if held is not None:
            step.clusters[stars[winner]] = cluster
        else:
            stars[winner] = len(step.clusters)
            step.clusters.append(cluster)
        clustered.update(cluster.members)


def candidate_pairs(conn: Connection, topic_ids: list[int], *, threshold: float, method: str,
                    lexicon: LexicalIndex, mode: str = DEFAULT_MATCHING
                    ) -> dict[tuple[int, int], float]:
    """The pairs of these topics' candidates that the guards allow and that score at least
    ``threshold``, with their score: what a sweep step can cluster (bench/dedup.py compares
    it with an exact search).
    """
    with Searchers(conn, method) as searchers:
        hoods = _Neighbourhoods(conn, searchers, lexicon, mode, threshold, set(),
                                lambda ids: {})
        hoods.load(topic_ids)
        return {pair_key(t, i): s for t in topic_ids if t in hoods.near
                for i, s in hoods.close(t)}


def unmark_not_duplicates(conn: Connection, a: int, b: int) -> None:
    """Forget a "not duplicates" mark (an analyst's undo); later sweeps may propose the pair."""
    low, high = pair_key(a, b)
    conn.execute(sa.delete(not_duplicate_pairs).where(
        not_duplicate_pairs.c.low_topic_id == low, not_duplicate_pairs.c.high_topic_id == high))


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
