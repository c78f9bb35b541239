"""The Dedup screen's figures, counted once per review: the same answers as counting each
cluster, in the list's order and in another sort's.
"""

from __future__ import annotations

from jobcore.dedup.cluster_decisions import ClusterEdit
from jobcore.dedup.cluster_review import MERGED, OPEN, STALE, ClusterReview, ReviewedCluster
from jobcore.dedup.proposals import Cluster
from jobcore.dedup.review_figures import figures_of


def _reviewed(number: int, losers: tuple[tuple[int, float], ...], state: str = OPEN, *,
              accepted: bool = False, edited: bool = False) -> ReviewedCluster:
    winner = number * 100
    return ReviewedCluster(number, Cluster(winner, losers), winner, state, edited,
                           decision=ClusterEdit(accepted=accepted))


CLUSTERS = [
    _reviewed(3, ((301, 0.61), (302, 0.90))),                      # open, weakest 0.61
    _reviewed(1, ((101, 0.70),), accepted=True),                   # open and accepted
    _reviewed(7, ((701, 0.95),), MERGED),                          # merged: not open
    _reviewed(2, (), edited=True),                                 # every loser removed
    _reviewed(5, ((501, 0.80), (502, 0.85), (503, 0.99)), STALE, accepted=True),
]


def test_the_figures_count_what_each_cluster_says() -> None:
    figures = figures_of(CLUSTERS)
    assert figures.numbers == (3, 1, 7, 2, 5)
    assert figures.position == {3: 0, 1: 1, 7: 2, 2: 3, 5: 4}
    assert figures.sizes.tolist() == [2, 1, 1, 0, 3]
    assert figures.scores.tolist() == [0.61, 0.90, 0.70, 0.95, 0.80, 0.85, 0.99]
    assert figures.open_numbers == (3, 1)  # merged, stale and emptied clusters cannot merge
    assert figures.accepted_numbers == (1,)  # accepted but stale is not taken
    assert figures.decided == sum(r.decided for r in CLUSTERS) == 4


def test_a_higher_threshold_counts_the_clusters_that_keep_a_duplicate() -> None:
    figures = figures_of(CLUSTERS)
    assert figures.clusters_kept_at(0.6) == (4, 7)
    assert figures.clusters_kept_at(0.9) == (3, 3)  # 3 (0.90), 7 (0.95), 5 (0.99)
    assert figures.clusters_kept_at(1.0) == (0, 0)


def test_another_sort_has_its_own_order_and_positions_and_is_kept() -> None:
    figures = figures_of(CLUSTERS)
    ordered, by_number = figures.sorted_by("cluster number", lambda r: r.number)
    assert tuple(r.number for r in ordered) == by_number.numbers == (1, 2, 3, 5, 7)
    assert by_number.position[5] == 3
    assert by_number.open_numbers == (1, 3)
    assert figures.sorted_by("cluster number", lambda r: r.number)[1] is by_number
    assert figures.numbers == (3, 1, 7, 2, 5)  # the review's own order is left alone


def test_copies_of_one_review_share_its_figures_and_a_plain_list_gets_its_own() -> None:
    review = ClusterReview(CLUSTERS)
    copy = ClusterReview(review, review.figures)
    copy.pop()  # a caller's copy is its own list
    assert figures_of(copy) is review.figures
    assert len(review) == 5 and figures_of(review).numbers == (3, 1, 7, 2, 5)
    assert figures_of(list(CLUSTERS)) is not review.figures


def test_a_review_dropped_is_freed_at_once_without_the_garbage_collector() -> None:
    """A large review is frozen out of the collector's reach (jobcore.dedup.kept): it must
    hold no reference cycle, or each review replaced after an edit would stay in memory.
    """
    import gc
    import weakref

    review = ClusterReview(list(CLUSTERS))
    assert figures_of(review).sizes.sum() == 7  # the figures counted
    gone = weakref.ref(review)
    gc.disable()
    try:
        del review
        assert gone() is None
    finally:
        gc.enable()
