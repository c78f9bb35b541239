"""The figures of a sweep's reviewed clusters that the Dedup Clusters screen shows on every
rerun (how many are open, accepted, decided; each cluster's duplicates and their scores;
where each cluster stands in the list), counted once per review instead of once per rerun:
a million-topic sweep has about 280,000 clusters, and a pass over them in Python takes a
tenth of a second each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from jobcore.dedup.cluster_review import ReviewedCluster


class ReviewFigures:
    """Counts over one list of reviewed clusters, in its order (computed when first asked)."""

    def __init__(self, clusters: Sequence[ReviewedCluster]) -> None:
        self._clusters = clusters
        self._sorted: dict[str, tuple[tuple[ReviewedCluster, ...], ReviewFigures]] = {}

    @cached_property
    def numbers(self) -> tuple[int, ...]:
        """The clusters' numbers in the list's order (tuples: shared by every session)."""
        return tuple(r.number for r in self._clusters)

    @cached_property
    def position(self) -> dict[int, int]:
        """Cluster number -> its place in the list."""
        return {number: at for at, number in enumerate(self.numbers)}

    @cached_property
    def sizes(self) -> np.ndarray:
        """Each cluster's duplicates (losers), with the analysts' edits applied."""
        return np.fromiter((len(r.cluster.losers) for r in self._clusters), dtype=np.int64,
                           count=len(self._clusters))

    @cached_property
    def scores(self) -> np.ndarray:
        """Every duplicate's score against its winner, cluster after cluster."""
        return np.fromiter((score for r in self._clusters for _, score in r.cluster.losers),
                           dtype=np.float64, count=int(self.sizes.sum()))

    @cached_property
    def mergeable(self) -> np.ndarray:
        """Which clusters a merge may take (open, with a loser left)."""
        return np.fromiter((r.mergeable for r in self._clusters), dtype=bool,
                           count=len(self._clusters))

    @cached_property
    def open_numbers(self) -> tuple[int, ...]:
        """The numbers of the clusters a merge may take, in the list's order."""
        return tuple(np.asarray(self.numbers, dtype=np.int64)[self.mergeable].tolist())

    @cached_property
    def accepted_numbers(self) -> tuple[int, ...]:
        """The open clusters analysts accepted for the merge, in the list's order."""
        return tuple(r.number for r in self._clusters if r.mergeable and r.accepted)

    @cached_property
    def decided(self) -> int:
        """How many clusters are decided (accepted, edited, merged or gone)."""
        return sum(1 for r in self._clusters if r.decided)

    def clusters_kept_at(self, threshold: float) -> tuple[int, int]:
        """(clusters, duplicates) that keep a duplicate scoring ``threshold`` or more."""
        kept = self.scores >= threshold
        owners = np.repeat(np.arange(len(self._clusters)), self.sizes)[kept]
        return int(np.unique(owners).size), int(np.count_nonzero(kept))

    def sorted_by(self, name: str, key: Callable[[ReviewedCluster], Any]
                  ) -> tuple[tuple[ReviewedCluster, ...], ReviewFigures]:
        """The clusters sorted by ``key`` and that order's figures (kept under the sort's
        ``name``).
        """
        found = self._sorted.get(name)
        if found is None:
            ordered = tuple(sorted(self._clusters, key=key))
            found = self._sorted[name] = (ordered, ReviewFigures(ordered))
        return found


def figures_of(clusters: Sequence[ReviewedCluster]) -> ReviewFigures:
    """The figures a review carries (``cluster_review.review``'s list), else counted now."""
    found = getattr(clusters, "figures", None)
    return found if isinstance(found, ReviewFigures) else ReviewFigures(clusters)
