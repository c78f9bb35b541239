"""Job types: importing this package registers every handler."""

from jobcore.jobs import reclassify, refresh_activations  # noqa: F401  (registers handlers)
from jobcore.jobs.registry import get_handler, job_types, register

__all__ = ["get_handler", "job_types", "register"]
