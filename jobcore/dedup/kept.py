"""Values a process keeps between reruns of a screen, each under the stamp of what it was
computed from: a value is given back only while its stamp is unchanged (a sweep's clusters
under the job's ``updated_at``, the band outcomes under counts of merges and marks, the
last review under the facts it was made from). Shared by the app's threads.

A million-topic sweep's clusters and their review are millions of Python objects that live
as long as the process keeps them. Python's cyclic garbage collector walked all of them in
each full collection (2 s at 282,554 clusters, before almost every run of the Dedup
screen, and nine times while they were built). They are built with the collector paused
and then frozen out of its reach (``gc.freeze``): they hold no reference cycles, so a value
replaced or dropped is still freed at once by reference counting. A freeze takes every
object alive at that moment: what other sessions hold then and later drop stays, if it
holds cycles, until the process ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

FROZEN_FROM = 20_000  # clusters: a value this large is frozen out of the collector's reach

_builds_lock = threading.Lock()
_builds = 0  # large values being built now, in any thread
_collector_was_on = True


@contextmanager
def built_to_keep(clusters: int) -> Iterator[None]:
    """Build a kept value of ``clusters`` clusters. From ``FROZEN_FROM`` on: the garbage
    already there is collected first (a freeze would keep it), the value is built with the
    collector paused (in every thread, until the last such build ends), and then every
    object alive is frozen out of the collector's reach (see the module docstring).
    """
    global _builds, _collector_was_on
    if clusters < FROZEN_FROM:
        yield
        return
    gc.collect()  # frozen values are not walked again: this walks the rest of the heap
    with _builds_lock:
        if _builds == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _builds += 1
    try:
        yield
    finally:
        with _builds_lock:
            gc.freeze()  # before the collector runs again: the new objects are all young
            _builds -= 1
            if _builds == 0 and _collector_was_on:
                gc.enable()


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
