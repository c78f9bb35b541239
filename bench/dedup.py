"""Dedup figures on a 100,000-topic demo catalogue.

1. Embedding: topics/s through ``embeddings.refresh_batch`` (what ``python -m jobcore
   embed`` does, HNSW index maintained), and the model's raw encode rate on the first
   2,000 of the same texts in the same run.
2. Sweep: topics/s of a whole-catalogue dedup_sweep through process_chunk (HNSW search at
   this size), default threshold 0.95.
3. Recall: the pairs at or above the threshold that the sweep's HNSW neighbour search finds
   (each topic's search, in chunks of 50 as the sweep does), against an exact brute-force
   search over the same vectors (numpy, float32), both after the market/number guards.

    python bench/dedup.py                 # fresh database, ~40 min on 2 cores (embedding)
    python bench/dedup.py --reuse         # keep the database, reuse its embeddings next time
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.classify.taxonomy import Classification  # noqa: E402
from jobcore.db import (  # noqa: E402
    create_database,
    create_engine_for,
    drop_database,
    resolve_url,
    url_for_database,
)
from jobcore.dedup import embeddings, matching, search  # noqa: E402
from jobcore.jobs import runner  # noqa: E402

TOPICS = int(os.environ.get("BENCH_TOPICS", "100000"))
RAW_SAMPLE = 2000
THRESHOLD = matching.DEFAULT_THRESHOLD


def _database(name: str, reuse: bool) -> tuple[sa.Engine, bool]:
    """The engine, and whether the catalogue was already seeded and embedded."""
    server = resolve_url()
    if reuse:
        engine = create_engine_for(url_for_database(server, name))
        try:
            with engine.connect() as conn:
                embedded = conn.execute(sa.text(
                    "SELECT count(*) FILTER (WHERE embedding IS NOT NULL), count(*) FROM topics"
                )).one()
            if embedded[1] == TOPICS and embedded[0] == TOPICS:
                return engine, True
        except sa.exc.OperationalError:
            pass
        engine.dispose()
    drop_database(server, name)
    return create_engine_for(create_database(server, name)), False


def _embed(engine: sa.Engine) -> None:
    provider = embeddings.get_provider()
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT name, description, segment_type, taxonomy_type, parent_category, "
            "subcategory, audience_type FROM topics ORDER BY id LIMIT :n"), {"n": RAW_SAMPLE})
        texts = [embeddings.embedding_text(r[0], r[1], Classification(*r[2:])) for r in rows]
    provider.encode(texts[:64])  # load the model outside the timings
    start = time.perf_counter()
    provider.encode(texts)
    raw = len(texts) / (time.perf_counter() - start)
    start, last_id, embedded = time.perf_counter(), 0, 0
    while True:
        with engine.begin() as conn:
            report = embeddings.refresh_batch(conn, provider, after_id=last_id)
        if report.last_id is None:
            break
        last_id, embedded = report.last_id, embedded + report.embedded
    seconds = time.perf_counter() - start
    print(f"embed: {embedded:,} topics in {seconds:,.0f} s = {embedded / seconds:,.0f} topics/s "
          f"(text, encode, write, HNSW upkeep); raw model encode {raw:,.0f} texts/s on the "
          f"first {len(texts):,} of the same texts")


def _sweep(engine: sa.Engine) -> str:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE topics"))
    created = runner.create_job("dedup_sweep", {"threshold": THRESHOLD}, engine=engine)
    start = time.perf_counter()
    runner.run_to_completion(created.id, engine=engine)
    seconds = time.perf_counter() - start
    job = runner.get_job(created.id, engine=engine)
    print(f"sweep: {job.processed_items:,} topics in {seconds:,.1f} s = "
          f"{job.processed_items / seconds:,.0f} topics/s through process_chunk "
          f"(target >= 1,000/s); {job.result['search']} search, {job.chunk_count:,} chunks; "
          f"{job.result['clusterCount']:,} clusters, {job.result['duplicateCount']:,} "
          "duplicates")
    return job.id


def _vectors(engine: sa.Engine) -> tuple[np.ndarray, np.ndarray, list[str]]:
    raw = engine.raw_connection()
    try:
        register_vector(raw.driver_connection)
        with raw.driver_connection.cursor() as cursor:
            cursor.execute("SELECT id, name, embedding FROM topics WHERE embedding IS NOT NULL "
                           "AND deleted_at IS NULL AND merged_into IS NULL ORDER BY id")
            rows = cursor.fetchall()
    finally:
        raw.close()
    ids = np.array([r[0] for r in rows])
    matrix = np.vstack([np.asarray(r[2].to_numpy() if hasattr(r[2], "to_numpy") else r[2])
                        for r in rows]).astype(np.float32)
    return ids, matrix, [r[1] for r in rows]


def _exact_pairs(ids: np.ndarray, matrix: np.ndarray, names: list[str]) -> set[tuple[int, int]]:
    marks = [matching.markers(n) for n in names]
    pairs: set[tuple[int, int]] = set()
    block = 2048
    for start in range(0, len(ids), block):
        sims = matrix[start:start + block] @ matrix.T
        rows, cols = np.nonzero(sims >= THRESHOLD)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            a = start + r
            if c > a and matching.compatible(marks[a], marks[c]):
                pairs.add((int(ids[a]), int(ids[c])))
    return pairs


def _hnsw_pairs(engine: sa.Engine, ids: np.ndarray,
                names: dict[int, str]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    ordered = ids.tolist()
    with engine.connect() as conn:
        for start in range(0, len(ordered), 50):
            with conn.begin():
                found = search.nearest(conn, ordered[start:start + 50], method="hnsw")
            for source, neighbours in found.items():
                for other, similarity in neighbours:
                    if similarity >= THRESHOLD and \
                            matching.compatible(matching.markers(names[source]),
                                                matching.markers(names[other])):
                        pairs.add(matching.pair_key(source, other))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database and reuse its embedded catalogue")
    parser.add_argument("--database", default="bench_dedup")
    args = parser.parse_args()
    engine, ready = _database(args.database, args.reuse)
    try:
        if ready:
            print(f"embed: skipped (reusing {args.database}'s {TOPICS:,} embedded topics)")
        else:
            seed_demo(engine, topics_count=TOPICS, seed=9)
            _embed(engine)
        result = runner.get_job(_sweep(engine), engine=engine).result
        ids, matrix, names = _vectors(engine)
        start = time.perf_counter()
        exact = _exact_pairs(ids, matrix, names)
        exact_seconds = time.perf_counter() - start
        start = time.perf_counter()
        found = _hnsw_pairs(engine, ids, dict(zip(ids.tolist(), names, strict=True)))
        hnsw_seconds = time.perf_counter() - start
        clustered, memberships = {}, 0
        for number, cluster in enumerate(result["clusters"]):
            for member in (cluster["winner"], *(m["id"] for m in cluster["losers"])):
                clustered[member] = number
                memberships += 1
        if memberships != len(clustered):
            print(f"ERROR: {memberships - len(clustered):,} topics are in more than one cluster")
        together = sum(1 for a, b in exact if a in clustered and clustered.get(b) ==
                       clustered[a])
        recall = len(found & exact) / len(exact) if exact else 1.0
        print(f"recall: HNSW search found {len(found & exact):,} of {len(exact):,} exact pairs "
              f">= {THRESHOLD} = {recall:.4f} (target >= 0.99); {len(found - exact):,} found "
              f"pairs not exact (ties at the threshold); exact search {exact_seconds:,.0f} s "
              f"in numpy, HNSW pass {hnsw_seconds:,.0f} s")
        print(f"clusters: {together:,} of the {len(exact):,} exact pairs sit in one cluster "
              "(the rest are pairs whose members are not both close to a winner: no chaining)")
    finally:
        engine.dispose()
        if not args.reuse:
            drop_database(resolve_url(), args.database)


if __name__ == "__main__":
    main()
