"""One-time loads: what a process loads once and keeps (an embedding model, a sweep's index
of names). Each is timed while a chunk runs, so that the chunk log can record it and rates
and ETAs leave it out, and remembered by name, so that a page can say what the next chunk
will load first ("loading the embedding model...").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

_loaded: set[str] = set()
_lock = threading.Lock()
_current: ContextVar[LoadLog | None] = ContextVar("jobcore_load_log", default=None)


@dataclass
class LoadLog:
    """The one-time loads of one chunk: what was loaded and the seconds they took."""

    seconds: float = 0.0
    loaded: list[str] = field(default_factory=list)

    @property
    def description(self) -> str | None:
        """'the embedding model, the name index', or None when nothing was loaded."""
        return ", ".join(self.loaded) or None


@contextmanager
def one_time_load(what: str) -> Iterator[None]:
    """Around a load that happens once per process (``what``: words such as 'the embedding
    model'): its time goes to the running chunk's LoadLog, and ``is_loaded(what)`` holds
    from then on.
    """
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        _count(what, time.perf_counter() - started)  # the time was spent; not loaded
        raise
    with _lock:
        _loaded.add(what)
    _count(what, time.perf_counter() - started)


def _count(what: str, spent: float) -> None:
    """Add a load's seconds to the running chunk's LoadLog, if a chunk is running."""
    log = _current.get()
    if log is not None:
        log.seconds += spent
        if what not in log.loaded:
            log.loaded.append(what)


def is_loaded(what: str) -> bool:
    """Whether this process has already loaded ``what``."""
    with _lock:
        return what in _loaded


@contextmanager
def chunk_loads() -> Iterator[LoadLog]:
    """Collect the one-time loads made inside (by this thread) into one LoadLog."""
    log = LoadLog()
    token = _current.set(log)
    try:
        yield log
    finally:
        _current.reset(token)
