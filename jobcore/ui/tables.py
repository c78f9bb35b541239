"""DataFrames the pages show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from jobcore.jobs.store import JobSummary

JOB_COLUMNS = ["id", "type", "status", "stuck", "progress", "processed", "total", "success",
               "errors", "skipped", "created by", "created", "started", "completed", "elapsed"]


def jobs_frame(jobs: list[JobSummary], *, stuck_after: timedelta,
               now: datetime | None = None) -> pd.DataFrame:
    """One row per job in the order given; progress is 0..1; ``stuck`` marks a processing
    job with no progress for longer than ``stuck_after``.
    """
    now = now or datetime.now(UTC)
    rows = [{
        "id": job.id,
        "type": job.job_type,
        "status": job.status,
        "stuck": job.is_stuck(now, stuck_after),
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
        "elapsed": job.elapsed(now),
    } for job in jobs]
    return pd.DataFrame(rows, columns=JOB_COLUMNS)


def format_duration(value: timedelta | None) -> str:
    """A short human duration: '42s', '3m 20s', '1h 05m'; '–' when unknown."""
    if value is None:
        return "–"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
