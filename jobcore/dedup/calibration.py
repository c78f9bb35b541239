"""Thresholds from the analysts' own decisions: every pair the sweeps proposed (a loser and
its winner, with the pair's score) is a label once an analyst acted on it: **merged** (one
merged into the other, or both into one winner, and not undone) or **marked apart** (marked
"not duplicates"). Per score band, how many proposed pairs were merged, marked apart or are
still undecided, and a precision estimate (merged / decided), over all sweeps of one matching
mode (hybrid and semantic scores are not on one scale). A pair proposed by several sweeps
counts once, at its latest score.

Claude's verdicts (a sweep that verifies its uncertain band) are compared with the same
decisions: per band, how often analysts merged what Claude called the same, marked it apart,
or merged what it called different (``claude_agreement``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.dedup.kept import KeptByStamp

BAND_START = 0.50
BAND_WIDTH = 0.05
BANDS = 10

# Whether analysts marked (as not duplicates) or merged the pair p.low, p.high: one
# into the other, or both into one winner, and not undone.
_REFUSED = """EXISTS (SELECT 1 FROM not_duplicate_pairs n
                      WHERE n.low_topic_id = p.low AND n.high_topic_id = p.high)"""
_MERGED = """EXISTS (SELECT 1 FROM merges m
                     WHERE m.undone_at IS NULL AND m.loser_topic_id IN (p.low, p.high)
                       AND (m.winner_topic_id IN (p.low, p.high) OR EXISTS (
                           SELECT 1 FROM merges o
                           WHERE o.undone_at IS NULL
                             AND o.winner_topic_id = m.winner_topic_id
                             AND o.loser_topic_id IN (p.low, p.high)
                             AND o.loser_topic_id <> m.loser_topic_id)))"""
_BAND = """least(greatest(floor((score - :start) / :width + 1e-9)::int, 0), :bands - 1)"""

_OUTCOMES = sa.text(
    f"""
    WITH proposed AS (
        SELECT DISTINCT ON (least(c.winner_topic_id, l.id), greatest(c.winner_topic_id, l.id))
               least(c.winner_topic_id, l.id) AS low, greatest(c.winner_topic_id, l.id) AS high,
               l.score
        FROM dedup_clusters c
        JOIN admin_jobs j ON j.id = c.job_id
        CROSS JOIN LATERAL (
            SELECT (e ->> 'id')::bigint AS id, (e ->> 'score')::float8 AS score
            FROM jsonb_array_elements(c.losers) AS e) AS l
        WHERE coalesce(j.result ->> 'matching', 'semantic') = :matching
        ORDER BY least(c.winner_topic_id, l.id), greatest(c.winner_topic_id, l.id),
                 j.created_at DESC
    ), decided AS (
        SELECT p.score, {_REFUSED} AS marked_apart, {_MERGED} AS merged
        FROM proposed p
    )
    SELECT {_BAND} AS band,  -- a score on a band's lower edge (0.70) is in that band
           count(*) AS proposed,
           count(*) FILTER (WHERE merged AND NOT marked_apart) AS merged,
           count(*) FILTER (WHERE marked_apart) AS marked_apart
    FROM decided GROUP BY 1 ORDER BY 1
    """
)


@dataclass(frozen=True)
class BandOutcome:
    """The analysts' decisions on the proposed pairs scoring in [low, high)."""

    low: float
    high: float
    proposed: int
    merged: int
    marked_apart: int

    @property
    def undecided(self) -> int:
        return self.proposed - self.merged - self.marked_apart

    @property
    def precision(self) -> float | None:
        """Merged / decided, or None before any decision."""
        decided = self.merged + self.marked_apart
        return self.merged / decided if decided else None


# What the band outcomes are computed from, in a few numbers: merges made and undone,
# pairs marked, sweeps run or advanced. The outcomes read every pair every sweep proposed
# (0.4 s at 56,000 pairs); the Dedup Clusters screen asks on each click.
_DECIDED_STAMP = sa.text(
    """
    SELECT (SELECT row(count(*), max(id), count(undone_at), max(undone_at))::text
            FROM merges),
           (SELECT row(count(*), max(created_at), sum(low_topic_id + high_topic_id))::text
            FROM not_duplicate_pairs),
           (SELECT row(count(*), max(updated_at))::text
            FROM admin_jobs WHERE job_type = 'dedup_sweep')
    """
)
_kept: KeptByStamp[list[BandOutcome]] = KeptByStamp(8)  # (database, matching mode)


