"""One loop drives a job (jobcore.jobs.drive): a page a slice of chunks at a time, the
command line to the end, waiting while the batches run."""

from __future__ import annotations

import pytest

from jobcore.errors import JobBusy
from jobcore.jobs.drive import drive_steps
from jobcore.jobs.runner import ChunkReport


def run_slice(step, **options) -> ChunkReport:
    """A page's slice: it rests (comes back later) while the batches run, and steps aside
    for the workers or another driver.
    """
    return drive_steps(step, poll_seconds=None, steps_aside=True, **options)


def _report(processed: int, *, total: int = 1000, moved: int = 50,
            background: bool = False) -> ChunkReport:
    return ChunkReport("job_1_a", "processing" if processed < total else "completed",
                       processed >= total, processed, total, processed, 0, 0, moved,
                       background=background)


class _Job:
    """A job whose chunks take ``seconds`` each on a fake clock."""

    def __init__(self, total: int = 1000, seconds: float = 0.1) -> None:
        self.total, self.seconds, self.now, self.chunks = total, seconds, 0.0, 0

    def clock(self) -> float:
        return self.now

    def step(self) -> ChunkReport:
        self.now += self.seconds
        self.chunks += 1
        return _report(min(self.chunks * 50, self.total), total=self.total)


def test_a_slice_takes_the_chunks_that_fit_and_reports_the_last():
    job = _Job()
    report = run_slice(job.step, seconds=0.35, clock=job.clock)
    assert job.chunks == 4 and report.processed_items == 200  # 0.1, 0.2, 0.3, then 0.4


def test_a_slice_ends_with_the_job_or_when_a_chunk_moves_nothing():
    job = _Job(total=120)
    assert run_slice(job.step, seconds=10, clock=job.clock).done and job.chunks == 3
    waiting = iter([_report(100, moved=0), _report(100)])
    assert run_slice(lambda: next(waiting), seconds=10).chunk_processed == 0  # one call only


def test_a_slice_of_zero_seconds_is_one_chunk_and_stop_ends_it_between_chunks():
    job = _Job()
    run_slice(job.step, seconds=0.0, clock=job.clock)
    assert job.chunks == 1
    asked = iter([True, False])  # Stop asked for after the second chunk
    run_slice(job.step, seconds=10, go_on=lambda report: next(asked), clock=job.clock)
    assert job.chunks == 1 + 2


def _then_taken(*reports: ChunkReport):
    """A step that gives these reports, then finds another driver holding the job."""
    calls = iter([*reports, JobBusy("another tab")])

    def step() -> ChunkReport:
        found = next(calls)
        if isinstance(found, Exception):
            raise found
        return found

    return step


def test_another_driver_taking_the_job_ends_the_slice_keeping_what_was_done():
    assert run_slice(_then_taken(_report(50)), seconds=10).processed_items == 50
    with pytest.raises(JobBusy):
        run_slice(lambda: (_ for _ in ()).throw(JobBusy("busy")), seconds=10)


def test_a_job_handed_to_the_workers_is_left_to_them():
    calls = []

    def step() -> ChunkReport:
        calls.append(1)
        return _report(50, background=True)

    run_slice(step, seconds=10)
    assert len(calls) == 1


def test_the_command_line_waits_between_polls_while_the_batches_run():
    reports = iter([_report(0, moved=0), _report(0, moved=0), _report(1000)])
    slept: list[float] = []
    final = drive_steps(lambda: next(reports), poll_seconds=30.0,
                        waiting=lambda report: report.chunk_processed == 0, sleep=slept.append)
    assert final.done and slept == [30.0, 30.0]  # two polls found them running


def test_a_worker_or_the_command_line_goes_on_with_a_job_handed_to_the_workers():
    reports = iter([_report(50, background=True), _report(1000, background=True)])
    assert drive_steps(lambda: next(reports), poll_seconds=None).done


def test_the_command_line_hears_of_another_driver_taking_the_job():
    with pytest.raises(JobBusy, match="another tab"):
        drive_steps(_then_taken(_report(50)))
