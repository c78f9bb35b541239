"""Chunk time against the errors a job has stored: appending errors must cost the same at 0
and at 100,000 stored errors.

A fresh database with 101,000 topics no rule classifies (every one is an item error); a
local reclassify runs through process_chunk (50 topics, so 50 errors, a chunk). Prints the
median chunk time over the first 20 chunks and over 20 chunks after 100,000 stored errors,
and what reading such a job costs (summary, first page of errors, the whole record).

    python bench/errors.py [--topics 101000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from jobcore.db import create_database, create_engine_for, drop_database, resolve_url
from jobcore.jobs import runner

SAMPLE = 20


def _timed_chunks(job_id: str, engine: sa.Engine, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        runner.process_chunk(job_id, engine=engine)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=101_000)
    args = parser.parse_args()
    server, name = resolve_url(), "bench_errors"
    engine = create_engine_for(create_database(server, name))
    try:
        with engine.begin() as conn:  # names no rule matches: every topic is an item error
            conn.execute(sa.text(
                "INSERT INTO topics (name) SELECT 'Qqqz Wxyv ' || n "
                "FROM generate_series(1, :n) AS n"), {"n": args.topics})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        created = runner.create_job("reclassify", {"mode": "local"}, engine=engine)
        first = _timed_chunks(created.id, engine, SAMPLE)
        while runner.get_job_summary(created.id, engine=engine).error_count < 100_000:
            runner.process_chunk(created.id, engine=engine)
        stored = runner.get_job_summary(created.id, engine=engine).error_count
        later = _timed_chunks(created.id, engine, SAMPLE)
        early, late = statistics.median(first), statistics.median(later)
        print(f"chunk of 50 errors: median {early * 1000:.1f} ms over the first {SAMPLE} "
              f"chunks, {late * 1000:.1f} ms after {stored:,} stored errors "
              f"(ratio {late / early:.2f}; target about 1)")
        reads = {
            "summary (job list, live panel)": lambda: runner.get_job_summary(created.id,
                                                                             engine=engine),
            "first 50 errors (jobs show)": lambda: runner.job_errors(created.id, limit=50,
                                                                     engine=engine),
            "whole record with every error (API GET, CSV)": lambda: runner.get_job(
                created.id, engine=engine),
        }
        for label, read in reads.items():
            start = time.perf_counter()
            read()
            print(f"read {label}: {(time.perf_counter() - start) * 1000:,.0f} ms")
    finally:
        engine.dispose()
        drop_database(server, name)


if __name__ == "__main__":
    main()
