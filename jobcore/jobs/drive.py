"""One loop that drives a job: process a chunk, again and again, waiting while its message
batches run, until the job is finished, a time slice ends or the driver asks to stop. The
page's Run (a slice per rerun), the command line, ``run_to_completion`` and the worker (a
slice of the job it picked) all drive through it, so they agree on when to go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

from jobcore.errors import JobBusy
from jobcore.jobs import runner
from jobcore.jobs.runner import ChunkReport


def drive_steps(step: Callable[[], ChunkReport], *, seconds: float | None = None,
                poll_seconds: float | None = 0.0,
                waiting: Callable[[ChunkReport], bool] = lambda report: False,
                go_on: Callable[[ChunkReport], bool] = lambda report: True,
                on_chunk: Callable[[ChunkReport], None] | None = None,
                steps_aside: bool = False, clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> ChunkReport:
    """Call ``step`` (one chunk) once, then again until one of these, and return the last
    report (``on_chunk`` sees each):

    - the job is finished;
    - ``steps_aside`` (a page): the job was handed to the workers, or another driver took it
      between two chunks (its JobBusy); otherwise the loop goes on, or the JobBusy reaches
      the caller (the command line says who has the job);
    - ``go_on(report)`` says no (a Stop pressed in between);
    - ``seconds`` have passed (a slice; None: no limit);
    - a chunk moved nothing while the driver rests between polls (``poll_seconds`` None: a
      page or a worker comes back later); with ``poll_seconds`` a chunk that finds the
      batches still running (``waiting``) is followed by that long a wait.

    A JobBusy on the first chunk always reaches the caller (another driver has the job).
    """
    ends_at = None if seconds is None else clock() + seconds
    report = step()
    while True:
        if on_chunk is not None:
            on_chunk(report)
        if report.done or (report.background and steps_aside) or not go_on(report):
            return report
        if poll_seconds is None:
            if not report.chunk_processed:  # waiting on its batches: rest, come back
                return report
        elif waiting(report):
            sleep(poll_seconds)
        if ends_at is not None and clock() >= ends_at:
            return report
        try:
            report = step()
        except JobBusy:  # another driver took the job between two chunks
            if steps_aside:
                return report
            raise


def drive(job_id: str, *, driven_by: str | None, engine: Engine | None = None,
          seconds: float | None = None, poll_seconds: float | None = 0.0,
          go_on: Callable[[ChunkReport], bool] = lambda report: True,
          on_chunk: Callable[[ChunkReport], None] | None = None,
          worker: bool = False, steps_aside: bool = False,
          keeps_driving: bool = False) -> ChunkReport:
    """``drive_steps`` over ``runner.process_chunk`` of one job (``worker``: only while it
    is handed to the workers). Each chunk names ``driven_by`` the job's driver; when the
    loop ends the job is released (driven by nobody), unless ``keeps_driving``: a page
    drives slice after slice and releases it when it stops.
    """
    try:
        return drive_steps(
            lambda: runner.process_chunk(job_id, engine=engine, driven_by=driven_by,
                                         only_if_background=worker),
            seconds=seconds, poll_seconds=poll_seconds, go_on=go_on, on_chunk=on_chunk,
            waiting=lambda report: runner.waiting_on_batches(report, engine=engine),
            steps_aside=steps_aside)
    finally:
        if not keeps_driving:
            runner.release_driver(job_id, driven_by, engine=engine)


def run_to_completion(job_id: str, *, engine: Engine | None = None,
                      on_chunk: Callable[[ChunkReport], None] | None = None,
                      driven_by: str | None = None) -> ChunkReport:
    """Process chunks until the job is finished, polling its batches without a pause
    (tests and benchmarks, whose fake servers answer at once).
    """
    return drive(job_id, driven_by=driven_by, engine=engine, on_chunk=on_chunk)
