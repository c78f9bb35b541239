"""Job types: importing this package registers every handler."""

from jobcore.jobs import reclassify  # noqa: F401  (registers the handler)
from jobcore.jobs.registry import get_handler, job_types, register

__all__ = ["get_handler", "job_types", "register"]
