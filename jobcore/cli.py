"""python -m jobcore ...: the command line for the same operations as the app.

Exit codes: 0 done, 1 the operation failed (database down, job failed or busy),
2 a usage error (bad arguments, unknown job, invalid config).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import sqlalchemy as sa
from tqdm import tqdm

from jobcore import cli_trees, clusters, recovery, runner
from jobcore.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    advance_until_done,
    drive,
    positive_int,
    print_dry_run,
    print_report,
)
from jobcore.db import describe_database, get_engine
from jobcore.errors import JobcoreError, UsageError
from jobcore.schema import JOB_STATUSES


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m jobcore", description="AudienceGPT admin jobs")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "status"])

    demo = sub.add_parser("seed-demo", help="load a demo catalogue into an empty database")
    demo.add_argument("--topics", type=positive_int, default=2000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--reset", action="store_true",
                      help="wipe the catalogue and all jobs first")

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

    serve = sub.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-access-log", action="store_true",
                       help="do not log each request (saves a little time per call)")

    token = sub.add_parser("api-token", help="make a new HTTP API token for API_TOKENS")
    token.add_argument("--owner", required=True, help="who the token acts as (created_by)")

    embed = sub.add_parser("embed", help="embed topics whose embedding is missing or stale")
    embed.add_argument("--batch", type=positive_int, default=256)

    refresh = sub.add_parser("refresh-activations",
                             help="re-push stale segments to their platforms")
    refresh.add_argument("--org", type=positive_int, help="one organisation (default: every "
                                                           "organisation with stale segments)")
    refresh.add_argument("--dry-run", action="store_true",
                         help="list what would be pushed; push and write nothing")
    refresh.add_argument("--limit", type=positive_int)

    sync = sub.add_parser("sync-trade-desk",
                          help="bring an organisation's Trade Desk elements in line with its "
                               "topics")
    sync.add_argument("--org", type=positive_int, required=True)
    sync.add_argument("--dry-run", action="store_true",
                      help="read the elements and report; change nothing")

    sub.add_parser("tick", help="advance every LLM job waiting on its batches by one step "
                                "(for cron or any scheduler)")

    sweep = sub.add_parser("dedup-sweep", help="propose clusters of near-duplicate topics")
    sweep.add_argument("--source-batch-id", metavar="JOB",
                       help="only the topics this reclassify job changed")
    sweep.add_argument("--parent-category", metavar="X")
    sweep.add_argument("--threshold", type=float, default=0.95,
                       help="cosine similarity of near-duplicates (default 0.95)")
    sweep.add_argument("--limit", type=positive_int)
    sweep.add_argument("--verbose", action="store_true", help="print every cluster")

    merge = sub.add_parser("merge", help="merge the open clusters of a dedup sweep, or undo "
                                         "a merge job")
    target = merge.add_mutually_exclusive_group(required=True)
    target.add_argument("--sweep", metavar="JOB", help="the dedup sweep whose clusters to merge")
    target.add_argument("--undo", metavar="JOB", help="the merge job to undo")
    merge.add_argument("--min-similarity", type=float,
                       help="only clusters whose weakest link is at least this")
    merge.add_argument("--dry-run", action="store_true",
                       help="list the clusters that would be merged; merge nothing")

    creds = sub.add_parser("encrypt-credentials",
                           help="encrypt plaintext platform credentials; re-encrypt the rest "
                                "under the first CREDENTIALS_KEY")
    creds.add_argument("--dry-run", action="store_true", help="count only; write nothing")

    cli_trees.add_parsers(sub)

    jobs = sub.add_parser("jobs", help="list, show, process or cancel any job")
    jsub = jobs.add_subparsers(dest="action", required=True, parser_class=Parser)
    lst = jsub.add_parser("list")
    lst.add_argument("--type", dest="job_type")
    lst.add_argument("--status", choices=JOB_STATUSES)
    lst.add_argument("--limit", type=int, default=20)
    show = jsub.add_parser("show")
    show.add_argument("job_id")
    proc = jsub.add_parser("process", help="process one chunk, or all with --all")
    proc.add_argument("job_id")
    proc.add_argument("--all", action="store_true")
    cancel = jsub.add_parser("cancel")
    cancel.add_argument("job_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except JobcoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\ninterrupted: the current chunk either committed whole or not at all; "
              "resume with 'python -m jobcore jobs process JOB_ID --all'", file=sys.stderr)
        return EXIT_FAILED


def _cmd_db(args) -> int:
    from jobcore.migrate import current_revision, head_revision

    engine = get_engine()  # migrates on first use
    print(f"database: {describe_database().label}")
    print(f"schema revision: {current_revision(engine)} (latest {head_revision()})")
    return EXIT_OK


def _cmd_seed_demo(args) -> int:
    from jobcore.demo import seed_demo

    summary = seed_demo(get_engine(), topics_count=args.topics, seed=args.seed, reset=args.reset)
    print(f"loaded {summary.topics:,} topics ({summary.planted_duplicates:,} planted "
          f"near-duplicates), {summary.organizations:,} organisations, "
          f"{summary.org_links:,} org links, {summary.activations:,} activations")
    return EXIT_OK


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
    if args.llm:
        return _run_llm(config, poll_seconds=args.poll_seconds)
    created = runner.create_job("reclassify", config)
    print(f"created job {created.id} for {created.total_items:,} topics", file=sys.stderr)
    return print_report(drive(created.id, created.total_items, verbose=args.verbose))


def _llm_dry_run(config: dict) -> int:
    from jobcore.classify.cost import estimate

    total = runner.count_items("reclassify", config)
    cost = estimate(total, web_search=config["enableWebSearch"])
    u = cost.usage
    print(f"dry run: {total:,} topics would go to Claude in {-(-total // 100):,} message "
          f"batches; estimated {u.input_tokens + u.cache_read_tokens + u.cache_write_tokens:,} "
          f"input tokens ({u.cache_read_tokens:,} cache reads), {u.output_tokens:,} output "
          f"tokens, {u.web_searches:,} web searches: ${cost.dollars:,.2f} at batch prices; "
          "nothing was sent or written")
    return EXIT_OK


def _run_llm(config: dict, *, poll_seconds: float) -> int:
    from jobcore.classify.cost import actual

    created = runner.create_job("reclassify", config)
    print(f"created job {created.id} for {created.total_items:,} topics", file=sys.stderr)
    report = advance_until_done(created.id, poll_seconds=poll_seconds)
    spent = actual(runner.get_job(created.id).result.get("usage"))
    print(f"usage: {spent.usage.as_dict()}; cost ${spent.dollars:,.2f}")
    return print_report(report)


def _dry_run(config: dict, *, verbose: bool) -> int:
    from jobcore.jobs.reclassify import ReclassifyHandler, preview

    parsed = ReclassifyHandler().parse_config(config)
    with get_engine().connect() as conn:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        changes = preview(conn, parsed)
        conn.rollback()
    def describe(change) -> str:
        old, new = change.topic.classification.as_dict(), change.new.as_dict()
        return ", ".join(f"{k}: {old[k]!r} -> {new[k]!r}" for k in new if old[k] != new[k])

    return print_dry_run(changes, describe, verbose=verbose)


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


def _jobs_show(args) -> int:
    job = runner.get_job(args.job_id)
    data = {k: v for k, v in job.__dict__.items() if k not in ("errors", "cursor")}
    print(json.dumps(data, default=str, indent=2))
    print(f"errors ({len(job.errors)}):")
    for err in job.errors[:50]:
        print(f"  {err.get('id', '')} {err.get('name', '')}: {err['message']}")
    if len(job.errors) > 50:
        print(f"  ... and {len(job.errors) - 50} more")
    return EXIT_OK


def _jobs_process(args) -> int:
    if args.all:
        job = runner.get_job(args.job_id)
        remaining = job.total_items - job.processed_items
        return print_report(drive(job.id, remaining, verbose=False))
    report = runner.process_chunk(args.job_id)
    print(f"chunk: {report.chunk_processed} items")
    print_report(report)
    return EXIT_FAILED if report.status == "failed" else EXIT_OK


def _jobs_cancel(args) -> int:
    job = runner.cancel_job(args.job_id)
    print(f"job {job.id} cancelled after {job.processed_items:,} of {job.total_items:,} items")
    return EXIT_OK


def _cmd_jobs(args) -> int:
    actions = {"list": _jobs_list, "show": _jobs_show, "process": _jobs_process,
               "cancel": _jobs_cancel}
    return actions[args.action](args)


def _cmd_embed(args) -> int:
    from jobcore.catalog import LIVE
    from jobcore.embeddings import get_provider, refresh_batch
    from jobcore.schema import topics

    provider = get_provider()
    engine = get_engine()
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(topics).where(LIVE)).scalar()
    embedded, after_id = 0, 0
    with tqdm(total=total, unit="topic", dynamic_ncols=True, file=sys.stderr) as bar:
        while True:  # a transaction a batch: an interruption keeps what was embedded
            with engine.begin() as conn:
                report = refresh_batch(conn, provider, after_id=after_id,
                                       batch_size=args.batch)
            if report.last_id is None:
                break
            after_id = report.last_id
            embedded += report.embedded
            bar.update(report.checked)
            bar.set_postfix(embedded=embedded)
    print(f"checked {total:,} topics; embedded {embedded:,} with {provider.model_name}")
    return EXIT_OK


def _cmd_refresh_activations(args) -> int:
    from jobcore.activations import orgs_with_stale

    if args.org is not None:
        orgs = [args.org]
    else:
        with get_engine().connect() as conn:
            orgs = orgs_with_stale(conn)
        if not orgs:
            print("no stale activations")
            return EXIT_OK
    config: dict = {"dryRun": args.dry_run}
    if args.limit is not None:
        config["limit"] = args.limit
    worst = EXIT_OK
    for org_id in orgs:
        created = runner.create_job("refresh_activations", config, org_id=org_id)
        print(f"organisation {org_id}: job {created.id} for {created.total_items:,} stale "
              "activations", file=sys.stderr)
        report = drive(created.id, created.total_items, verbose=False, unit="activation")
        worst = max(worst, print_report(
            report, changed="refreshed",
            skipped="listed, not pushed (dry run)" if args.dry_run else "skipped"))
        if args.dry_run:
            for item in runner.get_job(created.id).result.get("wouldRefresh", []):
                print(f"  would push {item['platform']} activation {item['activationId']}: "
                      f"{item['from']!r} -> {item['to']!r}")
    return worst


def _cmd_tick(args) -> int:
    from jobcore.ticks import tick

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


def _cmd_dedup_sweep(args) -> int:
    config: dict = {"threshold": args.threshold}
    for key, value in (("sourceBatchId", args.source_batch_id), ("limit", args.limit),
                       ("parentCategoryFilter", args.parent_category)):
        if value is not None:
            config[key] = value
    created = runner.create_job("dedup_sweep", config)
    print(f"created job {created.id} to sweep {created.total_items:,} topics", file=sys.stderr)
    report = drive(created.id, created.total_items, verbose=False)
    status = print_report(report, changed="swept", skipped="already in a cluster")
    job, reviewed, details = clusters.load_review(created.id, {})
    print(f"{len(reviewed):,} clusters, {job.result.get('duplicateCount', 0):,} duplicates "
          f"at {args.threshold} ({job.result.get('search', '?')} search); review them on the "
          f"Dedup clusters page or merge with 'python -m jobcore merge --sweep {created.id}'")
    for r in reviewed if args.verbose else reviewed[:10]:
        print(f"  #{r.number} weakest {r.weakest:.4f}: {details[r.cluster.winner].name!r} <- "
              + ", ".join(repr(details[i].name) for i, _ in r.cluster.losers))
    return status


def _cmd_merge(args) -> int:
    if args.undo is not None:
        created = recovery.create_merge_undo(args.undo)
        print(f"created job {created.id} to undo {created.total_items:,} clusters",
              file=sys.stderr)
        return print_report(drive(created.id, created.total_items, verbose=True,
                                    unit="cluster"), changed="restored", skipped="skipped")
    _job, reviewed, details = clusters.load_review(args.sweep, {})
    floor = args.min_similarity if args.min_similarity is not None else -1.0
    chosen = [r for r in reviewed if r.state == clusters.OPEN and r.cluster.losers
              and r.weakest is not None and r.weakest >= floor]
    if args.dry_run or not chosen:
        for r in chosen:
            print(f"would merge #{r.number} (weakest {r.weakest:.4f}) into "
                  f"{details[r.cluster.winner].name!r}: "
                  + ", ".join(repr(details[i].name) for i, _ in r.cluster.losers))
        print(f"{'dry run: ' if args.dry_run else ''}{len(chosen):,} open clusters to merge"
              + ("; nothing was written" if args.dry_run else ""))
        return EXIT_OK
    created = clusters.start_merge(chosen, args.sweep, created_by=None)
    print(f"created job {created.id} to merge {created.total_items:,} clusters", file=sys.stderr)
    return print_report(drive(created.id, created.total_items, verbose=True,
                                unit="cluster"), changed="merged", skipped="skipped")


def _cmd_sync_trade_desk(args) -> int:
    created = runner.create_job("sync_trade_desk", {"dryRun": args.dry_run}, org_id=args.org)
    print(f"organisation {args.org}: job {created.id} for {created.total_items:,} linked topics",
          file=sys.stderr)
    report = drive(created.id, created.total_items, verbose=False)
    status = print_report(report, changed="created or updated",
                           skipped="reported only (dry run)" if args.dry_run else "unchanged")
    result = runner.get_job(created.id).result
    prefix = "would be " if args.dry_run else ""
    for key in ("created", "updated", "orphaned"):
        shown = ", ".join(result.get(key, [])[:20])
        print(f"{prefix if key != 'orphaned' else ''}{key}: {result.get(key + 'Count', 0)}"
              + (f" ({shown}{', ...' if result.get(key + 'Count', 0) > 20 else ''})"
                 if shown else ""))
    return status


def _cmd_encrypt_credentials(args) -> int:
    from jobcore.credentials import encrypt_all

    with get_engine().begin() as conn:
        report = encrypt_all(conn, dry_run=args.dry_run)
    verb = "would encrypt" if report.dry_run else "encrypted"
    print(f"{verb} {report.encrypted} plaintext rows, "
          f"{'would re-encrypt' if report.dry_run else 're-encrypted'} {report.rotated} rows "
          f"under the first key; {report.unchanged} rows already current"
          + ("; nothing was written" if report.dry_run else ""))
    return EXIT_OK


def _cmd_serve(args) -> int:
    import uvicorn

    from jobcore.api import create_app

    get_engine()  # fail fast, with a clear message, when the database is down
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info",
                access_log=not args.no_access_log)
    return EXIT_OK


def _cmd_api_token(args) -> int:
    import secrets

    from jobcore.api import hash_token

    if ":" in args.owner or "," in args.owner:
        raise UsageError("--owner may not contain ':' or ','.")
    token = secrets.token_urlsafe(32)
    print(f"token (give it to the caller; it is not stored): {token}")
    print(f"API_TOKENS entry (store this):                  {args.owner}:{hash_token(token)}")
    return EXIT_OK


_COMMANDS = {
    "db": _cmd_db,
    "dedup-sweep": _cmd_dedup_sweep,
    "tick": _cmd_tick,
    "merge": _cmd_merge,
    "seed-demo": _cmd_seed_demo,
    "reclassify-global": _cmd_reclassify,
    "jobs": _cmd_jobs,
    "serve": _cmd_serve,
    "encrypt-credentials": _cmd_encrypt_credentials,
    "refresh-activations": _cmd_refresh_activations,
    "embed": _cmd_embed,
    "sync-trade-desk": _cmd_sync_trade_desk,
    **cli_trees.COMMANDS,
    "api-token": _cmd_api_token,
}
