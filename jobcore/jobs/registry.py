"""Job handlers registered by type name.

Feature packages register their handlers with ``@register``; ``HANDLER_MODULES`` names the
module that holds each job type's handler. The registry imports a module the first time its
job type is looked up (as Celery's ``include`` setting does), and only that one: a local
reclassify never imports the dedup sweep's scikit-learn, and the list of job types is known
without importing any. Importing the job system stays light (no anthropic, torch or
cryptography).
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from jobcore.errors import DuplicateJobType, UnknownJobType
from jobcore.jobs.base import JobHandler

# Adding a job type: its name and handler module go here (see docs/architecture.md).
HANDLER_MODULES = {
    "reclassify": "jobcore.classify.reclassify",
    "dedup_sweep": "jobcore.dedup.sweep_job",
    "merge": "jobcore.dedup.merge_job",
    "refresh_activations": "jobcore.activations.refresh_job",
    "sync_trade_desk": "jobcore.activations.sync_job",
    "realign_subcategories": "jobcore.trees.placement",
    "fix_subcategory_level0": "jobcore.trees.placement",
    "backfill_taxonomy_nodes": "jobcore.trees.node_backfill",
}

H = TypeVar("H", bound=type[JobHandler[Any]])

_handlers: dict[str, JobHandler[Any]] = {}


def register(handler_class: H) -> H:
    """Class decorator: register one handler instance under its ``job_type``."""
    job_type = handler_class.job_type
    if job_type in _handlers:
        raise DuplicateJobType(f"A handler for job type {job_type!r} is already registered.")
    _handlers[job_type] = handler_class()
    return handler_class


def get_handler(job_type: str) -> JobHandler[Any]:
    """The handler of a job type (its module imported on first use); UnknownJobType names
    the known ones.
    """
    handler = _handlers.get(job_type)
    if handler is None and job_type in HANDLER_MODULES:
        importlib.import_module(HANDLER_MODULES[job_type])  # registers its handlers
        handler = _handlers.get(job_type)
    if handler is None:
        raise UnknownJobType(f"Unknown job type {job_type!r} "
                             f"(known: {', '.join(job_types()) or 'none'}).")
    return handler


def job_types() -> list[str]:
    """Every job type, sorted (no handler module imported)."""
    return sorted(set(HANDLER_MODULES) | set(_handlers))


def handlers() -> list[JobHandler[Any]]:
    """Every registered handler, by job type."""
    return [get_handler(job_type) for job_type in job_types()]
