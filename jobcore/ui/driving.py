"""Who drives a job, as its detail page says it: this page, the workers, another tab or
process (a chunk in flight, or stuck), or nobody (paused). A pure decision from what the
page has read; the page renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from jobcore.jobs.store import ChunkInFlight, ChunkRecord, JobSummary
from jobcore.ui.charts import is_paused
from jobcore.ui.tables import format_duration

# a background job a worker advanced within this is being driven (a worker polls an LLM
# job's batches every 30 s, and several jobs share a worker)
WORKER_WINDOW = timedelta(minutes=2)

STATUS_ICONS = {"pending": ":material/schedule:", "processing": ":material/sync:",
                "completed": ":material/check_circle:", "failed": ":material/error:",
                "cancelled": ":material/cancel:"}


@dataclass(frozen=True)
class Driving:
    """What the page says about who drives the job."""

    state: str  # background, in flight, stuck, paused, elsewhere, or the job's status
    heading: str  # markdown, with its icon
    message: str | None = None  # markdown
    level: Literal["info", "warning"] = "info"
    live: bool = False  # items/s and ETA describe a run that is happening
    stuck: bool = False  # offer "Stop the stuck chunk"


def _who(driver: str | None) -> str:
    return f" by **{driver}**" if driver else ""


def _background(job: JobSummary, chunks: list[ChunkRecord], now: datetime) -> Driving:
    last = chunks[-1] if chunks else None
    heading = "### :material/cloud_sync: In the background"
    if last is not None and last.finished_at >= now - WORKER_WINDOW:
        return Driving("background", heading,
                       f"The workers drive this job: its last chunk{_who(last.driven_by)} "
                       f"finished at {last.finished_at:%H:%M:%S} UTC. This page follows it; "
                       "**Take over** brings it back here.", live=True)
    if now - job.updated_at < WORKER_WINDOW:  # just handed over
        return Driving("background", heading,
                       "Handed to the workers: the next free worker takes it. This page "
                       "follows it; **Take over** brings it back here.")
    return Driving("background", heading,
                   "Handed to the workers, but no worker has advanced it for 2 minutes: is "
                   "`python -m jobcore worker` running? (**Take over** runs it here.)",
                   level="warning")


def _stuck(flight: ChunkInFlight) -> Driving:
    open_for = format_duration(timedelta(seconds=flight.open_seconds))
    waiting = format_duration(timedelta(seconds=flight.idle_seconds))
    return Driving(
        "stuck", "### :material/running_with_errors: Stuck",
        f"A chunk started at {flight.started_at:%H:%M:%S} UTC{_who(flight.driven_by)} has been "
        f"open for {open_for} and waiting on its driver for {waiting}: its driver hangs or "
        "cannot reach the database. Stopping it rolls the chunk back whole (nothing is "
        "half-done); if its driver is alive after all, it does the chunk again (a platform "
        "push in it too).", level="warning", stuck=True)


def _starting(loading: list[str]) -> Driving:
    return Driving("starting", "### :material/hourglass_top: Starting",
                   f"Loading {' and '.join(loading)} before the first chunk (once in this "
                   "app's process; the chunks follow at once). A **Stop** now lands once it "
                   "has loaded.")


def driving(job: JobSummary, chunks: list[ChunkRecord], now: datetime, *,
            driven_here: bool, flight: ChunkInFlight | None, stuck: bool,
            stopped_here: bool, loading: list[str] | None = None) -> Driving:
    """Who drives ``job``: ``driven_here`` (this page runs it), ``flight`` (a chunk some
    process runs now, ``stuck`` when open too long), ``stopped_here`` (this page stopped it
    and nobody has driven it since). Between two chunks, the job's ``driver`` says whether
    somebody drives it (a driver that stopped released it); one that went quiet for
    sql_rules.PAUSED_AFTER (a killed process never releases) reads as paused too.
    ``loading``: what this page loads before its next chunk (it says so first).
    """
    if job.background and not job.is_finished:
        return _background(job, chunks, now)
    if driven_here and loading and not job.is_finished:
        return _starting(loading)
    if job.status != "processing" or driven_here:
        return Driving(job.status, f"### {STATUS_ICONS[job.status]} {job.status.title()}",
                       live=job.status == "processing")
    if flight is not None and stuck:
        return _stuck(flight)
    running_elsewhere = f"### {STATUS_ICONS['processing']} Running elsewhere"
    if flight is not None:
        return Driving("in flight", running_elsewhere,
                       f"Another tab or process is running a chunk{_who(flight.driven_by)} "
                       f"(started {flight.started_at:%H:%M:%S} UTC); this page follows its "
                       "progress.", live=True)
    if stopped_here or is_paused(job, now, driven_here=False):
        last = job.last_progress_at or job.created_at
        driver = chunks[-1].driven_by if chunks else None
        return Driving("paused", "### :material/pause_circle: Paused",
                       f"Nobody is driving this job: its last chunk finished at "
                       f"{last:%Y-%m-%d %H:%M:%S} UTC{_who(driver)} ({job.processed_items:,} "
                       f"of {job.total_items:,} done). Press **Run** to go on from there.")
    # between two chunks of a driver that has not stopped (nor gone quiet for long)
    last_chunk = chunks[-1] if chunks else None
    return Driving("elsewhere", running_elsewhere,
                   f"Another tab or process is driving this job{_who(job.driver)}"
                   + (f": its last chunk finished at {last_chunk.finished_at:%H:%M:%S} UTC"
                      if last_chunk else "")
                   + "; this page follows its progress.", live=True)
