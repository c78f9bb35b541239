"""The dedup commands: embed, dedup-sweep, merge (and its undo)."""

from __future__ import annotations

import argparse
import sys
import threading

import sqlalchemy as sa
from tqdm import tqdm

from jobcore import audit
from jobcore.catalog.topic_store import LIVE
from jobcore.cli.common import (
    EXIT_OK,
    drive_with_bar,
    positive_int,
    print_report,
)
from jobcore.db import get_engine
from jobcore.dedup.thresholds import DEFAULT_MATCHING, MATCHING_MODES
from jobcore.jobs import runner
from jobcore.schema import topics


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """This module's command parsers."""
    embed = sub.add_parser("embed", help="embed topics whose embedding is missing or stale")
    embed.add_argument("--batch", type=positive_int, default=1000,
                       help="topics a statement (default 1000)")
    sweep = sub.add_parser("dedup-sweep", help="propose clusters of near-duplicate topics")
    sweep.add_argument("--source-batch-id", metavar="JOB",
                       help="only the topics this reclassify job changed")
    sweep.add_argument("--parent-category", metavar="X")
    sweep.add_argument("--matching", choices=MATCHING_MODES, default=DEFAULT_MATCHING,
                       help="hybrid: embeddings and names (default); semantic: the "
                            "embeddings' cosine alone")
    sweep.add_argument("--threshold", type=float,
                       help="score of near-duplicates (default 0.60 hybrid, 0.95 semantic)")
    sweep.add_argument("--limit", type=positive_int)
    sweep.add_argument("--verify", choices=("off", "claude"), default="off",
                       help="claude: pairs scoring between --verify-from and the threshold "
                            "are sent to Claude (Message Batches, paid)")
    sweep.add_argument("--verify-from", type=float, metavar="SCORE",
                       help="lower edge of the band Claude verifies (default 0.50 hybrid, "
                            "0.90 semantic)")
    sweep.add_argument("--max-pairs", type=positive_int,
                       help="at most this many pairs sent to Claude (default 2,000)")
    sweep.add_argument("--dry-run", action="store_true",
                       help="count the topics (and with --verify claude the pairs Claude "
                            "would be asked about and their cost); create nothing")
    sweep.add_argument("--poll-seconds", type=float, default=30.0,
                       help="with --verify claude: wait between polls of the batches")
    sweep.add_argument("--background", action="store_true",
                       help="hand the job to the workers (python -m jobcore worker) and return")
    sweep.add_argument("--verbose", action="store_true", help="print every cluster")
    merge = sub.add_parser("merge", help="merge the open clusters of a dedup sweep (as "
                                         "analysts edited them on the Dedup screen), or "
                                         "undo a merge job")
    target = merge.add_mutually_exclusive_group(required=True)
    target.add_argument("--sweep", metavar="JOB", help="the dedup sweep whose clusters to merge")
    target.add_argument("--undo", metavar="JOB", help="the merge job to undo")
    merge.add_argument("--min-score", "--min-similarity", type=float, dest="min_score",
                       help="only clusters whose weakest score is at least this")
    merge.add_argument("--accepted", action="store_true",
                       help="only the clusters analysts accepted on the Dedup screen")
    merge.add_argument("--dry-run", action="store_true",
                       help="list the clusters that would be merged; merge nothing")


def _cmd_embed(args) -> int:
    from jobcore.dedup.embeddings import RefreshReport, get_provider, refresh_all

    provider = get_provider()
    engine = get_engine()
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(topics).where(LIVE)).scalar()
    lock = threading.Lock()
    with tqdm(total=total, unit="topic", dynamic_ncols=True, file=sys.stderr) as bar:
        def progress(report: RefreshReport) -> None:
            with lock:  # the writers' threads report here
                bar.update(report.checked)

        def indexing() -> None:
            bar.set_description_str("building the vector index")
            bar.refresh()

        with audit.action("embed", details={"encoder": provider.model_name}, engine=engine):
            embedded = refresh_all(engine, provider, batch_size=args.batch, on_batch=progress,
                                   on_index=indexing)
    print(f"checked {total:,} topics; embedded {embedded:,} with {provider.model_name}")
    return EXIT_OK


