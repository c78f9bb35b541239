"""Console speed: page render times with a big job table, and the overhead of a Run rerun.

In a fresh database on the configured server: 2,000 demo topics, 10,000 jobs in admin_jobs
and one job holding 10,000 errors. Prints, from AppTest (the real page scripts, no
browser), the median time to render the Jobs page and that job's detail page; then runs a
5,000-topic reclassify job with Run and prints the time per rerun beyond the chunk's own
work (rerun wall time minus the chunk's time as recorded in admin_job_chunks).

    python bench/console.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.jobs import runner  # noqa: E402

APP = str(ROOT / "streamlit_app.py")
DATABASE = "bench_console"
ROUNDS = 5


def _fill_jobs(engine: sa.Engine, count: int) -> str:
    """``count`` finished jobs, and one completed reclassify job with 10,000 errors."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            """
            INSERT INTO admin_jobs (id, job_type, created_by, status, config, total_items,
                processed_items, success_count, error_count, skip_count, created_at,
                started_at, completed_at)
            SELECT 'job_' || (1700000000000 + g) || '_bench', 'reclassify', 'bench',
                   (ARRAY['completed', 'failed', 'cancelled'])[1 + g % 3], '{"mode": "local"}',
                   100, 100, 90, 5, 5, now() - g * interval '1 minute',
                   now() - g * interval '1 minute', now() - g * interval '1 minute'
                   + interval '5 seconds'
            FROM generate_series(1, :count) AS g
            """), {"count": count})
        topic_ids = conn.execute(sa.text("SELECT id, name FROM topics ORDER BY id")).all()
        errors = [{"id": topic_ids[i % len(topic_ids)].id,
                   "name": topic_ids[i % len(topic_ids)].name,
                   "message": f"Not classified: no rule of rules-2026.11.1 matches the name "
                              f"'{topic_ids[i % len(topic_ids)].name}'"}
                  for i in range(10_000)]
        job_id = "job_1800000000000_bigerrors"
        conn.execute(sa.text(
            """
            INSERT INTO admin_jobs (id, job_type, created_by, status, config, total_items,
                processed_items, success_count, error_count, created_at, started_at,
                completed_at)
            VALUES (:id, 'reclassify', 'bench', 'completed', '{"mode": "local"}', 20000,
                    20000, 10000, 10000, now(), now(), now())
            """), {"id": job_id})
        conn.execute(sa.text(
            "INSERT INTO admin_job_errors (job_id, topic_id, error) "
            "SELECT :id, (e ->> 'id')::bigint, e "
            "FROM jsonb_array_elements(CAST(:errors AS jsonb)) e"),
            {"id": job_id, "errors": json.dumps(errors)})
    return job_id


def _render_seconds(page: str | None = None, **query: str) -> float:
    from streamlit.testing.v1 import AppTest

    times = []
    for _ in range(ROUNDS + 1):  # the first run imports modules: not counted
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in query.items():
            at.query_params[key] = value
        if page:
            at.switch_page(page)
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    return statistics.median(times[1:])


def _run_overhead(engine: sa.Engine) -> tuple[int, float]:
    """Seconds per Run rerun beyond the chunk's own work (AppTest reruns the whole page)."""
    from streamlit.testing.v1 import AppTest

    created = runner.create_job("reclassify", {"force": True}, engine=engine)
    at = AppTest.from_file(APP, default_timeout=600)
    at.query_params["job"] = created.id
    at.switch_page("app_pages/job_detail.py")
    at.run()
    run = next(b for b in at.button if b.label == "Run")
    started = time.perf_counter()
    run.click().run()
    wall = time.perf_counter() - started
    chunks = runner.job_chunks(created.id, engine=engine)
    chunk_work = sum((c.finished_at - c.started_at).total_seconds() for c in chunks)
    assert runner.get_job(created.id, engine=engine).status == "completed"
    return len(chunks), (wall - chunk_work) / len(chunks)


def main() -> None:
    get_settings.cache_clear()
    server = resolve_url()
    url = create_database(server, DATABASE)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    engine = create_engine_for(url)
    try:
        seed_demo(engine, topics_count=5_000, seed=11)
        big = _fill_jobs(engine, 10_000)
        jobs_page = _render_seconds()
        detail_page = _render_seconds("app_pages/job_detail.py", job=big)
        chunks, overhead = _run_overhead(engine)
    finally:
        engine.dispose()
        drop_database(server, DATABASE)
    print("10,001 jobs in admin_jobs; one job with 10,000 errors; 5,000 topics")
    print(f"Jobs page render (median of {ROUNDS})       : {jobs_page * 1000:7.0f} ms  "
          "(target < 1000 ms)")
    print(f"Job detail render, 10,000 errors (median)  : {detail_page * 1000:7.0f} ms  "
          "(target < 1000 ms)")
    print(f"Run rerun overhead beyond the chunk, {chunks} chunks: {overhead * 1000:7.1f} ms  "
          "(target < 150 ms; AppTest reruns the whole page, the browser only the fragment)")


if __name__ == "__main__":
    main()
