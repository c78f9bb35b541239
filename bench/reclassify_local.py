"""Local reclassify throughput on a user's catalogue: jobcore's process_chunk against a plain
psycopg loop, and the command line a user runs.

Seeds the 20,000-topic demo catalogue once and embeds it (``python -m jobcore embed``: a
user's catalogue has vectors), and keeps an unembedded copy beside it; each round copies
them into fresh databases on the configured server (embedded unless DATABASE_URL is set).
Variants: a reclassify job (local mode, default config: unclassified and outdated topics)
through process_chunk on the embedded catalogue and on the unembedded one (the vectors live
off the topics table, so the two should match); ``python -m jobcore reclassify-global`` on
the embedded catalogue, timed as a whole process (start, plan, classifier, chunks); and a
plain psycopg loop doing the same reads and writes in chunks of the same size: lock the job
row, select a chunk of eligible topics, classify them with the same classifier (one call
per chunk), update them, insert history, flag failures and unsure topics, update the
counters, commit.
The classifier is built once, outside the timings, and forgets what it classified before
each run (its answers for repeated paths are remembered within a run, as in a user's).
Default settings: writes mark embeddings stale instead of re-embedding inside the chunk
(EMBED_ON_WRITE off), and chunks commit durably (CHUNK_COMMIT=durable), so this is the speed
a user gets.

    python bench/reclassify_local.py [--topics 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import sqlalchemy as sa

from jobcore.catalog.demo import seed_demo
from jobcore.classify import reclassify
from jobcore.classify.segment_classifier import classification_of, get_classifier
from jobcore.classify.taxonomy import CLASSIFICATION_FIELDS
from jobcore.config import get_settings
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url
from jobcore.dedup import embeddings
from jobcore.jobs import drive, runner

FIELDS = ", ".join(CLASSIFICATION_FIELDS)


TEMPLATES = {"embedded": "bench_reclassify_tpl_embedded", "unembedded": "bench_reclassify_tpl"}


def make_templates(server_url: str, topics: int) -> None:
    """The seeded catalogue, once unembedded and once embedded as ``embed`` leaves it."""
    engine = create_engine_for(create_database(server_url, TEMPLATES["unembedded"]))
    seed_demo(engine, topics_count=topics, seed=7)
    engine.dispose()
    url = create_database(server_url, TEMPLATES["embedded"], template=TEMPLATES["unembedded"])
    engine = create_engine_for(url)
    start = time.perf_counter()
    embedded = embeddings.refresh_all(engine, embeddings.get_provider())
    print(f"catalogue: {topics:,} topics seeded; {embedded:,} embedded in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    engine.dispose()


def fresh_catalogue(server_url: str, name: str, template: str) -> sa.Engine:
    """A copy of a template catalogue, vacuumed and checkpointed so that background
    maintenance does not land inside a timing.
    """
    engine = create_engine_for(create_database(server_url, name, template=template))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        conn.execute(sa.text("CHECKPOINT"))
    return engine


PLANNING: list[float] = []  # seconds of create_job (planning: the eligible count) per run


def run_jobcore(engine: sa.Engine) -> tuple[float, int]:
    get_classifier().forget()  # a user's run meets these names for the first time
    planning = time.perf_counter()
    created = runner.create_job("reclassify", {"mode": "local"}, engine=engine)
    PLANNING.append(time.perf_counter() - planning)
    started = time.perf_counter()
    report = drive.run_to_completion(created.id, engine=engine)
    return time.perf_counter() - started, report.processed_items


def run_cli(engine: sa.Engine) -> tuple[float, int]:
    """``python -m jobcore reclassify-global`` as a user runs it, timed as a whole process."""
    url = engine.url.render_as_string(hide_password=False)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jobcore", "reclassify-global"], check=True,
                   env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                   cwd=Path(__file__).resolve().parent.parent)
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        items = conn.execute(sa.text("SELECT processed_items FROM admin_jobs "
                                     "ORDER BY created_at DESC LIMIT 1")).scalar_one()
    return seconds, items


def run_plain_loop(engine: sa.Engine) -> tuple[float, int]:
    """The floor: hand-written psycopg doing the same reads and writes per chunk,
    with the same SQL and the same (durable) commits, and none of jobcore's layers.
    """
    rules = get_classifier()
    rules.forget()  # as cold as the jobcore run
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        job_id = "job_1_plainloop"
        conn.execute("INSERT INTO admin_jobs (id, job_type, created_by, status, started_at, "
                     "total_items) SELECT %s, 'reclassify', 'bench', 'processing', now(), "
                     "count(*) FROM topics", (job_id,))
        conn.commit()
        started = time.perf_counter()
        last_id, processed = 0, 0
        while True:
            conn.execute("SELECT * FROM admin_jobs WHERE id = %s FOR UPDATE NOWAIT", (job_id,))
            rows = conn.execute(
                f"SELECT id, name, description, {FIELDS}, classification_version "
                "FROM topics WHERE deleted_at IS NULL AND merged_into IS NULL AND id > %s "
                "AND (classification_version IS NULL OR (classification_source = 'rules' "
                "AND classification_version <> %s)) ORDER BY id LIMIT %s FOR UPDATE",
                (last_id, rules.version, reclassify.CHUNK_SIZE)).fetchall()
            if not rows:
                break
            writes, flags, errors, changed = [], [], [], 0
            decisions = rules.classify_many([(row[1], row[2]) for row in rows])
            for row, decision in zip(rows, decisions, strict=True):
                old = dict(zip(CLASSIFICATION_FIELDS, row[3:8], strict=True))
                if decision.best is None:
                    flags.append({"id": row[0], "reason": decision.reason()})
                    errors.append({"id": row[0], "name": row[1], "message": decision.reason()})
                    continue
                if decision.unsure:
                    flags.append({"id": row[0], "reason": decision.reason()})
                new = classification_of(decision.best.node).as_dict()
                write = {"id": row[0], "changed": new != old, **new}
                if new != old:
                    changed += 1
                    write["previous_values"], write["new_values"] = old, new
                writes.append(write)
            conn.execute(
                "WITH v AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, "
                "segment_type text, taxonomy_type text, parent_category text, subcategory text, "
                "audience_type text, changed boolean, previous_values jsonb, new_values jsonb)), "
                "u AS (UPDATE topics t SET segment_type = v.segment_type, "
                "taxonomy_type = v.taxonomy_type, parent_category = v.parent_category, "
                "subcategory = v.subcategory, audience_type = v.audience_type, "
                "classification_version = %s, classification_source = 'rules', "
                "classified_at = now(), updated_at = CASE WHEN v.changed THEN now() "
                "ELSE t.updated_at END FROM v WHERE t.id = v.id) "
                "INSERT INTO topic_history (topic_id, job_id, action, previous_values, "
                "new_values) SELECT v.id, %s, 'reclassified', v.previous_values, v.new_values "
                "FROM v WHERE v.changed", (json.dumps(writes), rules.version, job_id))
            if flags:
                conn.execute(
                    "UPDATE topics t SET review_status = 'needs_review', review_reason = v.reason "
                    "FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, reason text) "
                    "WHERE t.id = v.id", (json.dumps(flags),))
            conn.execute(
                "UPDATE admin_jobs SET processed_items = processed_items + %s, "
                "success_count = success_count + %s, error_count = error_count + %s, "
                "skip_count = skip_count + %s, "
                "cursor = %s::jsonb, updated_at = now() WHERE id = %s",
                (len(rows), changed, len(errors), len(writes) - changed,
                 json.dumps({"lastId": rows[-1][0]}), job_id))
            if errors:
                conn.execute(
                    "INSERT INTO admin_job_errors (job_id, topic_id, error) "
                    "SELECT %s, (e ->> 'id')::bigint, e FROM jsonb_array_elements(%s::jsonb) e",
                    (job_id, json.dumps(errors)))
            conn.commit()
            last_id = rows[-1][0]
            processed += len(rows)
        return time.perf_counter() - started, processed


VARIANTS = (  # name, template, run
    ("jobcore", "embedded", run_jobcore),
    ("unembedded", "unembedded", run_jobcore),
    ("cli", "embedded", run_cli),
    ("plain", "embedded", run_plain_loop),
)


def main() -> None:
    get_settings.cache_clear()
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="fresh databases per variant")
    args = parser.parse_args()
    server = resolve_url()
    get_classifier()  # build the classifier outside every timing
    make_templates(server, args.topics)
    rates: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    items = 0
    try:
        for round_no in range(1, args.rounds + 1):
            for variant, template, run in VARIANTS:
                name = f"bench_reclassify_{variant}"
                try:
                    engine = fresh_catalogue(server, name, TEMPLATES[template])
                    seconds, items = run(engine)
                    engine.dispose()
                finally:
                    drop_database(server, name)
                rates[variant].append(items / seconds)
                print(f"round {round_no} {variant:<10}: {items:,} topics in {seconds:.2f} s = "
                      f"{items / seconds:,.0f} topics/s", flush=True)
    finally:
        for template in TEMPLATES.values():
            drop_database(server, template)
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\n{args.topics:,} topics seeded; {items:,} eligible (unclassified or outdated)")
    print(f"process_chunk, embedded catalogue  : median {median['jobcore']:,.0f} topics/s "
          "(durable commits, the default)")
    print(f"process_chunk, unembedded catalogue: median {median['unembedded']:,.0f} topics/s "
          f"(embedded / unembedded = {median['jobcore'] / median['unembedded']:.2f})")
    print(f"python -m jobcore reclassify-global : median {median['cli']:,.0f} topics/s, whole "
          "process on the embedded catalogue (target >= 4,000)")
    print(f"planning (create_job)              : median {statistics.median(PLANNING):.3f} s "
          "(target well under 1 s)")
    print(f"plain psycopg loop                 : median {median['plain']:,.0f} topics/s")
    print(f"ratio process_chunk / plain        : {median['jobcore'] / median['plain']:.2f} "
          "(target >= 0.8)")


if __name__ == "__main__":
    main()
