"""Background workers (``python -m jobcore worker``): long-running processes that drive the
jobs handed to them (``admin_jobs.background``) and advance every LLM job waiting on its
message batches (what ``tick`` does), one chunk at a time through runner.process_chunk,
as a page does: a chunk held by a page or another worker answers busy and the worker takes
another job; cancel lands between chunks; each chunk commits whole or not at all.

Several workers may run at once, on any machine that reaches the database. Each turn a
worker takes the job advanced least recently (never-run jobs first), so jobs share the
workers chunk by chunk; a job waiting on its message batches is polled at most every
``poll_seconds``. On SIGTERM (or Ctrl-C) a worker finishes the chunk it is in and stops.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobcore.db import get_engine
from jobcore.errors import DatabaseUnavailable, JobBusy, JobcoreError
from jobcore.jobs import runner
from jobcore.jobs.registry import handlers

POLL_SECONDS = 30.0
IDLE_SECONDS = 2.0

# The next job for a worker: handed to the workers, or an LLM job waiting on its batches;
# not one polled within :poll seconds; not one this turn found busy; least recently advanced.
_NEXT_JOB = sa.text(
    """
    SELECT id FROM admin_jobs
    WHERE status IN ('pending', 'processing')
      AND (background OR (status = 'processing' AND job_type = ANY(:llm_types)
                          AND coalesce(cursor ->> 'phase', '') = 'poll'))
      AND NOT (coalesce(cursor ->> 'phase', '') = 'poll'
               AND last_progress_at > now() - make_interval(secs => :poll))
      AND NOT (id = ANY(:skip))
    ORDER BY last_progress_at NULLS FIRST, created_at
    LIMIT 1
    """
)


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

    @property
    def driver(self) -> str:
        return f"worker {self.name}"

    def next_job(self, skip: set[str]) -> str | None:
        """The job this worker should advance now (None: nothing to do)."""
        llm_types = [h.job_type for h in handlers() if h.llm_batches]
        with (self.engine or get_engine()).connect() as conn:
            return conn.execute(_NEXT_JOB, {"llm_types": llm_types, "poll": self.poll_seconds,
                                            "skip": sorted(skip)}).scalar_one_or_none()

    def step(self) -> runner.ChunkReport | None:
        """One chunk of the next job that is not busy; None when there is nothing to do."""
        skip: set[str] = set()
        while (job_id := self.next_job(skip)) is not None:
            try:
                report = runner.process_chunk(job_id, engine=self.engine,
                                              driven_by=self.driver)
            except JobBusy:  # a page or another worker has its chunk: take another job
                skip.add(job_id)
                continue
            except DatabaseUnavailable:
                raise
            except JobcoreError as exc:  # e.g. the LLM API is down: the job waits, others go
                self.report(f"{self.driver}: job {job_id}: {exc}")
                skip.add(job_id)
                continue
            self.report(f"{self.driver}: job {job_id}: {report.status}, "
                        f"{report.processed_items:,} of {report.total_items:,}")
            return report
        return None

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> int:
        """Advance jobs until ``stop`` is set (between chunks), or with ``until_idle`` until
        nothing is left to do; returns the chunks run.
        """
        chunks = 0
        while not stop.is_set():
            try:
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
