"""A Run from the job page against the command line on the same job.

On copies of one embedded 5,000-topic demo catalogue (the configured server), a forced local
reclassify of 2,000 topics is driven three ways: the job page's Run (AppTest: the real page
script, which reruns the whole page where a browser reruns only the live panel, so this is
the slower case), ``python -m jobcore jobs process JOB --all`` as a whole process, and
``drive.run_to_completion`` in-process. Prints topics/s of each, median of the rounds, and
the page's share of the command line's rate (target: at least half).

    python bench/page_run.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.classify.segment_classifier import get_classifier  # noqa: E402
from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.dedup import embeddings  # noqa: E402
from jobcore.jobs import drive, runner  # noqa: E402

APP = str(ROOT / "streamlit_app.py")
TEMPLATE, COPY = "bench_page_run_tpl", "bench_page_run"
CONFIG = {"force": True, "limit": 2000}


def _use(url: str) -> sa.Engine:
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    return create_engine_for(url)


def _page(engine: sa.Engine, job_id: str) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=600)
    at.query_params["job"] = job_id
    at.switch_page("app_pages/job_detail.py")
    at.run()
    run = next(b for b in at.button if b.label == "Run")
    started = time.perf_counter()
    run.click().run()
    return time.perf_counter() - started


def _cli(engine: sa.Engine, job_id: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jobcore", "jobs", "process", job_id, "--all"],
                   check=True, capture_output=True, cwd=ROOT, env=dict(os.environ))
    return time.perf_counter() - started


def _in_process(engine: sa.Engine, job_id: str) -> float:
    started = time.perf_counter()
    drive.run_to_completion(job_id, engine=engine)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = resolve_url()
    engine = _use(create_database(server, TEMPLATE))
    seed_demo(engine, topics_count=5_000, seed=11)
    embeddings.refresh_all(engine, embeddings.get_provider())
    engine.dispose()
    get_classifier()  # the page's process and this one load it once, outside the timings
    rates: dict[str, list[float]] = {"page": [], "cli": [], "in-process": []}
    try:
        for round_no in range(1, args.rounds + 1):
            for name, driver in (("page", _page), ("cli", _cli), ("in-process", _in_process)):
                copy = f"{COPY}_{round_no}_{name.replace('-', '_')}"  # a page's engine is kept
                engine = _use(create_database(server, copy, template=TEMPLATE))
                try:
                    created = runner.create_job("reclassify", CONFIG, engine=engine)
                    seconds = driver(engine, created.id)
                    job = runner.get_job(created.id, engine=engine)
                    assert job.status == "completed", job.status
                finally:
                    engine.dispose()
                    drop_database(server, copy)
                rates[name].append(job.processed_items / seconds)
                print(f"round {round_no} {name:<10}: {job.processed_items:,} topics in "
                      f"{seconds:.2f} s = {job.processed_items / seconds:,.0f} topics/s "
                      f"({job.chunk_count} chunks)", flush=True)
    finally:
        drop_database(server, TEMPLATE)
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\npage Run (AppTest)       : median {median['page']:,.0f} topics/s")
    print(f"jobs process --all (CLI) : median {median['cli']:,.0f} topics/s (whole process)")
    print(f"run_to_completion        : median {median['in-process']:,.0f} topics/s")
    print(f"page / CLI               : {median['page'] / median['cli']:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
