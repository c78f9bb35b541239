"""A million finished jobs: the job list API, the Jobs page, a bulk plan and retention.

In a fresh database on the configured server: a 2,000-topic demo catalogue and 1,000,000
finished jobs in admin_jobs over 180 days (every job type, three finished statuses,
twenty creators), three chunks logged for each (3,000,000 rows of admin_job_chunks) and
an error for one job in ten. Prints:

- the job list API (``python -m jobcore serve`` in its own process, a keep-alive httpx
  client, 30 calls per query after 3 warm-ups): median and 95th percentile per filter;
- the Jobs page: the page script's time in AppTest (median of 5), and in Chromium the time
  from opening the page to the job table on screen (median of 3; Streamlit's frontend
  start is part of it), and after a change of the Status filter to the new table;
- a bulk plan over the largest set a filter allows (10,000 jobs);
- retention with the default settings (dry run, then the chunk logs of the jobs older than
  30 days), then JOB_RETENTION_DAYS=90 (the jobs older than 90 days).

    python bench/jobs_scale.py [--jobs 1000000]
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from jobcore import bulk  # noqa: E402
from jobcore.api import hash_token  # noqa: E402
from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.jobs import retention  # noqa: E402
from jobcore.jobs.registry import job_types  # noqa: E402
from jobcore.jobs.store import JobFilter  # noqa: E402

APP = str(ROOT / "streamlit_app.py")
DATABASE = "bench_jobs_scale"
BASELINE = "bench_jobs_scale_baseline"
TOKEN = "bench-token-0123456789abcdef0123456789abcdef"
CALLS = 30


def _fill(engine: sa.Engine, count: int) -> None:
    with engine.begin() as conn:
        types = job_types()
        conn.execute(sa.text(
            """
            INSERT INTO admin_jobs (id, job_type, created_by, status, config, total_items,
                processed_items, success_count, error_count, skip_count, created_at,
                started_at, completed_at, updated_at, last_progress_at, chunk_count)
            SELECT 'job_' || (1700000000000 + g) || '_' || lpad(to_hex(g), 8, '0'),
                   (CAST(:types AS text[]))[1 + g % cardinality(CAST(:types AS text[]))],
                   'analyst' || (g % 20) || '@example.com',
                   (ARRAY['completed', 'completed', 'completed', 'completed', 'completed',
                          'completed', 'completed', 'completed', 'failed',
                          'cancelled'])[1 + g % 10],
                   '{"mode": "local"}', 300, 300, CASE WHEN g % 10 = 3 THEN 289 ELSE 290 END,
                   CASE WHEN g % 10 = 3 THEN 1 ELSE 0 END,
                   10, t, t, t + interval '90 seconds', t + interval '90 seconds',
                   t + interval '90 seconds', 3
            FROM generate_series(1, :count) AS g,
                 LATERAL (SELECT now() - (g * (180 * 86400.0 / :count)) * interval '1 second'
                          AS t) AS ts
            """), {"count": count, "types": types})
        conn.execute(sa.text(
            """
            INSERT INTO admin_job_chunks (job_id, seq, started_at, finished_at, processed,
                                          success, errors, skips, driven_by)
            SELECT j.id, s, j.started_at + (s - 1) * interval '30 seconds',
                   j.started_at + s * interval '30 seconds', 100, 97, 0, 3, j.created_by
            FROM admin_jobs j, generate_series(1, 3) AS s
            """))
        conn.execute(sa.text(
            """
            INSERT INTO admin_job_errors (job_id, topic_id, error)
            SELECT id, NULL, '{"message": "Not classified: no rule matches"}'
            FROM admin_jobs WHERE error_count > 0
            """))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        conn.execute(sa.text("CHECKPOINT"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _api_latencies(url: str) -> list[tuple[str, float, float]]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url,
           "API_TOKENS": f"bench:{hash_token(TOKEN)}"}
    server = subprocess.Popen([sys.executable, "-m", "jobcore", "serve", "--port", str(port),
                               "--no-access-log"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    week = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    queries = {
        "newest 20 (no filter)": {},
        "newest 100": {"limit": 100},
        "type reclassify": {"jobType": "reclassify"},
        "status failed": {"status": "failed"},
        "type merge, status cancelled": {"jobType": "merge", "status": "cancelled"},
        "created by one of 20": {"createdBy": "analyst7@example.com"},
        "created in the last 7 days": {"createdSince": week},
        "status paused (none exist)": {"status": "paused"},
    }
    rows = []
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/openapi.json")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=30) as client:
            for label, params in queries.items():
                times = []
                for n in range(CALLS + 3):
                    started = time.perf_counter()
                    response = client.get("/api/admin/jobs", params=params)
                    elapsed = time.perf_counter() - started
                    response.raise_for_status()
                    if n >= 3:
                        times.append(elapsed)
                times.sort()
                rows.append((label, statistics.median(times), times[int(len(times) * 0.95) - 1]))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def _apptest_seconds(rounds: int = 5) -> float:
    from streamlit.testing.v1 import AppTest

    times = []
    for _ in range(rounds + 1):  # the first run imports modules: not counted
        at = AppTest.from_file(APP, default_timeout=120)
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    return statistics.median(times[1:])


def _chromium_seconds(url: str, rounds: int = 3) -> tuple[float, float, float]:
    """Median seconds from opening the Jobs page to its title (Streamlit's frontend up) and
    to its job table on screen, and from a change of the Status filter to the new table.
    """
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url}
    app = subprocess.Popen([sys.executable, "-m", "streamlit", "run", APP, "--server.port",
                            str(port), "--server.headless", "true"], env=env, cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    titled, opened, filtered = [], [], []
    try:
        _wait_for(f"http://127.0.0.1:{port}/_stcore/health")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking"])
            for n in range(rounds + 1):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                started = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_role("heading", name="Jobs").first.wait_for(timeout=60_000)
                title = time.perf_counter() - started
                page.get_by_test_id("stDataFrame").last.wait_for(state="visible",
                                                                 timeout=60_000)
                page.get_by_text("Click a row to open its job").wait_for(timeout=60_000)
                loaded = time.perf_counter() - started
                status = page.get_by_test_id("stSelectbox").filter(has_text="Status")
                status.locator("input").fill("failed")
                started = time.perf_counter()
                page.get_by_role("option", name="failed", exact=True).click()
                page.wait_for_function(
                    "() => !document.querySelector('[data-testid=stStatusWidget]')",
                    timeout=60_000)
                changed = time.perf_counter() - started
                if n:  # the first opens a cold server session: not counted
                    titled.append(title)
                    opened.append(loaded)
                    filtered.append(changed)
                page.close()
            browser.close()
    finally:
        app.terminate()
        app.wait(timeout=30)
    return statistics.median(titled), statistics.median(opened), statistics.median(filtered)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # AppTest's bare-mode warnings
    get_settings.cache_clear()
    server = resolve_url()
    drop_database(server, DATABASE)
    url = create_database(server, DATABASE)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    engine = create_engine_for(url)
    drop_database(server, BASELINE)
    baseline = create_database(server, BASELINE)
    small = create_engine_for(baseline)
    try:
        seed_demo(small, topics_count=2_000, seed=11)
        _fill(small, 100)
        small.dispose()
        seed_demo(engine, topics_count=2_000, seed=11)
        started = time.perf_counter()
        _fill(engine, args.jobs)
        print(f"{args.jobs:,} finished jobs, {3 * args.jobs:,} chunk log rows, "
              f"{args.jobs // 10:,} errors loaded in {time.perf_counter() - started:.0f} s")
        print("\nJob list API, GET /api/admin/jobs (median / p95 of 30 calls; target < 50 ms)")
        for label, median, p95 in _api_latencies(url):
            print(f"  {label:<32} {median * 1000:6.1f} ms / {p95 * 1000:6.1f} ms")
        page = _apptest_seconds()
        scale = _chromium_seconds(url)
        print("\nJobs page (target < 1 s), with a baseline of 100 jobs measured the same way")
        print(f"  page script, AppTest (median of 5)             : {page * 1000:6.0f} ms")
        labels = ("Chromium, open to the page title (frontend up)",
                  "Chromium, open to the job table",
                  "Chromium, Status filter to the new table")
        for label, big, few in zip(labels, scale, _chromium_seconds(baseline), strict=True):
            print(f"  {label:<47}: {big * 1000:6.0f} ms  (100 jobs: {few * 1000:5.0f} ms)")

        started = time.perf_counter()
        planned = bulk.plan(bulk.RETRY_ERRORS, JobFilter(
            status="failed", created_since=datetime.now(UTC) - timedelta(days=14)),
            engine=engine)
        print(f"\nBulk plan, retry errors of {planned.matching:,} matching jobs: "
              f"{(time.perf_counter() - started) * 1000:.0f} ms "
              f"({len(planned.job_ids):,} taken)")

        print("\nRetention, default settings (chunk logs 30 days, jobs kept)")
        started = time.perf_counter()
        dry = retention.prune(engine=engine, dry_run=True)
        print(f"  dry run {time.perf_counter() - started:6.1f} s: {dry.summary()}")
        started = time.perf_counter()
        done = retention.prune(engine=engine)
        print(f"  prune   {time.perf_counter() - started:6.1f} s: {done.summary()}")
        policy = retention.Policy(log_days=30, job_days=90)
        started = time.perf_counter()
        gone = retention.prune(engine=engine, policy=policy)
        print(f"JOB_RETENTION_DAYS=90: {time.perf_counter() - started:6.1f} s: "
              f"{gone.summary()}")
        print("\nJob list API after the prune")
        for label, median, p95 in _api_latencies(url)[:3]:
            print(f"  {label:<32} {median * 1000:6.1f} ms / {p95 * 1000:6.1f} ms")
    finally:
        engine.dispose()
        small.dispose()
        drop_database(server, DATABASE)
        drop_database(server, BASELINE)


if __name__ == "__main__":
    main()
