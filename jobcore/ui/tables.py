"""DataFrames the pages show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from jobcore.store import Job

JOB_COLUMNS = ["id", "type", "status", "progress", "processed", "total", "success", "errors",
               "skipped", "created by", "created", "started", "completed", "elapsed"]


def _elapsed(job: Job, now: datetime) -> timedelta | None:
    if job.started_at is None:
        return None
    return (job.completed_at or now) - job.started_at


def jobs_frame(jobs: list[Job], *, now: datetime | None = None) -> pd.DataFrame:
    """One row per job, newest first as given; progress is 0..1."""
    now = now or datetime.now(UTC)
    rows = [{
        "id": job.id,
        "type": job.job_type,
        "status": job.status,
        "progress": job.progress,
        "processed": job.processed_items,
        "total": job.total_items,
        "success": job.success_count,
        "errors": job.error_count,
        "skipped": job.skip_count,
        "created by": job.created_by,
        "created": job.created_at,
        "started": job.started_at,
        "completed": job.completed_at,
        "elapsed": _elapsed(job, now),
    } for job in jobs]
    return pd.DataFrame(rows, columns=JOB_COLUMNS)
