"""How a page drives a job: as many chunks per rerun as fit in a short time slice, so that a
run from the page goes at close to the command line's rate, while its progress stays live
and a Stop or Cancel lands within the slice (each chunk still commits on its own). The
slice is PAGE_SLICE_SECONDS long (0.7 s by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jobcore.errors import JobBusy
from jobcore.jobs.runner import ChunkReport


def run_slice(step: Callable[[], ChunkReport], *, seconds: float,
              go_on: Callable[[], bool] = lambda: True,
              clock: Callable[[], float] = time.monotonic) -> ChunkReport:
    """Run ``step`` (one chunk) once, then again while the slice lasts, the job goes on
    (not finished, not handed to the workers, the last chunk moved something: an LLM job
    waiting on its batches moves nothing) and ``go_on()`` (a Stop asked for in between).
    A JobBusy after the first chunk (another tab took the job) ends the slice with the
    last report; on the first it reaches the caller.
    """
    ends_at = clock() + seconds
    report = step()
    while (not report.done and not report.background and report.chunk_processed
           and clock() < ends_at and go_on()):
        try:
            report = step()
        except JobBusy:
            break
    return report
