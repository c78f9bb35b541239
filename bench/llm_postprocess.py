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
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.jobs import runner  # noqa: E402

TOPICS = int(os.environ.get("BENCH_TOPICS", "50000"))
DATABASE = "bench_llm"


def _batches_left(engine, job_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM llm_batches WHERE job_id = :j AND "
                                    "NOT done"), {"j": job_id}).scalar_one()


def main() -> None:
    server_url = resolve_url()
    drop_database(server_url, DATABASE)
    engine = create_engine_for(create_database(server_url, DATABASE))
    # the fake runs in a process of its own: Anthropic's work is not ours to measure
    with subprocess.Popen([sys.executable, "-m", "tests.fakes.anthropic_batches"], cwd=ROOT,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as fake:
        assert fake.stdout is not None and fake.stdin is not None
        url = fake.stdout.readline().strip()
        requests_so_far = lambda: httpx.get(f"{url}/_fake/requests").json()["requests"]  # noqa: E731
        os.environ.update(ANTHROPIC_API_KEY="sk-ant-fake", ANTHROPIC_BASE_URL=url)
        get_settings.cache_clear()
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO topics (name, description) SELECT 'Hobby Topic ' || g, "
                    "'People into hobby ' || g FROM generate_series(1, :n) g"), {"n": TOPICS})
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE topics"))
            created = runner.create_job("reclassify", {"mode": "llm", "enableWebSearch": False},
                                        engine=engine)
            start = time.perf_counter()
            while runner.get_job(created.id, engine=engine).cursor.get("phase") == "submit":
                runner.process_chunk(created.id, engine=engine)
            submit_seconds = time.perf_counter() - start
            submit_requests = requests_so_far()
            httpx.post(f"{url}/_fake/finish").raise_for_status()
            phase2_seconds = post_only_seconds = 0.0
            post_only_items = 0
            staging_left = True
            while True:
                start = time.perf_counter()
                report = runner.process_chunk(created.id, engine=engine)
                seconds = time.perf_counter() - start
                phase2_seconds += seconds
                if not staging_left:  # every result was staged before this call
                    post_only_seconds += seconds
                    post_only_items += report.chunk_processed
                if report.done:
                    break
                staging_left = _batches_left(engine, created.id) > 0
            job = runner.get_job(created.id, engine=engine)
            phase2_requests = requests_so_far() - submit_requests
        finally:
            fake.stdin.close()
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