def band_outcomes(conn: Connection, matching: str) -> list[BandOutcome]:
    """Every band from BAND_START up, with its counts (scores below the first band count
    in it, 1.0 in the last); computed again only when a merge, a mark or a sweep changed
    what they count (kept per database and matching mode in the process).
    """
    slot = (str(conn.engine.url), matching)
    stamp = tuple(conn.execute(_DECIDED_STAMP).one())
    outcomes = _kept.get(slot, stamp)
    if outcomes is None:
        outcomes = _band_outcomes(conn, matching)
        _kept.put(slot, stamp, outcomes)
    return outcomes


def _band_outcomes(conn: Connection, matching: str) -> list[BandOutcome]:
    rows = {r.band: r for r in conn.execute(_OUTCOMES, {
        "matching": matching, "start": BAND_START, "width": BAND_WIDTH, "bands": BANDS})}
    outcomes = []
    for band in range(BANDS):
        low = round(BAND_START + band * BAND_WIDTH, 4)
        row = rows.get(band)
        outcomes.append(BandOutcome(low, round(low + BAND_WIDTH, 4),
                                    row.proposed if row else 0, row.merged if row else 0,
                                    row.marked_apart if row else 0))
    return outcomes


# Claude's verdicts against the analysts' later decisions, by the pair's score when asked.
_AGREEMENT = sa.text(
    f"""
    WITH decided AS (
        SELECT p.score, p.same, {_REFUSED} AS marked_apart, {_MERGED} AS merged
        FROM (SELECT low_topic_id AS low, high_topic_id AS high, score, same
              FROM claude_pair_verdicts WHERE matching = :matching) AS p
    )
    SELECT {_BAND} AS band,
           count(*) FILTER (WHERE same) AS said_same,
           count(*) FILTER (WHERE NOT same) AS said_different,
           count(*) FILTER (WHERE same AND merged AND NOT marked_apart) AS same_merged,
           count(*) FILTER (WHERE same AND marked_apart) AS same_marked_apart,
           count(*) FILTER (WHERE NOT same AND merged AND NOT marked_apart) AS different_merged,
           count(*) FILTER (WHERE NOT same AND marked_apart) AS different_marked_apart
    FROM decided GROUP BY 1 ORDER BY 1
    """
)


@dataclass(frozen=True)
class BandAgreement:
    """Claude's verdicts on the pairs it was asked about scoring in [low, high), and how
    analysts decided them later: a "same" pair merged or marked apart, a "different" pair
    merged anyway (by hand) or marked apart (not duplicates).
    """

    low: float
    high: float
    said_same: int
    said_different: int
    same_merged: int
    same_marked_apart: int
    different_merged: int
    different_marked_apart: int

    @property
    def decided(self) -> int:
        return (self.same_merged + self.same_marked_apart + self.different_merged
                + self.different_marked_apart)

    @property
    def agreement(self) -> float | None:
        """The share of decided pairs where the analysts decided as Claude said."""
        agreed = self.same_merged + self.different_marked_apart
        return agreed / self.decided if self.decided else None


def claude_agreement(conn: Connection, matching: str) -> list[BandAgreement]:
    """Per score band that holds a verdict, Claude's verdicts and the analysts' decisions
    on those pairs (jobcore.dedup.verify asks; merges and not-duplicates marks decide).
    """
    rows = conn.execute(_AGREEMENT, {"matching": matching, "start": BAND_START,
                                     "width": BAND_WIDTH, "bands": BANDS})
    agreements = []
    for r in rows:
        low = round(BAND_START + r.band * BAND_WIDTH, 4)
        agreements.append(BandAgreement(low, round(low + BAND_WIDTH, 4), r.said_same,
                                        r.said_different, r.same_merged, r.same_marked_apart,
                                        r.different_merged, r.different_marked_apart))
    return agreements
