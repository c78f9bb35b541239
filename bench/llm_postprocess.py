"""LLM reclassify against the loopback fake Message Batches API.

In a fresh database: 50,000 unclassified topics. An llm reclassify job (web search off)
submits them (phase 1), the fake ends every batch, and the job is driven to the end
(phase 2: poll and stage, post-process; each call stages up to 2,000 results and
post-processes 500). Prints the post-processing rate (staged results per second through
process_chunk, over the calls made once every result was staged; target >= 3,000/s), the
rate of the whole phase 2 (staging included), and the HTTP requests per 1,000 topics in
phases 1 and 2 (the floor is 10 creates per 1,000 topics). The fake runs in a process of
its own.

    python bench/llm_postprocess.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.fake_batches import drive_phase, drive_phase_two, fake_api  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.jobs import runner  # noqa: E402

TOPICS = int(os.environ.get("BENCH_TOPICS", "50000"))
DATABASE = "bench_llm"


def main() -> None:
    server_url = resolve_url()
    drop_database(server_url, DATABASE)
    engine = create_engine_for(create_database(server_url, DATABASE))
    with fake_api() as fake:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO topics (name, description) SELECT 'Hobby Topic ' || g, "
                    "'People into hobby ' || g FROM generate_series(1, :n) g"), {"n": TOPICS})
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE topics"))
            created = runner.create_job("reclassify", {"mode": "llm", "enableWebSearch": False},
                                        engine=engine)
            submit_seconds = drive_phase(engine, created.id, "submit")
            submit_requests = fake.requests()
            fake.finish()
            two = drive_phase_two(engine, created.id)
            report, phase2_seconds = two.report, two.seconds
            post_only_items, post_only_seconds = two.post_only_items, two.post_only_seconds
            job = runner.get_job(created.id, engine=engine)
            phase2_requests = fake.requests() - submit_requests
        finally:
            engine.dispose()
            drop_database(server_url, DATABASE)
    per_thousand = 1000 / TOPICS
    print(f"phase 1: {TOPICS:,} topics submitted in {submit_seconds:.1f} s with "
          f"{submit_requests:,} requests = {submit_requests * per_thousand:.1f} per 1,000 "
          "topics (floor 10)")
    print(f"phase 2 post-processing: {post_only_items:,} staged results post-processed in "
          f"{post_only_seconds:.1f} s = {post_only_items / post_only_seconds:,.0f} results/s "
          "through process_chunk (target >= 3,000/s; the calls after every result was "
          "staged)")
    print(f"phase 2 whole: {report.processed_items:,} results staged and post-processed in "
          f"{phase2_seconds:.1f} s = {report.processed_items / phase2_seconds:,.0f} results/s "
          f"through process_chunk; {job.chunk_count:,} chunks; "
          f"{phase2_requests:,} requests = {phase2_requests * per_thousand:.1f} per 1,000 "
          f"topics; {report.success_count:,} changed, {report.error_count:,} errors")


if __name__ == "__main__":
    main()