def _cmd_dedup_sweep(args) -> int:
    config: dict = {"matching": args.matching}
    for key, value in (("sourceBatchId", args.source_batch_id), ("limit", args.limit),
                       ("threshold", args.threshold),
                       ("parentCategoryFilter", args.parent_category),
                       ("verifyFrom", args.verify_from), ("maxPairs", args.max_pairs)):
        if value is not None:
            config[key] = value
    if args.verify != "off":
        config["verify"] = args.verify
    if args.dry_run:
        total = runner.count_items("dedup_sweep", config)
        print(f"dry run: {total:,} topics to sweep."
              + (runner.cost_preview("dedup_sweep", config, total) or "")
              + " Nothing was created.")
        return EXIT_OK
    created = runner.create_job("dedup_sweep", config, background=args.background)
    print(f"created job {created.id} to sweep {created.total_items:,} topics", file=sys.stderr)
    if args.background:
        print(f"job {created.id} handed to the workers; follow it with: python -m jobcore "
              f"jobs show {created.id}")
        return EXIT_OK
    report = drive_with_bar(created.id, created.total_items, verbose=False,
                   poll_seconds=args.poll_seconds if args.verify != "off" else None)
    verifying = args.verify != "off"
    status = print_report(report, changed="swept or verified" if verifying else "swept",
                          skipped="already in a cluster or gone" if verifying
                          else "already in a cluster")
    from jobcore.dedup import cluster_review  # the sweep's reading of names: only here
    from jobcore.dedup.sweep_result import SweepResult

    job, reviewed = cluster_review.load_review(created.id)
    result = SweepResult.of(job.result)
    verified = result.verification
    if verified is not None and verified.pairs is not None:
        pairs = verified.pairs
        print(f"Claude verified {pairs:,} pair{'s' if pairs != 1 else ''}: "
              f"{verified.same:,} the same, {verified.different:,} different, "
              f"{verified.failed:,} unverified (in the errors)"
              + (f"; {verified.skipped:,} not sent (maxPairs)" if verified.skipped else ""))
    print(f"{len(reviewed):,} clusters, {result.duplicate_count:,} duplicates "
          f"at {result.threshold or '?'} ({result.matching or '?'} matching, "
          f"{result.search or '?'} search); review them on the "
          f"Dedup clusters page or merge with 'python -m jobcore merge --sweep {created.id}'")
    listed = reviewed if args.verbose else reviewed[:10]
    names = cluster_review.load_names({m for r in listed for m in r.cluster.members})
    for r in listed:
        print(f"  #{r.number} weakest {r.weakest:.4f}: {names[r.cluster.winner]!r} <- "
              + ", ".join(repr(names[i]) for i, _ in r.cluster.losers))
    return status


def _cmd_merge(args) -> int:
    from jobcore.dedup import cluster_review, merge_job
    from jobcore.dedup.follow_ups import UNDO_MERGE

    if args.undo is not None:
        created = UNDO_MERGE.create(args.undo)
        print(f"created job {created.id} to undo {created.total_items:,} clusters",
              file=sys.stderr)
        return print_report(drive_with_bar(created.id, created.total_items, verbose=True,
                                    unit="cluster"), changed="restored", skipped="skipped")
    _job, reviewed = cluster_review.load_review(args.sweep)
    floor = args.min_score if args.min_score is not None else -1.0
    chosen = [r for r in reviewed if r.mergeable and (r.accepted or not args.accepted)
              and r.weakest is not None and r.weakest >= floor]
    if args.dry_run or not chosen:
        names = cluster_review.load_names({m for r in chosen for m in r.cluster.members})
        for r in chosen:
            print(f"would merge #{r.number} (weakest {r.weakest:.4f}) into "
                  f"{names[r.cluster.winner]!r}: "
                  + ", ".join(repr(names[i]) for i, _ in r.cluster.losers))
        which = "accepted open" if args.accepted else "open"
        print(f"{'dry run: ' if args.dry_run else ''}{len(chosen):,} {which} clusters to merge"
              + ("; nothing was written" if args.dry_run else ""))
        return EXIT_OK
    # a merge job takes at most MAX_CLUSTERS clusters: a larger sweep is merged by several,
    # one after another (each undoable on its own)
    status = EXIT_OK
    for start in range(0, len(chosen), merge_job.MAX_CLUSTERS):
        part = chosen[start:start + merge_job.MAX_CLUSTERS]
        created = cluster_review.start_merge(part, args.sweep, created_by=None)
        print(f"created job {created.id} to merge {created.total_items:,} clusters"
              + (f" ({start + 1:,}-{start + len(part):,} of {len(chosen):,})"
                 if len(part) < len(chosen) else ""), file=sys.stderr)
        status = print_report(drive_with_bar(created.id, created.total_items, verbose=True,
                                    unit="cluster"), changed="merged", skipped="skipped")
        if status != EXIT_OK:
            break
    return status


COMMANDS = {
    "embed": _cmd_embed,
    "dedup-sweep": _cmd_dedup_sweep,
    "merge": _cmd_merge,
}
