"""Who drives a job, as its detail page says it (jobcore.ui.driving): a job between two
chunks reads as driven elsewhere only while a driver that has not stopped holds it.
"""

from __future__ import annotations

from datetime import timedelta

from jobcore.jobs.store import ChunkRecord
from jobcore.ui.driving import driving
from tests.ui.test_ui_helpers import T0, _job

LAST = ChunkRecord(8, T0 - timedelta(seconds=1), T0, 50, 50, 0, 0, "ana")


def _said(job, *, seconds_after=5, **kwargs):
    options = {"driven_here": False, "flight": None, "stuck": False, "stopped_here": False}
    return driving(job, [LAST], T0 + timedelta(seconds=seconds_after), **{**options, **kwargs})


def test_a_job_whose_driver_stopped_reads_paused_at_once_not_running_elsewhere():
    # its last chunk finished 5 s ago, and its driver let go (a Stop, a closed tab, a
    # command that ended, a Resume that nobody has driven yet)
    said = _said(_job(driver=None))
    assert said.state == "paused"
    assert "Nobody is driving this job" in said.message and not said.live


def test_a_job_a_driver_still_holds_reads_running_elsewhere_by_that_driver():
    said = _said(_job(driver="bob (command line)"))
    assert said.state == "elsewhere" and said.live
    assert "driving this job by **bob (command line)**" in said.message


def test_a_driver_that_went_quiet_without_letting_go_reads_paused_after_30_seconds():
    # a killed process never releases the job
    assert _said(_job(driver="bob"), seconds_after=31).state == "paused"


def test_a_first_chunk_that_loads_a_model_is_said_with_its_stop_before_it_starts():
    said = _said(_job(status="pending", processed_items=0, chunk_count=0), driven_here=True,
                 loading=["the embedding model"])
    assert said.state == "starting"
    assert said.heading.endswith("Starting")
    assert "Loading the embedding model" in said.message and "Stop" in said.message
