"""Job types: importing this package registers every handler."""

from jobcore.jobs import (  # noqa: F401  (importing registers the handlers)
    dedup_sweep,
    merge,
    node_backfill,
    placement,
    reclassify,
    refresh_activations,
    sync_trade_desk,
)
from jobcore.jobs.registry import get_handler, job_types, register

__all__ = ["get_handler", "job_types", "register"]
