"""The taxonomy tree commands: seed-trees, realign-subcategories, fix-subcategory-level0,
backfill-taxonomy-nodes-llm.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jobcore.cli.common import (
    EXIT_OK,
    advance_until_done,
    drive_with_bar,
    positive_int,
    print_dry_run,
    print_report,
)
from jobcore.errors import UsageError
from jobcore.jobs import runner
from jobcore.jobs.registry import get_handler
from jobcore.llm.batch_result import BatchResult
from jobcore.llm.cost import actual, estimate
from jobcore.trees import browse

MAX_IDS = 100_000


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The tree commands' parsers."""
    sub.add_parser("seed-trees", help="load or update the taxonomy trees (idempotent)")
    for name, text in (("realign-subcategories",
                        "set each topic's subcategory to the label of its tree node"),
                       ("fix-subcategory-level0",
                        "fix subcategories that hold a Tier 1/Tier 2 label or a whole path"),
                       ("backfill-taxonomy-nodes-llm",
                        "choose a tree node for topics without one, with Claude")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--taxonomy-filter", metavar="TYPE",
                             help="only topics of this taxonomy type (e.g. Interest)")
        command.add_argument("--limit", type=positive_int)
        command.add_argument("--ids-file", type=Path, metavar="FILE",
                             help="only the topic ids in this file (one per line; '#' "
                                  "comments)")
        command.add_argument("--dry-run", action="store_true",
                             help="print what would change; write nothing")
        command.add_argument("--verbose", action="store_true")
        if name == "backfill-taxonomy-nodes-llm":
            command.add_argument("--poll-seconds", type=float, default=30.0,
                                 help="wait between polls while batches are processing")


def read_ids_file(path: Path) -> list[int]:
    """Topic ids from a text file: one per line (commas and spaces also separate), blank
    lines and '#' comments ignored. UsageError naming the file and line when it is
    missing, unreadable, malformed or empty.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--ids-file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--ids-file {path}: cannot be read ({exc})") from None
    ids: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for token in line.split("#", 1)[0].replace(",", " ").split():
            if not token.isdigit() or int(token) < 1:
                raise UsageError(f"--ids-file {path} line {number}: {token!r} is not a topic "
                                 "id (a whole number >= 1)")
            ids.append(int(token))
    if not ids:
        raise UsageError(f"--ids-file {path}: no topic ids in the file")
    if len(ids) > MAX_IDS:
        raise UsageError(f"--ids-file {path}: {len(ids):,} ids; at most {MAX_IDS:,} a job")
    return sorted(set(ids))


def _config(args) -> dict:
    config: dict = {}
    if args.taxonomy_filter is not None:
        config["taxonomyFilter"] = args.taxonomy_filter
    if args.limit is not None:
        config["limit"] = args.limit
    if args.ids_file is not None:
        config["topicIds"] = read_ids_file(args.ids_file)
    return config


def _cmd_seed_trees(args) -> int:
    report = browse.load_trees()
    print(f"taxonomy trees: {report.inserted:,} nodes added, {report.updated:,} updated, "
          f"{report.unchanged:,} unchanged"
          + (f"; {report.not_in_source:,} nodes no longer in the sources were kept (topics "
             "may point at them)" if report.not_in_source else ""))
    return EXIT_OK


def _cmd_placement(job_type: str):
    def run(args) -> int:
        config = _config(args)
        if args.dry_run:
            return _placement_dry_run(job_type, config, verbose=args.verbose)
        created = runner.create_job(job_type, config)
        print(f"created job {created.id} for {created.total_items:,} topics", file=sys.stderr)
        return print_report(drive_with_bar(created.id, created.total_items, verbose=args.verbose))
    return run


def _placement_dry_run(job_type: str, config: dict, *, verbose: bool) -> int:
    from jobcore.trees.placement import preview_job

    placements = preview_job(job_type, config)
    return print_dry_run(placements, lambda p: (
        f"subcategory {p.topic.subcategory!r} -> {p.subcategory!r}, node "
        f"{p.topic.taxonomy_node_id} -> {p.node_id} ({p.how})"), verbose=verbose)


def _cmd_backfill(args) -> int:
    config = _config(args)
    if args.dry_run:
        total = runner.count_items("backfill_taxonomy_nodes", config)
        profile = get_handler("backfill_taxonomy_nodes").cost_profile(config)
        cost = estimate(total, profile)
        print(f"dry run: {total:,} topics without a node would go to Claude in "
              f"{-(-total // 100):,} message batches; estimated ${cost.dollars:,.2f} at batch "
              "prices; nothing was sent or written")
        return EXIT_OK
    created = runner.create_job("backfill_taxonomy_nodes", config)
    print(f"created job {created.id} for {created.total_items:,} topics", file=sys.stderr)
    report = advance_until_done(created.id, poll_seconds=args.poll_seconds)
    spent = actual(BatchResult.of(runner.get_job(created.id).result).usage)
    print(f"usage: {spent.usage.as_dict()}; cost ${spent.dollars:,.2f}")
    return print_report(report, changed="placed")


COMMANDS = {
    "seed-trees": _cmd_seed_trees,
    "realign-subcategories": _cmd_placement("realign_subcategories"),
    "fix-subcategory-level0": _cmd_placement("fix_subcategory_level0"),
    "backfill-taxonomy-nodes-llm": _cmd_backfill,
}
