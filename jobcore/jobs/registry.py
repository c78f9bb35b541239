"""Job handlers registered by type name.

Feature packages register their handlers with ``@register``; ``HANDLER_MODULES`` lists the
modules that hold them. The registry imports those modules the first time a job type is
looked up (as Celery's ``include`` setting does), so that importing the job system stays
light (no anthropic, torch or cryptography) and no feature module is imported by the job
system at import time.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, TypeVar

from jobcore.errors import DuplicateJobType, UnknownJobType
from jobcore.jobs.base import JobHandler

# Adding a job type: its handler module goes here (see docs/architecture.md).
HANDLER_MODULES = (
    "jobcore.classify.reclassify",
    "jobcore.dedup.sweep_job",
    "jobcore.dedup.merge_job",
    "jobcore.activations.refresh_job",
    "jobcore.activations.sync_job",
    "jobcore.trees.placement",
    "jobcore.trees.node_backfill",
)

H = TypeVar("H", bound=type[JobHandler[Any]])

_handlers: dict[str, JobHandler[Any]] = {}
_loaded = False
_load_lock = threading.Lock()


def register(handler_class: H) -> H:
    """Class decorator: register one handler instance under its ``job_type``."""
    job_type = handler_class.job_type
    if job_type in _handlers:
        raise DuplicateJobType(f"A handler for job type {job_type!r} is already registered.")
    _handlers[job_type] = handler_class()
    return handler_class


def _load_handlers() -> None:
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if not _loaded:
            for module in HANDLER_MODULES:
                importlib.import_module(module)
            _loaded = True


def get_handler(job_type: str) -> JobHandler[Any]:
    """The handler of a job type; UnknownJobType names the known ones."""
    _load_handlers()
    try:
        return _handlers[job_type]
    except KeyError:
        known = ", ".join(sorted(_handlers)) or "none"
        raise UnknownJobType(f"Unknown job type {job_type!r} (known: {known}).") from None


def job_types() -> list[str]:
    """Registered job types, sorted."""
    _load_handlers()
    return sorted(_handlers)


def handlers() -> list[JobHandler[Any]]:
    """Every registered handler, by job type."""
    return [get_handler(job_type) for job_type in job_types()]
