"""Where an LLM job stands in the Message Batches phases, for its detail page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore.db import get_engine
from jobcore.jobs.store import Job
from jobcore.llm.batch_result import BatchCursor, BatchResult
from jobcore.llm.phases import batches_of
from jobcore.schema import batch_results_staging


@dataclass(frozen=True)
class BatchProgress:
    """An LLM job's phase, topics submitted, results staged and its message batches."""

    phase: str
    submitted: int
    staged: int
    batches: list[dict[str, Any]]


def batch_progress(job: Job, *, engine: Engine | None = None) -> BatchProgress:
    """The phase (submit, poll, done; a finished job's status when it ended before), the
    topics submitted, the results staged and waiting for post-processing, and the batches.
    """
    cursor = BatchCursor.of(job.cursor)
    phase = cursor.phase if not job.is_finished else job.status
    with (engine or get_engine()).connect() as conn:
        staged = conn.execute(sa.select(sa.func.count()).select_from(batch_results_staging)
                              .where(batch_results_staging.c.job_id == job.id)).scalar_one()
        batches = batches_of(conn, job.id)
    if job.is_finished and job.status != "completed":  # cancelled or failed in a phase
        phase = job.status
    else:
        phase = BatchResult.of(job.result).phase or phase
    return BatchProgress(phase, cursor.submitted, staged, batches)

