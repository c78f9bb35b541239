"""Job handlers registered by type name."""

from __future__ import annotations

from typing import Any, TypeVar

from jobcore.errors import DuplicateJobType, UnknownJobType
from jobcore.jobs.base import JobHandler

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
    """The handler of a job type; UnknownJobType names the known ones."""
    try:
        return _handlers[job_type]
    except KeyError:
        known = ", ".join(sorted(_handlers)) or "none"
        raise UnknownJobType(f"Unknown job type {job_type!r} (known: {known}).") from None


def job_types() -> list[str]:
    """Registered job types, sorted."""
    return sorted(_handlers)

