"""The reclassify-global command: local rules or Claude, with dry runs."""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

from jobcore.cli.common import (
    EXIT_OK,
    advance_until_done,
    drive_with_bar,
    positive_int,
    print_dry_run,
    print_report,
)
from jobcore.db import get_engine
from jobcore.errors import UsageError
from jobcore.jobs import runner
from jobcore.jobs.registry import get_handler
from jobcore.llm.batch_result import BatchResult


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """This module's command parsers."""
    rc = sub.add_parser("reclassify-global", help="reclassify topics with the local rules")
    rc.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    rc.add_argument("--limit", type=positive_int)
    rc.add_argument("--force", action="store_true", help="all topics, not only outdated ones")
    rc.add_argument("--verbose", action="store_true")
    rc.add_argument("--parent-category", metavar="X")
    rc.add_argument("--llm", action="store_true",
                    help="classify with Claude through the Message Batches API")
    rc.add_argument("--no-web-search", action="store_true", help="LLM mode: no web search")
    rc.add_argument("--fallback-local", action="store_true",
                    help="LLM mode: classify topics whose LLM result failed with the rules")
    rc.add_argument("--poll-seconds", type=float, default=30.0,
                    help="LLM mode: wait between polls while batches are processing")
    rc.add_argument("--concurrency", type=positive_int,
                    help="--llm: sub-batches submitted at the same time (1-16, default 4)")
    rc.add_argument("--background", action="store_true",
                    help="hand the job to the workers (python -m jobcore worker) and return")


def _cmd_reclassify(args) -> int:
    if args.concurrency is not None and not args.llm:
        raise UsageError("--concurrency is for --llm: how many sub-batches of 100 topics "
                         "are submitted to Anthropic at the same time.")
    config: dict = {"mode": "llm" if args.llm else "local", "force": args.force}
    if args.llm:
        config["enableWebSearch"] = not args.no_web_search
        config["fallbackLocal"] = args.fallback_local
        if args.concurrency is not None:
            config["concurrency"] = args.concurrency
    if args.limit is not None:
        config["limit"] = args.limit
    if args.parent_category is not None:
        config["parentCategoryFilter"] = args.parent_category
    if args.dry_run and args.llm:
        return _llm_dry_run(config)
    if args.dry_run:
        return _dry_run(config, verbose=args.verbose)
    if args.background:
        created = runner.create_job("reclassify", config, background=True)
        print(f"created job {created.id} for {created.total_items:,} topics, handed to the "
              f"workers; follow it with: python -m jobcore jobs show {created.id}")
        return EXIT_OK
    if args.llm:
        return _run_llm(config, poll_seconds=args.poll_seconds)
    created = runner.create_job("reclassify", config)
    print(f"created job {created.id} for {created.total_items:,} topics", file=sys.stderr)
    return print_report(drive_with_bar(created.id, created.total_items, verbose=args.verbose))


def _llm_dry_run(config: dict) -> int:
    from jobcore.llm.cost import estimate  # the prompt profiles: only here

    total = runner.count_items("reclassify", config)
    cost = estimate(total, get_handler("reclassify").cost_profile(config))
    u = cost.usage
    print(f"dry run: {total:,} topics would go to Claude in {-(-total // 100):,} message "
          f"batches; estimated {u.input_tokens + u.cache_read_tokens + u.cache_write_tokens:,} "
          f"input tokens ({u.cache_read_tokens:,} cache reads), {u.output_tokens:,} output "
          f"tokens, {u.web_searches:,} web searches: ${cost.dollars:,.2f} at batch prices; "
          "nothing was sent or written")
    return EXIT_OK


def _run_llm(config: dict, *, poll_seconds: float) -> int:
    from jobcore.llm.cost import actual

    created = runner.create_job("reclassify", config)
    print(f"created job {created.id} for {created.total_items:,} topics", file=sys.stderr)
    report = advance_until_done(created.id, poll_seconds=poll_seconds)
    spent = actual(BatchResult.of(runner.get_job(created.id).result).usage)
    print(f"usage: {spent.usage.as_dict()}; cost ${spent.dollars:,.2f}")
    return print_report(report)


def _dry_run(config: dict, *, verbose: bool) -> int:
    from jobcore.classify.reclassify import preview  # the classifier: only here

    parsed = get_handler("reclassify").parse_config(config)
    with get_engine().connect() as conn:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        changes = preview(conn, parsed)
        conn.rollback()
    def describe(change) -> str:
        old, new = change.topic.classification.as_dict(), change.new.as_dict()
        return ", ".join(f"{k}: {old[k]!r} -> {new[k]!r}" for k in new if old[k] != new[k])

    return print_dry_run(changes, describe, verbose=verbose)


COMMANDS = {
    "reclassify-global": _cmd_reclassify,
}
