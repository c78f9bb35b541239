"""Plotly figures of a job's progress and chunk history (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import plotly.graph_objects as go

from jobcore.jobs.store import ChunkRecord, JobSummary

COLOURS = {"success": "#2f9e44", "errors": "#e03131", "skipped": "#868e96",
           "remaining": "#dee2e6"}
THROUGHPUT_WINDOW = 20  # chunks


@dataclass(frozen=True)
class Throughput:
    """Recent items per second and the time left at that rate (None when unknown)."""

    items_per_second: float | None
    eta: timedelta | None


def throughput(job: JobSummary, chunks: list[ChunkRecord]) -> Throughput:
    """Rate over the last chunks (time spent in chunks, not idle time between clicks)."""
    recent = chunks[-THROUGHPUT_WINDOW:]
    busy = sum((c.finished_at - c.started_at).total_seconds() for c in recent)
    items = sum(c.processed for c in recent)
    if not recent or busy <= 0 or items == 0:
        return Throughput(None, None)
    rate = items / busy
    remaining = max(job.total_items - job.processed_items, 0)
    eta = None if job.is_finished else timedelta(seconds=remaining / rate)
    return Throughput(rate, eta)


# A processing job whose last chunk finished longer ago than this is paused: nobody is
# driving it (its items/s and ETA would describe a run that is not happening).
LIVE_WINDOW = timedelta(seconds=30)


def is_paused(job: JobSummary, now: datetime, *, driven_here: bool) -> bool:
    """Processing, not driven by this page, and no chunk has finished for LIVE_WINDOW."""
    last = job.last_progress_at or job.started_at or job.created_at
    return job.status == "processing" and not driven_here and now - last > LIVE_WINDOW


def progress_figure(job: JobSummary) -> go.Figure:
    """One horizontal bar: processed of total, split into success, errors and skipped."""
    remaining = max(job.total_items - job.processed_items, 0)
    parts = [("success", job.success_count), ("errors", job.error_count),
             ("skipped", job.skip_count), ("remaining", remaining)]
    figure = go.Figure()
    for label, value in parts:
        figure.add_bar(y=["items"], x=[value], name=f"{label} ({value:,})", orientation="h",
                       marker_color=COLOURS[label],
                       hovertemplate=f"{label}: %{{x:,}}<extra></extra>")
    figure.update_layout(
        barmode="stack", height=150, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title=f"{job.processed_items:,} of {job.total_items:,} processed",
        legend={"orientation": "h", "y": -0.4, "traceorder": "normal"},
        yaxis={"visible": False},
    )
    return figure


def chunks_figure(chunks: list[ChunkRecord]) -> go.Figure:
    """Items per chunk over time (stacked by outcome) and each chunk's items per second."""
    finished: list[datetime] = [c.finished_at for c in chunks]
    figure = go.Figure()
    for label, values in (("success", [c.success for c in chunks]),
                          ("errors", [c.errors for c in chunks]),
                          ("skipped", [c.skips for c in chunks])):
        figure.add_bar(x=finished, y=values, name=label, marker_color=COLOURS[label])
    rates = [c.processed / max((c.finished_at - c.started_at).total_seconds(), 1e-3)
             for c in chunks]
    figure.add_scatter(x=finished, y=rates, name="items/s", yaxis="y2", mode="lines+markers",
                       line={"color": "#1c7ed6"})
    figure.update_layout(
        barmode="stack", height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Items per chunk", xaxis_title="chunk finished",
        yaxis={"title": "items"},
        yaxis2={"title": "items/s", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.3},
    )
    return figure
