"""What a process keeps for good, and Python's cyclic garbage collector.

A process keeps some values as long as it runs: the local classifier and its label
vectors, an encoder's model, a sweep's index of names, a million-topic sweep's clusters
and their review. Each is many Python objects, and each full collection of the cyclic
garbage collector walked them all: a command line's local reclassify ran seven full
collections of about 70 ms each over the classifier it had loaded (half a second of a
four-second run), a sweep 0.6 s each over a 200,000-name index, the Dedup Clusters screen
two seconds a run over a million-topic sweep's clusters.

Such a value is built inside ``kept_for_good``: the garbage already there is collected
first (a freeze would keep it), the value is built with the collector paused, and then
every object alive is frozen out of the collector's reach (``gc.freeze``). Frozen objects
are still freed by reference counting when they hold no reference cycles, so a value
replaced or dropped goes at once; what other threads hold at the freeze and later drop
stays, if it holds cycles, until the process ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_builds_lock = threading.Lock()
_builds = 0  # values being built for good now, in any thread (nested builds count)
_collector_was_on = True


@contextmanager
def kept_for_good(large: bool = True) -> Iterator[None]:
    """Build a value the process keeps (see the module docstring); one that is not
    ``large`` (rebuilt often, cheap to walk) is built as usual. The collector stays paused in
    every thread until the last such build ends (builds nest: only the outermost collects
    first), and the freeze comes before it runs again; a failed build leaves it as it was.
    """
    global _builds, _collector_was_on
    if not large:
        yield
        return
    counted = False
    try:
        with _builds_lock:
            if _builds == 0:
                gc.collect()  # frozen values are not walked again: this walks the rest once
                _collector_was_on = gc.isenabled()
                gc.disable()
            _builds += 1
            counted = True
        yield
    finally:
        if counted:
            with _builds_lock:
                gc.freeze()  # before the collector runs again: the new objects are all young
                _builds -= 1
                if _builds == 0 and _collector_was_on:
                    gc.enable()
