"""Values a process keeps between reruns of a screen, each under the stamp of what it was
computed from: a value is given back only while its stamp is unchanged (a sweep's clusters
under the job's ``updated_at``, the band outcomes under counts of merges and marks, the
last review under the facts it was made from). Shared by the app's threads.

A million-topic sweep's clusters and their review are millions of Python objects that live
as long as the process keeps them: from ``FROZEN_FROM`` clusters on they are built out of
the garbage collector's reach (``jobcore.heap``; it walked them in each full collection,
2 s before almost every run of the Dedup screen, and nine times while they were built).
They hold no reference cycles, so a value replaced or dropped is still freed at once.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from jobcore.heap import kept_for_good

T = TypeVar("T")

FROZEN_FROM = 20_000  # clusters: a value this large is frozen out of the collector's reach


@contextmanager
def built_to_keep(clusters: int) -> Iterator[None]:
    """Build a kept value of ``clusters`` clusters: from ``FROZEN_FROM`` on, out of the
    garbage collector's reach (``jobcore.heap.kept_for_good``).
    """
    with kept_for_good(large=clusters >= FROZEN_FROM):
        yield


class KeptByStamp(Generic[T]):
    """Up to ``size`` values, one per slot, each with its stamp (the oldest slot goes first)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: dict[Hashable, tuple[object, T]] = {}

    def get(self, slot: Hashable, stamp: object) -> T | None:
        """The value kept for ``slot`` if it was kept under ``stamp``, else None."""
        with self._lock:
            kept = self._kept.get(slot)
        return kept[1] if kept is not None and kept[0] == stamp else None

    def put(self, slot: Hashable, stamp: object, value: T) -> None:
        """Keep ``value`` for ``slot`` under ``stamp`` (replacing what the slot held)."""
        with self._lock:
            self._kept.pop(slot, None)
            while len(self._kept) >= self._size:
                self._kept.pop(next(iter(self._kept)))
            self._kept[slot] = (stamp, value)
