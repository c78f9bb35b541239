"""Dedup quality on a public product-matching benchmark (Amazon-Google).

Loads both tables of the benchmark (``--data DIR``: tableA.csv, tableB.csv and the
labelled pairs train/valid/test.csv; research and benchmarking use only, read from
../shared, never copied into the project) as topics into a fresh database (name = title,
description = manufacturer), embeds them, and runs the default dedup_sweep over the whole
catalogue through process_chunk. Two topics in one proposed cluster are a predicted pair.
Prints precision, recall and F1 over cross-source pairs (precision over the predicted pairs
that carry a label; how many carry none), then the same over the winner-loser pairs of a
sweep at a low threshold, by score threshold (the curve); and the first sweeps' setting
(semantic matching at 0.95) for comparison. Each encoder of ``--encoders`` (default: the
default one, then torch) gets its own run, and the last line says each one's F1 drop
against torch's.

    python bench/dedup_quality.py --data ../shared/data/dedup_benchmark/amazon_google

With ``--pairs`` (hand-written pairs of segment names: a, b, duplicate, kind) and
``--background`` (real segment names with IAB labels), it loads the pair names and the
background names as topics instead, embeds them, runs the default sweep through
process_chunk and prints the duplicates found, the near misses proposed (with their kinds),
and the pairs of background names proposed, how many of them with different IAB tier 1 or
tier 2 labels (surely false), each listed:

    python bench/dedup_quality.py --pairs ../shared/data/segment_pairs_dev/pairs_dev.csv \
        --background ../shared/data/segments_dev/segments_dev.csv
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from jobcore.config import Settings, get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.dedup import embeddings  # noqa: E402
from jobcore.jobs import drive, runner  # noqa: E402
from jobcore.schema import topics  # noqa: E402

DATABASE = "bench_dedup_quality"
CURVE_SWEEP_THRESHOLD = 0.55
CURVE_POINTS = (0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _labels(data: Path) -> tuple[dict[tuple[str, str], int], set[tuple[str, str]]]:
    labels: dict[tuple[str, str], int] = {}
    for split in ("train", "valid", "test"):
        for row in _read(data / f"{split}.csv"):
            labels[(row["ltable_id"], row["rtable_id"])] = int(row["label"])
    return labels, {pair for pair, label in labels.items() if label == 1}


def _load(engine: sa.Engine, data: Path) -> dict[int, tuple[str, str]]:
    """Insert both tables as topics; topic id -> (table, row id)."""
    origin: dict[int, tuple[str, str]] = {}
    with engine.begin() as conn:
        for table in ("A", "B"):
            for row in _read(data / f"table{table}.csv"):
                name = " ".join(row["title"].split())[:500] or f"untitled {table}{row['id']}"
                topic_id = conn.execute(sa.insert(topics).values(
                    name=name, description=row.get("manufacturer") or None)
                    .returning(topics.c.id)).scalar_one()
                origin[topic_id] = (table, row["id"])
    return origin


def _embed(engine: sa.Engine) -> float:
    started = time.perf_counter()
    embeddings.refresh_all(engine, embeddings.get_provider())
    return time.perf_counter() - started


def _sweep(engine: sa.Engine, config: dict) -> tuple[dict, float]:
    started = time.perf_counter()
    created = runner.create_job("dedup_sweep", config, engine=engine)
    drive.run_to_completion(created.id, engine=engine)
    return runner.get_job(created.id, engine=engine).result, time.perf_counter() - started


def _cross(a: int, b: int, origin: dict[int, tuple[str, str]]) -> tuple[str, str] | None:
    (ta, ia), (tb, ib) = origin[a], origin[b]
    if ta == tb:
        return None
    return (ia, ib) if ta == "A" else (ib, ia)


def _f1(predicted: set[tuple[str, str]], labels: dict, matches: set) -> tuple[float, str]:
    labelled = [p for p in predicted if p in labels]
    hits = sum(1 for p in labelled if labels[p] == 1)
    precision = hits / len(labelled) if labelled else 0.0
    recall = hits / len(matches)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, (f"precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f} "
                f"({len(predicted):,} predicted cross-source pairs, {len(labelled):,} labelled, "
                f"{len(predicted) - len(labelled):,} unlabelled)")


def _predicted(result: dict, origin: dict[int, tuple[str, str]]) -> set[tuple[str, str]]:
    return {pair for cluster in result["clusters"]
            for a, b in itertools.combinations(
                [cluster["winner"], *(m["id"] for m in cluster["losers"])], 2)
            if (pair := _cross(a, b, origin)) is not None}


def _run(encoder: str, data: Path, labels: dict, matches: set) -> float:
    """One encoder's figures; its default-setting F1."""
    os.environ["EMBEDDING_PROVIDER"] = encoder
    get_settings.cache_clear()
    server = resolve_url()
    drop_database(server, DATABASE)
    engine = create_engine_for(create_database(server, DATABASE))
    try:
        origin = _load(engine, data)
        embed_seconds = _embed(engine)
        result, sweep_seconds = _sweep(engine, {})
        low, _ = _sweep(engine, {"threshold": CURVE_SWEEP_THRESHOLD})
        seed, _ = _sweep(engine, {"matching": "semantic"})
    finally:
        engine.dispose()
        drop_database(server, DATABASE)
    print(f"{encoder}: {len(origin):,} topics ({len(matches):,} labelled matches); embedded in "
          f"{embed_seconds:.1f} s with {embeddings.get_provider().model_name}; default sweep "
          f"in {sweep_seconds:.1f} s ({result.get('matching')} matching, threshold "
          f"{result.get('threshold')})")
    f1, line = _f1(_predicted(result, origin), labels, matches)
    print(f"  default dedup_sweep: {line}")
    print(f"  semantic matching at 0.95 (the first sweeps): "
          f"{_f1(_predicted(seed, origin), labels, matches)[1]}")
    scored = [(m["score"], pair) for cluster in low["clusters"] for m in cluster["losers"]
              if (pair := _cross(cluster["winner"], m["id"], origin)) is not None]
    print(f"  curve (winner-loser pairs of a sweep at {CURVE_SWEEP_THRESHOLD}):")
    for threshold in CURVE_POINTS:
        chosen = {pair for score, pair in scored if score >= threshold}
        print(f"    score >= {threshold:.2f}: {_f1(chosen, labels, matches)[1]}")
    return f1


