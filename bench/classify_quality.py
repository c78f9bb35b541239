"""Classification quality on real segment names: the local reclassify job against hand
labels, and the zero-shot nearest-label baseline in the same run.

Loads the names of a labelled CSV (default: the development set in
../shared/data/segments_dev, read from there and never copied into the project) as topics
into a fresh database on the configured server (embedded unless DATABASE_URL is set), runs
the default local reclassify job (forced) through process_chunk as a user's run does, and
reads back what it wrote. Prints over all names: share classified, tier 1 / tier 2 / node
accuracy (a flagged name counts with its first suggestion, the one written), share flagged,
tier 2 accuracy of what was not flagged, and the share wrong at tier 2 and not flagged; the
same per provider source and per fold (the held-out fold was not looked at while the rules
were built: ``--fold`` picks the names by a hash of the name, 30% held out).

Baseline: all-MiniLM-L6-v2 (torch, the bundled weights) cosine between the name and each
IAB node's path, nearest wins (never flags).

Scoring: tier 1 compares taxonomy_type to the label's Tier 1 (a name labelled b2b also
accepts Business Technology); tier 2 compares parent_category to Tier 2; node compares the
topic's taxonomy node with the label's node, the README's equivalent nodes counting as equal.

    python bench/classify_quality.py --data ../shared/data/segments_dev/segments_dev.csv
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import sqlalchemy as sa

from jobcore.classify.taxonomy import IAB_AUDIENCE, get_taxonomy
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url
from jobcore.jobs import drive, runner
from jobcore.schema import topics

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/segments_dev/segments_dev.csv"
# The development set's README, rule 9: either node of a pair is right.
EQUIVALENT = {"140": "138", "141": "139", "36": "41", "33": "45", "47": "46", "1678": "912",
              "960": "915", "862": "1652"}
HELD_OUT_SHARE = 3  # of 10, by a hash of the name


@dataclass(frozen=True)
class Scored:
    source: str
    fold: str
    classified: bool
    tier1: bool
    tier2: bool
    node: bool
    flagged: bool


def fold_of(name: str) -> str:
    """'held-out' for 30% of names (a stable hash), 'build' for the rest."""
    digest = int(hashlib.md5(name.encode()).hexdigest(), 16)
    return "held-out" if digest % 10 < HELD_OUT_SHARE else "build"


def _same_node(node_id: str | None, label_id: str) -> bool:
    if node_id is None or not node_id.startswith(IAB_AUDIENCE + ":"):
        return False
    source_id = node_id.split(":", 1)[1]
    return EQUIVALENT.get(source_id, source_id) == EQUIVALENT.get(label_id, label_id)


def score(row: dict, taxonomy_type: str | None, parent: str | None, node_id: str | None,
          flagged: bool) -> Scored:
    label_tier1 = row["tier1"].rstrip("*").strip()
    tier1 = taxonomy_type == label_tier1 or (
        row["b2b"] == "true" and taxonomy_type == "Business Technology")
    tier2 = tier1 and parent == row["tier2"]
    return Scored(row["source"].split(":")[0], fold_of(row["name"]), taxonomy_type is not None,
                  tier1, tier2, _same_node(node_id, row["iab_id"]), flagged)


def run_local(server: str, rows: list[dict]) -> tuple[list[Scored], float]:
    """The rows as topics in a fresh database, a forced local reclassify, read back."""
    name = "bench_classify_quality"
    drop_database(server, name)
    engine = create_engine_for(create_database(server, name))
    try:
        with engine.begin() as conn:
            ids = conn.execute(sa.insert(topics).returning(topics.c.id),
                               [{"name": r["name"]} for r in rows]).scalars().all()
        created = runner.create_job("reclassify", {"force": True}, engine=engine,
                                    created_by="bench")
        started = time.perf_counter()
        drive.run_to_completion(created.id, engine=engine)
        seconds = time.perf_counter() - started
        with engine.connect() as conn:
            found = {r.id: r for r in conn.execute(
                sa.select(topics.c.id, topics.c.taxonomy_type, topics.c.parent_category,
                          topics.c.taxonomy_node_id, topics.c.review_status))}
    finally:
        engine.dispose()
        drop_database(server, name)
    scored = [score(row, found[i].taxonomy_type, found[i].parent_category,
                    found[i].taxonomy_node_id, found[i].review_status == "needs_review")
              for row, i in zip(rows, ids, strict=True)]
    return scored, seconds


def run_baseline(rows: list[dict]) -> list[Scored]:
    """Zero-shot: MiniLM cosine between the name and every IAB node's path, nearest wins."""
    from jobcore.dedup.encoders import LocalMiniLM

    nodes = [n for n in get_taxonomy().nodes.values()
             if n.taxonomy == IAB_AUDIENCE and n.level >= 2 and not n.label.startswith("*")]
    encoder = LocalMiniLM()
    node_vectors = np.asarray(encoder.encode([" > ".join(n.path) for n in nodes]))
    name_vectors = np.asarray(encoder.encode([r["name"] for r in rows]))
    nearest = (name_vectors @ node_vectors.T).argmax(axis=1)
    return [score(row, nodes[i].taxonomy_type, nodes[i].parent_category, nodes[i].id, False)
            for row, i in zip(rows, nearest, strict=True)]


def _line(label: str, scored: list[Scored]) -> str:
    n = len(scored)
    if not n:
        return f"{label:<28} (no names)"
    flagged = [s for s in scored if s.flagged]
    unflagged = [s for s in scored if not s.flagged]
    share = lambda items: sum(items) / n  # noqa: E731
    sure_t2 = sum(s.tier2 for s in unflagged) / len(unflagged) if unflagged else 0.0
    tier1, tier2 = share(s.tier1 for s in scored), share(s.tier2 for s in scored)
    return (f"{label:<28} n={n:<4} classified {share(s.classified for s in scored):.2f}  "
            f"tier1 {tier1:.2f}  tier2 {tier2:.2f}"
            f"  node {share(s.node for s in scored):.2f}  flagged {len(flagged) / n:.2f}  "
            f"tier2 of unflagged {sure_t2:.2f}  "
            f"wrong-tier2-unflagged {share(not s.tier2 for s in unflagged):.3f}")


def report(title: str, scored: list[Scored]) -> None:
    print(f"\n{title}")
    print(_line("all names", scored))
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        groups[f"source {s.source[:21]}"].append(s)
        groups[f"fold {s.fold}"].append(s)
    for key in sorted(groups):
        print(_line(f"  {key}", groups[key]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="CSV with name, source, iab_id, tier1, tier2, b2b")
    parser.add_argument("--fold", choices=["all", "build", "held-out"], default="all")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    with args.data.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle)
                if args.fold == "all" or fold_of(r["name"]) == args.fold]
    server = resolve_url()
    local, seconds = run_local(server, rows)
    report(f"local reclassify (forced, default settings): {len(rows)} names in {seconds:.1f} s "
           f"({len(rows) / seconds:,.0f} topics/s with the one-time load)", local)
    if not args.no_baseline:
        report("baseline: MiniLM nearest node path", run_baseline(rows))
    print("\ntargets on the development set: tier2 >= 0.85, node >= 0.65, "
          "wrong-tier2-unflagged <= 0.04, flagged <= 0.25")


if __name__ == "__main__":
    main()
