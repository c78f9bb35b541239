"""One step of a dedup sweep and the "not duplicates" list: the rules below, each in its
module (thresholds: every number; neighbourhoods: candidates and scores; guards; lexical:
the names as read and the same-subject rule; clustering: the stars; proposals: what a
cluster keeps).

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
- **Guards** (jobcore.dedup.guards). Two topics whose parsed names contradict (markets,
  bands, generations, genders, framings, qualifiers, model codes, versions, numbers, or a
  path that holds the other's) are distinct segments however close their wording, and are
  never proposed. Nor is a pair an analyst marked "not duplicates", nor one Claude judged
  different scoring below the threshold (a sweep that verifies its uncertain pairs:
  jobcore.dedup.verify).
- **Band.** A sweep that verifies (``band_from``) first clusters at the threshold as above,
  then lets those clusters take losers scoring from ``band_from`` up and forms new stars of
  such pairs (jobcore.dedup.clustering's ``band_pass``), by the same rules; a winner never
  becomes a loser.
- **About the same thing** (jobcore.dedup.lexical's ``same_subject``). A model code both
  names carry settles it; else a short name's words must (nearly) all be in the other
  ("Luxury Cars" is not "Luxury Homes"), and the shorter name's most distinctive word in the
  other, whole or shortened ("Tech", "Mgmt", a plural).
- **Best match.** A topic joins a winner only if that pair scores within
  ``BEST_MATCH_MARGIN`` of the topic's best candidate pair: it is proposed as a duplicate of
  the topic it most resembles, not of every topic above the threshold (a new version of a
  product is closer to itself than to the old one).
- **Clusters do not chain.** A cluster is a star around its winner: every loser scores at
  least ``threshold`` with the winner itself. Sweeping topic S (not yet in a cluster of
  this sweep): the candidates are S and the neighbours not yet in a cluster that S best
  matches (within ``BEST_MATCH_MARGIN`` of its best pair); their winner W
  is chosen by the winner rule; the cluster is W and W's own neighbours not yet in a cluster
  (S among them). A~B, B~C with A and C far apart gives {B: A, C} when B wins and {A: B}
  when A wins (C then stays alone: C is not close to A).
- **Winner rule** (reproducible): most org links plus activations, then classified before
  unclassified, then the oldest, then the lowest id.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from jobcore.dedup import clustering
from jobcore.dedup.clustering import SweepStep
from jobcore.dedup.lexical import LexicalIndex
from jobcore.dedup.neighbourhoods import Neighbourhoods
from jobcore.dedup.proposals import pair_key
from jobcore.dedup.search import Searchers
from jobcore.dedup.thresholds import DEFAULT_MATCHING
from jobcore.errors import UsageError
from jobcore.schema import not_duplicate_pairs


def sweep(conn: Connection, source_ids: list[int], *, threshold: float, method: str,
          lexicon: LexicalIndex, mode: str = DEFAULT_MATCHING,
          clustered_before: Callable[[set[int]], dict[int, float]] = lambda ids: {},
          judged_different: Callable[[set[int]], set[tuple[int, int]]] = lambda ids: set(),
          band_from: float | None = None) -> SweepStep:
    """Clusters for these topics (in order), leaving out topics in a cluster already:
    ``clustered_before(ids)`` says which of ``ids`` earlier chunks placed, with their
    score in that cluster (they are not searched again); ``judged_different(ids)`` lists pairs
    holding one of ``ids`` that are not duplicates unless they score ``threshold`` or more.
    With ``band_from``, the clusters at the threshold (the same as without it) then take
    losers scoring from ``band_from`` up, and new stars form of such pairs (see
    ``clustering.band_pass``). See the module docstring for the rules.
    """
    with Searchers(conn, method) as searchers:
        hoods = Neighbourhoods(conn, searchers, lexicon, mode, threshold, set(),
                                clustered_before, judged_different, threshold, band_from)
        step = clustering.threshold_pass(hoods, source_ids)
        if band_from is not None and band_from < threshold:
            clustering.band_pass(hoods, source_ids, step, band_from)
        return step


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
