"""Background workers (``python -m jobcore worker``): long-running processes that drive the
jobs handed to them (``admin_jobs.background``) and advance every LLM job waiting on its
message batches (what ``tick`` does), one chunk at a time through runner.process_chunk,
as a page does: a chunk held by a page or another worker answers busy and the worker takes
another job; cancel lands between chunks; each chunk commits whole or not at all.

Several workers may run at once, on any machine that reaches the database. Each turn a
worker takes the job advanced least recently (never-run jobs first), so jobs share the
workers slice by slice (a worker goes on with one job for up to SLICE_SECONDS before it
asks again, so that picking costs nothing per chunk); a job whose message batches were
still running at its last poll, or that met a transient error (the LLM API down), rests
``poll_seconds`` in that worker. A job taken back (Take over) is never run by a worker
after that: its chunk checks under the job's row lock that it is still the workers'.
On SIGTERM (or Ctrl-C) a worker finishes the chunk it is in and stops.

Every ``prune_every`` seconds (PRUNE_EVERY_SECONDS, an hour) a worker also applies the
retention settings (``jobs/retention.py``), a few seconds at a time between chunks; with
several workers one prunes and the others find it done.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore import access
from jobcore.config import get_settings
from jobcore.db import get_engine, is_connection_error, unavailable
from jobcore.errors import DatabaseUnavailable, JobBusy, JobcoreError
from jobcore.jobs import retention, runner
from jobcore.jobs.drive import drive
from jobcore.jobs.registry import handlers
from jobcore.sql_rules import UNFINISHED_SQL, WAITING_ON_BATCHES_SQL

POLL_SECONDS = 30.0
IDLE_SECONDS = 2.0
PRUNE_SLICE_SECONDS = 5.0  # retention work between two chunks, at most

# The next job for a worker: handed to the workers, or an LLM job waiting on its batches;
# not one this worker rests (busy this turn, batches still running, a transient error);
# least recently advanced first. Two index-backed parts (ix_admin_jobs_background, and the
# processing jobs of the LLM types), so that a million finished jobs cost nothing.
_NEXT_JOB = sa.text(
    f"""
    SELECT id, background FROM (
        SELECT id, background, last_progress_at, created_at FROM admin_jobs
        WHERE background AND status IN {UNFINISHED_SQL}
        UNION
        SELECT id, background, last_progress_at, created_at FROM admin_jobs
        WHERE status = 'processing' AND job_type = ANY(:llm_types)
          AND {WAITING_ON_BATCHES_SQL}
    ) AS due
    WHERE NOT (id = ANY(:skip))
    ORDER BY last_progress_at NULLS FIRST, created_at
    LIMIT 1
    """
)
# A worker goes on with the job it picked for up to this long (chunk after chunk, without
# asking the database again) before it picks the least recently advanced job anew.
SLICE_SECONDS = 1.0


def default_name() -> str:
    """host:pid, how the chunk log names a worker's chunks ("worker host:pid")."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Worker:
    """One worker: ``step()`` runs one chunk of the next job, ``run()`` until stopped."""

    name: str
    engine: Engine | None = None
    poll_seconds: float = POLL_SECONDS
    idle_seconds: float = IDLE_SECONDS
    report: Callable[[str], None] = print
    # jobs this worker leaves alone until then (monotonic time): batches still running at
    # the last poll, or a transient error (the LLM API down)
    resting: dict[str, float] = field(default_factory=dict)
    # apply the retention settings this often (seconds; None: never, tests)
    prune_every: float | None = field(default_factory=lambda: get_settings().prune_every_seconds)
    next_prune: float = 0.0  # monotonic time of the next retention pass (0: at start)
    # the job of the current slice: its id, whether it was handed over, the slice's end
    current: tuple[str, bool, float] | None = None

    @property
    def driver(self) -> str:
        return f"worker {self.name}"

    def next_job(self, skip: set[str]) -> tuple[str, bool] | None:
        """The job this worker should advance now and whether it was handed to the workers
        (else an LLM job waiting on its batches); None: nothing to do.
        """
        llm_types = [h.job_type for h in handlers() if h.llm_batches]
        now = time.monotonic()
        self.resting = {j: until for j, until in self.resting.items() if until > now}
        try:
            with (self.engine or get_engine()).connect() as conn:
                row = conn.execute(_NEXT_JOB, {
                    "llm_types": llm_types, "skip": sorted(skip | set(self.resting))}
                ).first()
        except sa.exc.DBAPIError as exc:
            if is_connection_error(exc):
                raise unavailable(exc) from exc
            raise
        return (row.id, row.background) if row is not None else None

    def _pick(self, skip: set[str]) -> tuple[str, bool] | None:
        """The job of the current slice while it lasts, else the next job (a new slice)."""
        if self.current is not None:
            job_id, handed, until = self.current
            if time.monotonic() < until and job_id not in skip:
                return job_id, handed
            self.current = None
        picked = self.next_job(skip)
        if picked is not None:
            self.current = (*picked, time.monotonic() + SLICE_SECONDS)
        return picked

    def step(self) -> runner.ChunkReport | None:
        """One chunk of the next job that is not busy or resting; None when there is
        nothing to do.
        """
        skip: set[str] = set()
        while (picked := self._pick(skip)) is not None:
            job_id, handed = picked
            try:
                # one chunk (a slice of no time): between two chunks the worker checks for
                # a stop and retention, and picks again when its slice of this job ends
                report = drive(job_id, driven_by=self.driver, engine=self.engine, seconds=0.0,
                               poll_seconds=None, worker=handed)
            except JobBusy:  # a page or another worker has its chunk, or took it back
                skip.add(job_id)
                continue
            except DatabaseUnavailable:
                self.current = None
                raise
            except JobcoreError as exc:  # e.g. the LLM API is down: the job waits, others go
                self.report(f"{self.driver}: job {job_id}: {exc}; trying it again in "
                            f"{self.poll_seconds:g} s")
                self.resting[job_id] = time.monotonic() + self.poll_seconds
                self.current = None
                continue
            if runner.waiting_on_batches(report, engine=self.engine):
                # its batches are still running: poll again in poll_seconds
                self.resting[job_id] = time.monotonic() + self.poll_seconds
            if report.done or job_id in self.resting or (handed and not report.background):
                self.current = None
            self.report(f"{self.driver}: job {job_id}: {report.status}, "
                        f"{report.processed_items:,} of {report.total_items:,}")
            return report
        return None

    def prune_if_due(self) -> retention.PruneReport | None:
        """Apply the retention settings when due, for at most PRUNE_SLICE_SECONDS (the rest
        at the next turn); None when not due.
        """
        if self.prune_every is None or time.monotonic() < self.next_prune:
            return None
        try:
            pruned = retention.prune(engine=self.engine, max_seconds=PRUNE_SLICE_SECONDS)
        except sa.exc.DBAPIError as exc:
            if is_connection_error(exc):
                raise unavailable(exc) from exc
            # retention must not stop the jobs: say it, try again at the next interval
            self.report(f"{self.driver}: retention failed: {exc.__class__.__name__}: "
                        f"{str(exc.orig).splitlines()[0] if exc.orig else exc}")
            self.next_prune = time.monotonic() + self.prune_every
            return None
        if pruned.jobs or pruned.logs:
            self.report(f"{self.driver}: {pruned.summary()}")
        self.next_prune = time.monotonic() + (0.0 if not pruned.finished else self.prune_every)
        return pruned

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> int:
        """Advance jobs until ``stop`` is set (between chunks), or with ``until_idle`` until
        nothing is left to do; returns the chunks run.
        """
        with access.acting_as(access.Actor(self.driver, access.Role.ADMIN, "worker")):
            return self._run(stop, until_idle)

    def _run(self, stop: threading.Event, until_idle: bool) -> int:
        chunks = 0
        while not stop.is_set():
            try:
                self.prune_if_due()
                report = self.step()
            except DatabaseUnavailable as exc:
                self.report(f"{self.driver}: {exc}; trying again")
                stop.wait(self.idle_seconds)
                continue
            if report is None:
                if until_idle:
                    break
                stop.wait(self.idle_seconds)
            else:
                chunks += 1
        return chunks
