"""DataFrames the pages show."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from jobcore.jobs.relations import job_kind
from jobcore.jobs.store import JobSummary
from jobcore.ui.charts import is_paused

# What fits 1,400 px without sideways scrolling; success and skipped counts, started and
# completed times are on the detail.
JOB_COLUMNS = ["id", "type", "status", "progress", "processed", "total", "errors",
               "created by", "created", "elapsed"]


def jobs_frame(jobs: list[JobSummary], *, now: datetime | None = None,
               in_flight: Collection[str] = ()) -> pd.DataFrame:
    """One row per job in the order given; progress is 0..1; a processing job no chunk has
    finished for in a while shows as paused, unless a chunk of it is running now
    (``in_flight``: their ids).
    """
    now = now or datetime.now(UTC)
    # a processing job nobody drives reads as paused (its detail offers Run)
    paused = {job.id for job in jobs
              if job.id not in in_flight and is_paused(job, now, driven_here=False)}
    rows = [{
        "id": job.id,
        "type": job_kind(job),
        "status": "paused" if job.id in paused else job.status,
        "progress": job.progress,
        "processed": job.processed_items,
        "total": job.total_items,
        "errors": job.error_count,
        "created by": job.created_by,
        "created": job.created_at,
        # a paused job's clock stopped with its last chunk
        "elapsed": format_duration(job.elapsed(
            (job.last_progress_at or now) if job.id in paused else now)),
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


# A table whose rows open something: a click on the row's marker or on any of its cells
# (Streamlit's row selection alone takes only the marker column at the left).
ROW_CLICK: list[str] = ["single-row", "single-cell"]


def clicked_row(selection: Any) -> int | None:
    """The row a click on a ROW_CLICK table chose (its position in the frame), or None."""
    rows, cells = selection.get("rows") or [], selection.get("cells") or []
    if rows:
        return rows[0]
    return cells[0][0] if cells else None
