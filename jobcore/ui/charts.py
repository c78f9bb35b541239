"""Plotly figures of a job's progress and chunk history (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import plotly.graph_objects as go

from jobcore import sql_rules
from jobcore.jobs.store import ChunkRecord, JobSummary
from jobcore.ui.forms import plural

COLOURS = {"success": "#2f9e44", "errors": "#e03131", "skipped": "#868e96",
           "remaining": "#dee2e6"}
THROUGHPUT_WINDOW = 20  # chunks


@dataclass(frozen=True)
class Throughput:
    """Recent items per second and the time left at that rate (None when unknown)."""

    items_per_second: float | None
    eta: timedelta | None


# A gap between two chunks shorter than this is the driver's own cost of a chunk (a page's
# rerun, an HTTP round trip) and counts in the rate; a longer one is nobody driving.
DRIVER_GAP = timedelta(seconds=5)
# a rate (and an ETA) needs this many chunks: one chunk leaves out the driver's gaps and is
# often not like the rest (it read 873 items/s, ETA 2 s, for a run that took 28 s)
MIN_RATE_CHUNKS = 2


def count_axis(largest: float) -> dict[str, Any]:
    """A plotly axis of counts: from zero, whole numbers, ticks a round step apart (1, 2, 5
    times a power of ten) so that no tick reads 26.9 topics.
    """
    step = 1
    while largest / step > 5:  # 1, 2, 5, 10, 20, 50...
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return {"rangemode": "tozero", "tickformat": ",d", "tick0": 0, "dtick": step}


def _driving_seconds(chunks: list[ChunkRecord]) -> float:
    """The seconds these consecutive chunks took their driver: their work and the short
    gaps between them, not their one-time loads nor idle time.
    """
    gaps = (later.started_at - earlier.finished_at for earlier, later in pairwise(chunks))
    return sum(c.work_seconds for c in chunks) + sum(
        g.total_seconds() for g in gaps if timedelta(0) < g < DRIVER_GAP)


def throughput(job: JobSummary, chunks: list[ChunkRecord]) -> Throughput:
    """Rate over the last chunks as the driver gets it: the time in chunks and the short
    gaps between them (a page's rerun per chunk), not idle time between clicks, nor a
    one-time load inside a chunk (an embedding model), which the chunks to come will not pay.
    """
    recent = [c for c in chunks if c.processed][-THROUGHPUT_WINDOW:]
    busy = _driving_seconds(recent)
    items = sum(c.processed for c in recent)
    if len(recent) < MIN_RATE_CHUNKS or busy <= 0 or items == 0:
        return Throughput(None, None)
    rate = items / busy
    remaining = max(job.total_items - job.processed_items, 0)
    eta = None if job.is_finished else timedelta(seconds=remaining / rate)
    return Throughput(rate, eta)


def is_paused(job: JobSummary, now: datetime, *, driven_here: bool) -> bool:
    """Not driven by this page, and paused as the job list's filter says (sql_rules)."""
    last = job.last_progress_at or job.started_at or job.created_at
    return not driven_here and sql_rules.is_paused(job.status, last, now, driver=job.driver,
                                                   background=job.background)


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


RATE_WINDOW = 5  # chunks: a rate over a few chunks, so one tiny last chunk does not spike


def chunk_rates(chunks: list[ChunkRecord]) -> list[float | None]:
    """Items per second at each chunk, over it and the chunks just before it (up to
    RATE_WINDOW), counted as the Items/s figure is (see throughput); None where no time was
    measured.
    """
    rates: list[float | None] = []
    for i in range(len(chunks)):
        window = chunks[max(0, i - RATE_WINDOW + 1):i + 1]
        seconds = _driving_seconds(window)
        measured = len(window) >= MIN_RATE_CHUNKS and seconds > 0
        rates.append(sum(c.processed for c in window) / seconds if measured else None)
    return rates


def chunks_figure(chunks: list[ChunkRecord]) -> go.Figure:
    """Items per chunk, by chunk number (stacked by outcome), and the items per second
    over the last few chunks; a chunk that loaded something once (an embedding model) is
    marked with what and how long, and that time is left out of the rate. Chunks without
    items (an LLM job's submits and its polls while the batches run) are left out, counted
    in the title.
    """
    empty = sum(1 for c in chunks if not c.processed and not c.loaded)
    chunks = [c for c in chunks if c.processed or c.loaded]
    numbers = [c.seq for c in chunks]
    hover = [f"chunk {c.seq}, finished {c.finished_at:%H:%M:%S}, "
             f"{(c.finished_at - c.started_at).total_seconds():.2f} s"
             + (f" (of which {c.load_seconds:.1f} s loading {c.loaded})" if c.loaded else "")
             + (f"<br>driven by {c.driven_by}" if c.driven_by else "") for c in chunks]
    figure = go.Figure()
    for label, values in (("success", [c.success for c in chunks]),
                          ("errors", [c.errors for c in chunks]),
                          ("skipped", [c.skips for c in chunks])):
        figure.add_bar(x=numbers, y=values, name=label, marker_color=COLOURS[label],
                       customdata=hover,
                       hovertemplate=f"{label}: %{{y:,}}<br>%{{customdata}}<extra></extra>")
    rates = chunk_rates(chunks)
    fastest = max((r for r in rates if r is not None), default=0)
    figure.add_scatter(x=numbers, y=rates, name="items/s", yaxis="y2",
                       mode="lines+markers", line={"color": "#1c7ed6"},
                       hovertemplate="%{y:,.0f} items/s<extra></extra>")
    count, last = len(chunks), max(numbers, default=1)
    loads = [f"{c.loaded} in chunk {c.seq} ({c.load_seconds:.0f} s)" for c in chunks if c.loaded]
    if loads:  # one line under the title: several loads in a row would overlap as notes
        figure.add_annotation(x=0, xref="paper", y=1, yref="paper", showarrow=False,
                              xanchor="left", yanchor="bottom",
                              font={"size": 11, "color": "#495057"},
                              text="Loaded once: " + "; ".join(loads))
    figure.update_layout(
        barmode="stack", height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title="Items per chunk" + (f" ({plural(empty, 'chunk')} without items not shown)"
                                   if empty else ""),
        bargap=0.2 if count > 1 else 0.6,
        # whole chunk numbers, one tick each while few: never a sub-second time axis
        xaxis={"title": "chunk", "tickformat": "d", "range": [0.5, last + 0.5],
               **({"dtick": 1} if last <= 20 else {})},
        yaxis={"title": "items", **count_axis(max((c.processed for c in chunks), default=1))},
        # its own round ticks, not steps matched to the items axis (238, 476...)
        yaxis2={"title": "items/s", "overlaying": "y", "side": "right", "showgrid": False,
                "tickmode": "linear", **count_axis(fastest or 1)},
        legend={"orientation": "h", "y": -0.3},
    )
    return figure