def _load_names(engine: sa.Engine, names: list[str]) -> dict[str, int]:
    with engine.begin() as conn:
        return {name: conn.execute(sa.insert(topics).values(name=name)
                                   .returning(topics.c.id)).scalar_one() for name in names}


def _clustered_pairs(result: dict) -> set[tuple[int, int]]:
    return {tuple(sorted(pair)) for cluster in result["clusters"]
            for pair in itertools.combinations(
                [cluster["winner"], *(m["id"] for m in cluster["losers"])], 2)}


def _run_segments(pairs_file: Path, background_file: Path | None) -> None:
    """The segment-name figures (see the module docstring)."""
    pairs = _read(pairs_file)
    background = _read(background_file) if background_file else []
    labels = {row["name"]: (row["tier1"], row["tier2"]) for row in background}
    names = list(dict.fromkeys([n for row in pairs for n in (row["a"], row["b"])]
                               + [row["name"] for row in background]))
    server = resolve_url()
    drop_database(server, DATABASE)
    engine = create_engine_for(create_database(server, DATABASE))
    try:
        ids = _load_names(engine, names)
        _embed(engine)
        result, seconds = _sweep(engine, {})
    finally:
        engine.dispose()
        drop_database(server, DATABASE)
    proposed = _clustered_pairs(result)
    name_of = {i: n for n, i in ids.items()}

    def together(row: dict) -> bool:
        return tuple(sorted((ids[row["a"]], ids[row["b"]]))) in proposed

    duplicates = [row for row in pairs if row["duplicate"] == "1"]
    misses = [row for row in pairs if row["duplicate"] == "0"]
    found = [row for row in duplicates if together(row)]
    wrong = [row for row in misses if together(row)]
    print(f"{len(names):,} names as topics ({len(pairs)} pairs, {len(background)} background "
          f"names); default sweep in {seconds:.1f} s ({result.get('matching')} matching, "
          f"threshold {result.get('threshold')})")
    print(f"duplicates found: {len(found)} of {len(duplicates)}  (target >= 30 of 33)")
    for row in duplicates:
        if not together(row):
            print(f"  missed  [{row['kind']}] {row['a']!r} ~ {row['b']!r}")
    print(f"near misses proposed: {len(wrong)} of {len(misses)}  (target <= 1 of 25)")
    for row in wrong:
        print(f"  proposed [{row['kind']}] {row['a']!r} ~ {row['b']!r}")
    among = [(a, b) for a, b in sorted(proposed)
             if name_of[a] in labels and name_of[b] in labels]
    differ = [(a, b) for a, b in among if labels[name_of[a]] != labels[name_of[b]]]
    print(f"background pairs proposed: {len(among)}, with different tier 1 or tier 2 labels: "
          f"{len(differ)}  (target <= 3)")
    for a, b in among:
        mark = "DIFFERENT" if (a, b) in differ else "same     "
        print(f"  {mark} {name_of[a]!r} ~ {name_of[b]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--pairs", type=Path, help="segment-name pairs (a, b, duplicate, kind)")
    parser.add_argument("--background", type=Path, help="labelled segment names")
    parser.add_argument("--encoders", default=f"{Settings().embedding_provider},torch",
                        help="comma-separated EMBEDDING_PROVIDER values, torch last")
    args = parser.parse_args()
    if args.pairs:
        _run_segments(args.pairs, args.background)
        return
    if args.data is None:
        parser.error("--data (a product benchmark) or --pairs (segment-name pairs) is needed")
    labels, matches = _labels(args.data)
    scores = {encoder: _run(encoder, args.data, labels, matches)
              for encoder in dict.fromkeys(args.encoders.split(","))}
    if "torch" in scores:
        print("F1 at the default setting: " + ", ".join(
            f"{e} {f1:.3f} (drop {scores['torch'] - f1:+.3f} against torch)"
            for e, f1 in scores.items()))


if __name__ == "__main__":
    main()
