"""What the command-line modules share: exit codes, argument types, driving a job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tqdm import tqdm

from jobcore.config import get_settings
from jobcore.jobs import runner
from jobcore.jobs.drive import drive

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """argparse whose own errors exit with EXIT_USAGE after the usage line."""

    def error(self, message: str):  # argparse's own errors: usage, exit code 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message}\n")


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cli_driver() -> str:
    """Who the chunk log says drove a chunk from the command line."""
    return f"{get_settings().admin_user} (command line)"


def drive_with_bar(job_id: str, total: int, *, verbose: bool, unit: str = "topic",
                   poll_seconds: float | None = None) -> runner.ChunkReport:
    """Drive a job to the end with a progress bar; returns the final report. With
    ``poll_seconds``, a chunk that finds its message batches still processing waits that
    long before the next poll.
    """
    seen_errors = 0
    with tqdm(total=total, unit=unit, dynamic_ncols=True, file=sys.stderr) as bar:
        def on_chunk(report: runner.ChunkReport) -> None:
            nonlocal seen_errors
            if report.total_items != bar.total:  # the job found more to do
                bar.total = report.total_items
            bar.update(report.chunk_processed)
            if poll_seconds and not report.done and runner.waiting_on_batches(report):
                bar.write(f"batches processing; next poll in {poll_seconds:g} s")
            bar.set_postfix(ok=report.success_count, err=report.error_count,
                            skip=report.skip_count)
            if verbose and report.error_count > seen_errors:
                for err in runner.job_errors(job_id, offset=seen_errors):
                    bar.write(f"  error {err.get('id', '')} {err.get('name', '')}: "
                              f"{err['message']}")
                seen_errors = report.error_count

        return drive(job_id, driven_by=cli_driver(), poll_seconds=poll_seconds or 0.0,
                     on_chunk=on_chunk)


def print_report(report: runner.ChunkReport, *, changed: str = "changed",
                 skipped: str = "unchanged") -> int:
    """One line of counters (the failure on stderr); the exit code of the job's outcome."""
    print(f"job {report.job_id}: {report.status}; processed {report.processed_items:,} of "
          f"{report.total_items:,}: {report.success_count:,} {changed}, "
          f"{report.error_count:,} errors, {report.skip_count:,} {skipped}")
    if report.failure_message:
        print(f"failure: {report.failure_message}", file=sys.stderr)
    return EXIT_OK if report.status == "completed" else EXIT_FAILED


def advance_until_done(job_id: str, *, poll_seconds: float) -> runner.ChunkReport:
    """Drive a job to the end; while its batches are still processing, wait between polls
    (and say so).
    """
    def on_chunk(report: runner.ChunkReport) -> None:
        if not report.done and runner.waiting_on_batches(report):
            print(f"batches processing; {report.processed_items:,} of "
                  f"{report.total_items:,} done, next poll in {poll_seconds:g} s",
                  file=sys.stderr)

    return drive(job_id, driven_by=cli_driver(), poll_seconds=poll_seconds,
                 on_chunk=on_chunk)


def print_dry_run(plans: Sequence[Any], describe: Callable[[Any], str], *,
                  verbose: bool) -> int:
    """The lines of a dry run over per-topic plans (each with ``topic.id``, ``topic.name``,
    ``changed`` and ``error``): what would change (``describe``), what would fail, with
    ``verbose`` what stays; then the counts.
    """
    changed = [p for p in plans if p.changed]
    failed = [p for p in plans if p.error]
    for plan in changed:
        print(f"would change {plan.topic.id} {plan.topic.name!r}: {describe(plan)}")
    for plan in failed:
        print(f"would fail {plan.topic.id} {plan.topic.name!r}: {plan.error}")
    if verbose:
        for plan in plans:
            if not plan.changed and not plan.error:
                print(f"unchanged {plan.topic.id} {plan.topic.name!r}")
    print(f"dry run: {len(plans):,} eligible topics: {len(changed):,} would change, "
          f"{len(failed):,} would fail, {len(plans) - len(changed) - len(failed):,} "
          "unchanged; nothing was written")
    return EXIT_OK
