"""The jobs commands (list, show, process, cancel, resume) and tick."""

from __future__ import annotations

import argparse
import json

from jobcore.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Parser,
    cli_driver,
    drive,
    print_report,
)
from jobcore.jobs import runner
from jobcore.jobs.registry import job_types
from jobcore.jobs.ticks import tick
from jobcore.schema import JOB_STATUSES


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """This module's command parsers."""
    sub.add_parser("tick", help="advance every LLM job waiting on its batches by one step "
                                "(for cron or any scheduler)")
    jobs = sub.add_parser("jobs", help="list, show, process, cancel or resume any job")
    jsub = jobs.add_subparsers(dest="action", required=True, parser_class=Parser)
    lst = jsub.add_parser("list")
    lst.add_argument("--type", dest="job_type", choices=job_types())
    lst.add_argument("--status", choices=JOB_STATUSES)
    lst.add_argument("--limit", type=int, default=20)
    show = jsub.add_parser("show")
    show.add_argument("job_id")
    proc = jsub.add_parser("process", help="process one chunk, or all with --all")
    proc.add_argument("job_id")
    proc.add_argument("--all", action="store_true")
    cancel = jsub.add_parser("cancel")
    cancel.add_argument("job_id")
    resume = jsub.add_parser("resume", help="put a failed job back to processing from its "
                                            "cursor (then: jobs process JOB_ID --all)")
    resume.add_argument("job_id")


def _jobs_list(args) -> int:
    jobs = runner.list_jobs(job_type=args.job_type, status=args.status, limit=args.limit)
    for job in jobs:
        print(f"{job.id}  {job.job_type:<20} {job.status:<10} "
              f"{job.processed_items:>7,}/{job.total_items:<7,} ok={job.success_count} "
              f"err={job.error_count} skip={job.skip_count}  {job.created_by}  "
              f"{job.created_at:%Y-%m-%d %H:%M}")
    if not jobs:
        print("no jobs")
    return EXIT_OK


SHOWN_ERRORS = 50


def _jobs_show(args) -> int:
    job = runner.get_job(args.job_id, with_errors=False)
    data = {k: v for k, v in job.__dict__.items() if k not in ("errors", "cursor")}
    print(json.dumps(data, default=str, indent=2))
    for event in runner.job_events(job.id):
        print(f"{event.created_at:%Y-%m-%d %H:%M:%S} {event.kind}"
              + (f" by {event.created_by}" if event.created_by else "")
              + (f": {event.message}" if event.message else ""))
    print(f"errors ({job.error_count:,}):")
    for err in runner.job_errors(job.id, limit=SHOWN_ERRORS):
        print(f"  {err.get('id', '')} {err.get('name', '')}: {err['message']}")
    if job.error_count > SHOWN_ERRORS:
        print(f"  ... and {job.error_count - SHOWN_ERRORS:,} more (the API's job record and "
              "the job page's CSV export have them all)")
    return EXIT_OK


def _jobs_process(args) -> int:
    if args.all:
        job = runner.get_job_summary(args.job_id)
        remaining = job.total_items - job.processed_items
        return print_report(drive(job.id, remaining, verbose=False))
    report = runner.process_chunk(args.job_id, driven_by=cli_driver())
    print(f"chunk: {report.chunk_processed} items")
    print_report(report)
    return EXIT_FAILED if report.status == "failed" else EXIT_OK


def _jobs_cancel(args) -> int:
    job = runner.cancel_job(args.job_id)
    print(f"job {job.id} cancelled after {job.processed_items:,} of {job.total_items:,} items")
    return EXIT_OK


def _jobs_resume(args) -> int:
    job = runner.resume_job(args.job_id)
    print(f"job {job.id} resumed from its cursor ({job.processed_items:,} of "
          f"{job.total_items:,} items done); go on with: python -m jobcore jobs process "
          f"{job.id} --all")
    return EXIT_OK


def _cmd_jobs(args) -> int:
    actions = {"list": _jobs_list, "show": _jobs_show, "process": _jobs_process,
               "cancel": _jobs_cancel, "resume": _jobs_resume}
    return actions[args.action](args)


def _cmd_tick(args) -> int:

    outcomes = tick()
    for o in outcomes:
        if o.report is not None:
            print(f"job {o.job_id}: {o.report.status}, {o.report.processed_items:,} of "
                  f"{o.report.total_items:,} processed (+{o.report.chunk_processed:,})")
        else:
            print(f"job {o.job_id}: {o.problem}")
    if not outcomes:
        print("no LLM job is waiting on its batches")
    return EXIT_OK


COMMANDS = {
    "jobs": _cmd_jobs,
    "tick": _cmd_tick,
}
