"""What a process keeps for good is built out of the garbage collector's walks
(jobcore.heap): each full collection walked the loaded classifier (seven times in a
command line's reclassify, half a second of it) and a million-topic sweep's clusters.
"""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from jobcore import heap
from jobcore.classify.segment_classifier import get_classifier


class _Value:
    """A kept value of a few objects, none in a reference cycle."""

    def __init__(self) -> None:
        self.parts = [{"n": n} for n in range(3)]


def _walked(value: object) -> bool:
    """Whether the collector still walks ``value`` (frozen objects are not listed)."""
    return any(o is value for o in gc.get_objects())


@pytest.fixture(autouse=True)
def _unfrozen():
    yield
    gc.unfreeze()
    assert gc.isenabled()


def test_a_value_built_to_keep_is_frozen_and_still_freed_at_once_when_dropped():
    with heap.kept_for_good():
        value = _Value()
        assert not gc.isenabled()  # paused while it is built
    assert gc.isenabled() and not _walked(value) and not _walked(value.parts)
    freed = []
    weakref.finalize(value, freed.append, True)
    gc.disable()  # no collection may free it: reference counting does
    try:
        del value
        assert freed == [True]
    finally:
        gc.enable()


def test_the_collector_stays_paused_until_the_last_of_overlapping_builds_ends():
    inner_done, outer_may_end = threading.Event(), threading.Event()

    def other_thread() -> None:
        with heap.kept_for_good():
            inner_done.set()
            outer_may_end.wait(5)

    thread = threading.Thread(target=other_thread)
    with heap.kept_for_good():
        thread.start()
        assert inner_done.wait(5)
    assert not gc.isenabled()  # the other thread is still building
    outer_may_end.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_failed_build_leaves_the_collector_running():
    with pytest.raises(RuntimeError), heap.kept_for_good():
        raise RuntimeError("a build that fails")
    assert gc.isenabled()
    with pytest.raises(RuntimeError), heap.kept_for_good(), heap.kept_for_good():
        raise RuntimeError("a nested build that fails")
    assert gc.isenabled()


def test_the_classifier_a_process_loads_is_out_of_the_collectors_walks_and_classifies():
    get_classifier.cache_clear()  # as a new process loads it
    classifier = get_classifier()
    assert gc.isenabled()
    assert not _walked(classifier) and not _walked(classifier._pool)
    decision = classifier.classify("Interest > Coffee Lovers")
    assert decision.best is not None and decision.best.node.label == "Coffee"


def test_a_large_name_index_is_out_of_the_collectors_walks_a_small_one_is_not(
        engine, make_topic, monkeypatch):
    """A freeze keeps the cyclic garbage other threads hold at that moment: the app rebuilds
    small indexes often (a count after each topic edit), so only large ones are frozen.
    """
    from jobcore.dedup import guards, lexical

    for name in ("Coffee Lovers", "Coffee Enthusiasts", "Tea Lovers"):
        make_topic(name)
    with engine.connect() as conn:
        small = lexical.index_for(conn, "test-heap-small", fixed=True,
                                  guard_key=guards.guard_key)
        assert _walked(small)  # (a later freeze takes it along)
        monkeypatch.setattr(lexical, "FROZEN_FROM", 3)  # three names count as large
        large = lexical.index_for(conn, "test-heap-large", fixed=True,
                                  guard_key=guards.guard_key)
    assert gc.isenabled() and not _walked(large)
    assert large.same_subject("Coffee Lovers", "Coffee Enthusiasts")
