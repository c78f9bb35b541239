"""Tree tools: seeding, realign-subcategories and fix-subcategory-level0 rates.

In a fresh database: the demo catalogue (100,000 topics, classified by the demo's rules,
no tree nodes), embedded as ``python -m jobcore embed`` leaves a user's catalogue (writes
then never touch the vector index: they mark topics to embed), of which 5 % get a level-0
subcategory planted (their parent category's
label, or the whole " | " path). Prints the seeding time (first run, second run), and
topics per second through process_chunk (default settings: embeddings marked stale) for
a realign job (every classified topic: node
found by exact path or nearest label, history written) and a fix-level-0 job, and the
rollback of the realign.

    python bench/trees.py
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.classify.recovery import create_rollback  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.dedup import embeddings  # noqa: E402
from jobcore.jobs import drive, registry, runner  # noqa: E402
from jobcore.trees import seeding  # noqa: E402

TOPICS = int(os.environ.get("BENCH_TOPICS", "100000"))
DATABASE = "bench_trees"


def _timed_job(engine, job_type: str, config: dict | None = None) -> tuple[str, float, int]:
    created = runner.create_job(job_type, config or {}, engine=engine)
    start = time.perf_counter()
    report = drive.run_to_completion(created.id, engine=engine)
    seconds = time.perf_counter() - start
    print(f"{job_type}: {report.processed_items:,} topics in {seconds:.1f} s = "
          f"{report.processed_items / seconds:,.0f} topics/s ({report.success_count:,} changed, "
          f"{report.error_count:,} errors, {report.skip_count:,} unchanged)")
    return created.id, seconds, report.processed_items


def main() -> None:
    server_url = resolve_url()
    drop_database(server_url, DATABASE)
    engine = create_engine_for(create_database(server_url, DATABASE))
    try:
        seed_demo(engine, topics_count=TOPICS)
        start = time.perf_counter()
        embedded = embeddings.refresh_all(engine, embeddings.get_provider())
        print(f"embedded {embedded:,} topics in {time.perf_counter() - start:.1f} s")
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM taxonomy_nodes"))
        for run in ("first", "second"):
            start = time.perf_counter()
            with engine.begin() as conn:
                report = seeding.seed_trees(conn)
            print(f"seed-trees ({run} run): {report.inserted:,} added, {report.updated:,} "
                  f"updated, {report.unchanged:,} unchanged in "
                  f"{time.perf_counter() - start:.2f} s")
        with engine.begin() as conn:
            planted = conn.execute(sa.text(
                """
                UPDATE topics SET subcategory = CASE WHEN id % 2 = 0 THEN parent_category
                    ELSE taxonomy_type || ' | ' || parent_category
                         || coalesce(' | ' || subcategory, '') END
                WHERE id % 20 = 0 AND taxonomy_type IS NOT NULL
                """)).rowcount
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE topics"))
        print(f"planted {planted:,} level-0 subcategories")
        # The handlers' modules load once per process, on the first job-type lookup (they
        # loaded with the job system before the feature packages): load them, and let the
        # collector settle the new objects, before timing the jobs' own work.
        registry.job_types()
        gc.collect()
        _timed_job(engine, "fix_subcategory_level0")
        realign_id, _, _ = _timed_job(engine, "realign_subcategories")
        rollback = create_rollback(realign_id, engine=engine)
        start = time.perf_counter()
        report = drive.run_to_completion(rollback.id, engine=engine)
        seconds = time.perf_counter() - start
        print(f"rollback of the realign: {report.success_count:,} topics restored in "
              f"{seconds:.1f} s = {report.processed_items / seconds:,.0f} topics/s")
    finally:
        engine.dispose()
        drop_database(server_url, DATABASE)


if __name__ == "__main__":
    main()
