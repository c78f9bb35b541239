"""Values a process keeps between reruns of a screen, each under the stamp of what it was
computed from: a value is given back only while its stamp is unchanged (a sweep's clusters
under the job's ``updated_at``, the band outcomes under counts of merges and marks, the
last review under the facts it was made from). Shared by the app's threads.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


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
