"""A catalogue of a million topics, through the entry points a user runs.

In a fresh database on the configured server: seed the demo catalogue (in-process), then
run, each as its own process and timed whole, ``python -m jobcore embed``,
``reclassify-global``, ``dedup-sweep`` and ``merge --sweep`` of that sweep; then open the
Jobs, Review queue and Dedup clusters screens (AppTest: the real page scripts) on it. Prints
the seconds and the peak memory (max RSS) of each step, and topics/s where it applies, so
that a step that grows faster than the catalogue shows at two sizes.

    python bench/scale.py --topics 1000000 [--keep]     # needs GNU time (/usr/bin/time)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402

APP = str(ROOT / "streamlit_app.py")
DATABASE = "bench_scale"


def _process(*args: str) -> tuple[float, float, str]:
    """Seconds, peak RSS (MiB) and output of ``python -m jobcore ARGS`` as its own process.
    The peak is GNU time's (``/usr/bin/time``, a small process that starts the command): a
    child forked straight from this big process would report this one's memory as its own.
    """
    with tempfile.NamedTemporaryFile("r") as peak:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, sys.executable,
                               "-m", "jobcore", *args], cwd=ROOT, env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        seconds = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(f"python -m jobcore {' '.join(args)} exited {done.returncode}: "
                             f"{done.stdout}")
        kib = int(peak.read().strip().splitlines()[-1])
    return seconds, kib / 1024, done.stdout


def _page(page: str, **query: str) -> float:
    from streamlit.testing.v1 import AppTest

    times = []
    for _ in range(3):
        at = AppTest.from_file(APP, default_timeout=600)
        for key, value in query.items():
            at.query_params[key] = value
        at.switch_page(page)
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise SystemExit(f"{page}: {at.exception[0].message}")
    return sorted(times)[1]  # the median of three (the first pays the imports)


def _line(step: str, seconds: float, rss: float, items: int | None = None) -> None:
    rate = f" = {items / seconds:,.0f}/s" if items else ""
    print(f"{step:<28}{seconds:9.1f} s{rate:>14}   peak {rss:,.0f} MiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    server = resolve_url()
    url = create_database(server, DATABASE)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    engine = create_engine_for(url)
    try:
        started = time.perf_counter()
        seed_demo(engine, topics_count=args.topics, seed=5)
        _line("seed (in-process)", time.perf_counter() - started,
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, args.topics)
        seconds, rss, _ = _process("embed")
        _line("embed", seconds, rss, args.topics)
        seconds, rss, _ = _process("reclassify-global")
        with engine.connect() as conn:
            classified = conn.execute(sa.text(
                "SELECT processed_items FROM admin_jobs ORDER BY created_at DESC LIMIT 1"
            )).scalar_one()
        _line("reclassify-global", seconds, rss, classified)
        seconds, rss, _ = _process("dedup-sweep")
        with engine.connect() as conn:
            sweep_id, swept = conn.execute(sa.text(
                "SELECT id, processed_items FROM admin_jobs WHERE job_type = 'dedup_sweep' "
                "ORDER BY created_at DESC LIMIT 1")).one()
        _line("dedup-sweep", seconds, rss, swept)
        seconds, rss, _ = _process("merge", "--sweep", sweep_id)
        with engine.connect() as conn:
            # merge --sweep makes a merge job of at most 50,000 clusters at a time
            merged, jobs = conn.execute(sa.text(
                "SELECT coalesce(sum(success_count), 0), count(*) FROM admin_jobs "
                "WHERE job_type = 'merge' AND config ->> 'sourceSweepId' = :sweep"),
                {"sweep": sweep_id}).one()
        _line(f"merge ({merged:,} clusters, {jobs} jobs)", seconds, rss, merged)
        for name, page, query in (("Jobs screen", "app_pages/jobs.py", {}),
                                  ("Review queue screen", "app_pages/review.py", {}),
                                  ("Dedup clusters screen", "app_pages/dedup.py",
                                   {"job": sweep_id})):
            seconds = _page(page, **query)
            _line(f"{name} opens", seconds,
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print("targets: the screens open in under 2 s", flush=True)
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(server, DATABASE)


if __name__ == "__main__":
    main()
