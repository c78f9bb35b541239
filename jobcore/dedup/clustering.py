"""The clustering of a sweep step: stars around winners, at the threshold and then in the
uncertain band, by one loser-ranking rule and one winner rule (see jobcore.dedup.matching's
docstring for the rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jobcore.dedup.neighbourhoods import Neighbourhoods
from jobcore.dedup.proposals import Cluster
from jobcore.dedup.thresholds import BEST_MATCH_MARGIN


@dataclass
class SweepStep:
    """What one chunk of a sweep found."""

    clusters: list[Cluster]
    # each swept topic's closest neighbour that the market/number guard allows (pairs marked
    # not duplicates are left out at or above the threshold, where they matter); for a topic
    # an earlier chunk placed, its score in that cluster
    best_score: dict[int, float]
    already_clustered: set[int]  # swept topics that earlier chunks had placed


def by_winner_rule(hoods: Neighbourhoods, candidates: list[int]) -> int:
    """The candidates' winner: most org links plus activations, then classified, then the
    oldest, then the lowest id.
    """
    return min(candidates, key=lambda i: hoods.info[i].winner_key)


def best_matched(hoods: Neighbourhoods, source: int, floor: float,
                 may_join: Callable[[int], bool]) -> list[tuple[int, float]]:
    """The source's neighbours scoring ``floor`` or more that may join and that it best
    matches (within ``BEST_MATCH_MARGIN`` of its best pair), best first.
    """
    best = hoods.best(source) - BEST_MATCH_MARGIN
    return [(i, s) for i, s in hoods.close(source, floor) if may_join(i) and s >= best]


def ranked_losers(hoods: Neighbourhoods, members: dict[int, float],
                  clustered: set[int]) -> list[tuple[int, float]]:
    """The members that may join a winner, best score first (ties by id): free ones whose
    pair with the winner is within ``BEST_MATCH_MARGIN`` of their best pair.
    """
    return sorted(((i, s) for i, s in members.items()
                   if i not in clustered and s >= hoods.best(i) - BEST_MATCH_MARGIN),
                  key=lambda item: (-item[1], item[0]))


def threshold_pass(hoods: Neighbourhoods, source_ids: list[int]) -> SweepStep:
    """Clusters of pairs scoring the threshold or more, for these topics in order (see
    jobcore.dedup.matching's docstring).
    """
    floor = hoods.threshold
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
        matched = best_matched(hoods, source, floor, lambda i: i not in clustered)
        return by_winner_rule(hoods, [source, *(i for i, _ in matched)])

    # the winners' own neighbourhoods, then those of their close neighbours (for the best
    # match rule), fetched in one go each (winners that change as clusters form within the
    # chunk are fetched when met)
    winners = [winner_of(s) for s in source_ids if s in hoods.info and s not in clustered]
    hoods.load(winners)
    hoods.load([i for w in winners for i, _ in hoods.close(w, floor)])
    clusters = []
    for source in source_ids:
        if source in clustered or source not in hoods.info:
            continue
        if not any(i not in clustered for i, _ in hoods.close(source, floor)):
            continue
        winner = winner_of(source)
        hoods.load([winner])
        members = dict(hoods.close(winner, floor))
        if winner != source:  # the index may miss the reverse direction; the pair holds
            members.setdefault(source, dict(hoods.close(source, floor))[winner])
        hoods.load(list(members))
        losers = hoods.consistent(ranked_losers(hoods, members, clustered))
        if not losers:  # each one's best match is elsewhere
            continue
        cluster = Cluster(winner, losers, {i: hoods.evidence(winner, i) for i, _ in losers})
        clustered.update(cluster.members)
        clusters.append(cluster)
    return SweepStep(clusters, best, already)


def band_pass(hoods: Neighbourhoods, source_ids: list[int], step: SweepStep,
              floor: float) -> None:
    """After the clusters at the threshold, the pairs scoring from the band's lower edge
    ``floor``, with the same rules: a winner of this step keeps its cluster and may take
    more losers but never becomes one (no chaining); a topic whose best match is such a
    winner joins it; other free topics form stars by the winner rule. The clusters of
    ``step`` grow in place.
    """
    clustered = hoods.clustered
    stars = {c.winner: i for i, c in enumerate(step.clusters)}  # this step's winners

    def free(i: int) -> bool:
        return i not in clustered or i in stars

    def winner_of(source: int) -> int:
        if source in stars:
            return source
        matched = best_matched(hoods, source, floor, free)
        held = [i for i, _ in matched if i in stars]  # best score first
        if held:
            return held[0]
        return by_winner_rule(hoods, [source, *(i for i, _ in matched)])

    for source in source_ids:
        if source not in hoods.info or not free(source):
            continue
        joinable = [i for i, _ in hoods.close(source, floor)  # a free topic, or a winner
                    if i not in clustered or (source not in clustered and i in stars)]
        if not joinable:
            continue
        winner = winner_of(source)
        hoods.load([winner])
        members = {i: s for i, s in hoods.close(winner, floor) if i not in clustered}
        if winner != source and source not in clustered:
            members.setdefault(source, hoods.score(source, winner))
        hoods.load(list(members))
        held = step.clusters[stars[winner]] if winner in stars else None
        before = held.losers if held is not None else ()
        added = hoods.consistent(ranked_losers(hoods, members, clustered), held=before)
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
