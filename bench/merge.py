"""Merge rate: clusters merged per second through process_chunk (and undone, for scale).

In a fresh database: the demo catalogue (20,000 topics, organisations, org links,
activations, history from a local reclassify), embedded as ``embed`` leaves it (a user's
catalogue has vectors); 3,000 clusters of two to four topics made
of consecutive topics, so that links and activations move and some are consolidated. A
merge job runs to the end, then its undo.

    python bench/merge.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.dedup import embeddings  # noqa: E402
from jobcore.jobs import drive, runner  # noqa: E402

TOPICS = int(os.environ.get("BENCH_TOPICS", "20000"))
CLUSTERS = int(os.environ.get("BENCH_CLUSTERS", "3000"))
DATABASE = "bench_merge"


def _clusters() -> list[dict]:
    clusters, next_id = [], 1
    for i in range(CLUSTERS):
        size = 2 + i % 3
        members = list(range(next_id, next_id + size))
        next_id += size
        clusters.append({"winner": members[0],
                         "losers": [{"id": m, "score": 0.97} for m in members[1:]]})
    return clusters


def _timed_run(job_id: str, engine: sa.Engine) -> float:
    start = time.perf_counter()
    drive.run_to_completion(job_id, engine=engine)
    return time.perf_counter() - start


def main() -> None:
    server = resolve_url()
    drop_database(server, DATABASE)
    engine = create_engine_for(create_database(server, DATABASE))
    try:
        seed_demo(engine, topics_count=TOPICS, seed=13)
        drive.run_to_completion(runner.create_job("reclassify", {}, engine=engine).id,
                                 engine=engine)
        embeddings.refresh_all(engine, embeddings.get_provider())
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
            moving = conn.execute(sa.text(
                "SELECT (SELECT count(*) FROM org_topics WHERE topic_id <= :n), "
                "(SELECT count(*) FROM activations WHERE topic_id <= :n), "
                "(SELECT count(*) FROM topic_history WHERE topic_id <= :n)"),
                {"n": sum(len(c["losers"]) + 1 for c in _clusters())}).one()
        clusters = _clusters()
        merge = runner.create_job("merge", {"clusters": clusters}, engine=engine)
        merge_seconds = _timed_run(merge.id, engine)
        job = runner.get_job(merge.id, engine=engine)
        undo = runner.create_job("merge", {"undoOf": merge.id}, engine=engine)
        undo_seconds = _timed_run(undo.id, engine)
        undone = runner.get_job(undo.id, engine=engine)
    finally:
        engine.dispose()
        drop_database(server, DATABASE)
    losers = sum(len(c["losers"]) for c in clusters)
    print(f"catalogue: {TOPICS:,} topics; {len(clusters):,} clusters ({losers:,} losers); "
          f"the clusters' topics hold {moving[0]:,} org links, {moving[1]:,} activations, "
          f"{moving[2]:,} history rows")
    print(f"merge: {job.success_count:,} clusters merged ({job.error_count} errors) in "
          f"{merge_seconds:.2f} s = {len(clusters) / merge_seconds:,.0f} clusters/s "
          f"(target >= 1,000/s), {job.chunk_count} chunks")
    print(f"undo:  {undone.success_count:,} clusters restored ({undone.error_count} errors) in "
          f"{undo_seconds:.2f} s = {len(clusters) / undo_seconds:,.0f} clusters/s "
          "(target >= 1,000/s)")


if __name__ == "__main__":
    main()
