"""The jobs commands (list, show, process, cancel, resume, background, take-over), tick,
the background worker and prune (retention).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from jobcore.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Parser,
    cli_driver,
    drive_with_bar,
    print_report,
)
from jobcore.jobs import retention, runner
from jobcore.jobs.drive import drive
from jobcore.jobs.registry import job_types
from jobcore.jobs.ticks import tick
from jobcore.jobs.worker import POLL_SECONDS, Worker, default_name
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
    lst.add_argument("--search", metavar="TEXT",
                     help="jobs given or touching this: a config value (a category, a source "
                          "job), a job id, or a topic id (in their config, changes or errors)")
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
    background = jsub.add_parser("background", help="hand a job to the workers (python -m "
                                                    "jobcore worker)")
    background.add_argument("job_id")
    take = jsub.add_parser("take-over", help="take a job back from the workers")
    take.add_argument("job_id")
    worker = sub.add_parser("worker", help="drive background jobs and LLM jobs waiting on "
                                           "their batches until stopped (SIGTERM: after the "
                                           "chunk in hand)")
    worker.add_argument("--name", help="how the chunk log names this worker (default "
                                       "host:pid)")
    worker.add_argument("--poll-seconds", type=float, default=POLL_SECONDS,
                        help="poll an LLM job's batches at most this often")
    worker.add_argument("--until-idle", action="store_true",
                        help="stop when no job is left to advance (for tests and cron)")
    prune = sub.add_parser("prune", help="apply the retention settings: remove old finished "
                                         "jobs' chunk logs and staged LLM results "
                                         "(CHUNK_LOG_RETENTION_DAYS, default 30) and, with "
                                         "JOB_RETENTION_DAYS, old finished jobs")
    prune.add_argument("--dry-run", action="store_true",
                       help="only count what would be removed")


def _jobs_list(args) -> int:
    jobs = runner.list_jobs(job_type=args.job_type, status=args.status, limit=args.limit,
                            mentioning=args.search)
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
        return print_report(drive_with_bar(job.id, remaining, verbose=False))
    report = drive(args.job_id, driven_by=cli_driver(), seconds=0.0)  # one chunk
    print(f"chunk: {report.chunk_processed} items")
    print_report(report)
    return EXIT_FAILED if report.status == "failed" else EXIT_OK


def _jobs_cancel(args) -> int:
    job = runner.cancel_job(args.job_id, by=cli_driver())
    print(f"job {job.id} cancelled after {job.processed_items:,} of {job.total_items:,} items")
    return EXIT_OK


def _jobs_resume(args) -> int:
    job = runner.resume_job(args.job_id)
    print(f"job {job.id} resumed from its cursor ({job.processed_items:,} of "
          f"{job.total_items:,} items done); go on with: python -m jobcore jobs process "
          f"{job.id} --all")
    return EXIT_OK


def _jobs_background(args) -> int:
    if runner.run_in_background(args.job_id, by=cli_driver()):
        print(f"job {args.job_id} handed to the workers (python -m jobcore worker)")
    else:
        print(f"job {args.job_id} is finished or already the workers'")
    return EXIT_OK


def _jobs_take_over(args) -> int:
    if runner.take_over(args.job_id, by=cli_driver()):
        print(f"job {args.job_id} taken back from the workers; go on with: python -m jobcore "
              f"jobs process {args.job_id} --all")
    else:
        print(f"job {args.job_id} was not the workers'")
    return EXIT_OK


def _cmd_jobs(args) -> int:
    actions = {"list": _jobs_list, "show": _jobs_show, "process": _jobs_process,
               "cancel": _jobs_cancel, "resume": _jobs_resume,
               "background": _jobs_background, "take-over": _jobs_take_over}
    return actions[args.action](args)


def _cmd_worker(args) -> int:
    stop = threading.Event()

    def request_stop(signum, frame) -> None:  # between chunks: the one in hand commits
        # os.write, not print: a handler may interrupt a print of the worker's own
        os.write(sys.stdout.fileno(), f"worker: {signal.Signals(signum).name}: stopping "
                                      "after this chunk\n".encode())
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM,
                                                                   signal.SIGINT)}
    try:
        worker = Worker(args.name or default_name(), poll_seconds=args.poll_seconds,
                        report=lambda line: print(line, flush=True))
        print(f"{worker.driver}: started", flush=True)
        chunks = worker.run(stop, until_idle=args.until_idle)
        print(f"{worker.driver}: stopped after {chunks:,} chunks", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


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


def _cmd_prune(args) -> int:
    policy = retention.Policy.from_settings()
    print(policy.describe())
    print(retention.prune(policy=policy, dry_run=args.dry_run).summary())
    return EXIT_OK


COMMANDS = {
    "prune": _cmd_prune,
    "jobs": _cmd_jobs,
    "tick": _cmd_tick,
    "worker": _cmd_worker,
}
