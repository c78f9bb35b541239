"""Claude as a second reviewer (issue 17): a verifying dedup sweep against the loopback fake
Message Batches API.

In a fresh database: PAIRS pairs of topics ("Kayak <code> Fans" and "Kayak <code> Lovers",
with descriptions) whose stored embeddings have a cosine similarity of 0.93, in the band a
semantic sweep verifies by default (0.90 up to the threshold 0.95), among random others.
A dedup_sweep with ``verify: "claude"`` (maxPairs = PAIRS) sweeps them, submits the band's
pairs ten a request, the fake ends every batch and answers (four in five pairs the same),
and the job is driven to the end. Prints:

- pairs per second through post-processing of the answers (process_chunk calls made once
  every answer was staged; target >= 3,000/s, as for reclassify), and through the whole of
  phase 2 (staging included);
- Message Batches requests per 1,000 pairs, and HTTP requests to the API per 1,000 pairs;
- input and output tokens per pair (the fake's counts, a tokenizer-like count of what was
  sent and answered) beside the estimate the job made before it sent them, and dollars per
  1,000 pairs at the default prices.

The fake runs in a process of its own.

    python bench/verify.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.fake_batches import drive_phase, drive_phase_two, fake_api  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.dedup import embeddings  # noqa: E402
from jobcore.jobs import runner  # noqa: E402
from jobcore.llm import cost  # noqa: E402
from jobcore.schema import EMBEDDING_DIMENSIONS  # noqa: E402

PAIRS = int(os.environ.get("BENCH_PAIRS", "20000"))
DATABASE = "bench_verify"
COSINE = 0.93
LETTERS = "bcdfghjklmnpqrstvwxz"


def _code(n: int) -> str:
    """A letters-only word per pair (numbers in names would be identifiers)."""
    word = ""
    for _ in range(5):
        n, r = divmod(n, len(LETTERS))
        word += LETTERS[r]
    return word.capitalize() + "o"


def _seed(engine) -> None:
    """PAIRS pairs at cosine COSINE, each pair on a random direction of its own."""
    rng = np.random.default_rng(17)
    model = embeddings.get_provider().model_name
    rows = []
    for i in range(PAIRS):
        base = rng.normal(size=EMBEDDING_DIMENSIONS)
        base /= np.linalg.norm(base)
        noise = rng.normal(size=EMBEDDING_DIMENSIONS)
        noise -= noise.dot(base) * base
        noise /= np.linalg.norm(noise)
        partner = COSINE * base + np.sqrt(1 - COSINE ** 2) * noise
        code = _code(i)
        for name, description, vector in (
                (f"Kayak {code} Fans", f"People who follow {code} kayaking.", base),
                (f"Kayak {code} Lovers", f"Fans of {code} kayaking trips.", partner)):
            text = embeddings.embedding_text(name, description, _UNCLASSIFIED)
            rows.append({"name": name, "description": description,
                         "embedding": "[" + ",".join(f"{x:.6f}" for x in vector) + "]",
                         "hash": embeddings.text_hash(text), "model": model})
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.text(
                "WITH t AS (INSERT INTO topics (name, description, embedding_stale) "
                "VALUES (:name, :description, false) RETURNING id) "
                "INSERT INTO topic_embeddings (topic_id, embedding, text_hash, model) "
                "SELECT t.id, CAST(:embedding AS vector), :hash, :model FROM t"),
                rows[start:start + 5000])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE topics, topic_embeddings"))


class _Unclassified:
    taxonomy_type = parent_category = subcategory = None


_UNCLASSIFIED = _Unclassified()


def main() -> None:
    server_url = resolve_url()
    drop_database(server_url, DATABASE)
    engine = create_engine_for(create_database(server_url, DATABASE))
    with fake_api("--pairs") as fake:
        try:
            _seed(engine)
            created = runner.create_job("dedup_sweep", {
                "matching": "semantic", "verify": "claude", "maxPairs": PAIRS}, engine=engine)
            sweep_seconds = drive_phase(engine, created.id, "sweep")
            submit_seconds = drive_phase(engine, created.id, "submit")
            submit_requests = fake.requests()
            fake.finish()
            two = drive_phase_two(engine, created.id)
            job = runner.get_job(created.id, engine=engine, with_errors=False,
                                 full_result=False)
            phase2_requests = fake.requests() - submit_requests
        finally:
            engine.dispose()
            drop_database(server_url, DATABASE)
    post_only_pairs, post_only_seconds = two.post_only_items, two.post_only_seconds
    phase2_seconds = two.seconds
    v = job.result["verification"]
    pairs = v["pairs"]
    per_thousand = 1000 / pairs
    usage, estimate = job.result["usage"], job.result["costEstimate"]["usage"]
    spent = cost.actual(usage)
    print(f"sweep: {PAIRS * 2:,} topics in {sweep_seconds:.1f} s; {pairs:,} pairs in the band "
          f"0.90-0.95 sent in {v['requests']:,} requests ({submit_seconds:.1f} s to submit)")
    print(f"post-processing: {post_only_pairs:,} pairs in {post_only_seconds:.2f} s = "
          f"{post_only_pairs / max(post_only_seconds, 1e-9):,.0f} pairs/s through "
          "process_chunk (target >= 3,000/s; the calls after every answer was staged)")
    print(f"phase 2 whole: {pairs:,} pairs staged and post-processed in {phase2_seconds:.1f} s "
          f"= {pairs / phase2_seconds:,.0f} pairs/s; {v.get('same', 0):,} same, "
          f"{v.get('different', 0):,} different, {v.get('failed', 0):,} failed; "
          f"{job.result['clusterCount']:,} clusters")
    print(f"requests: {v['requests'] * per_thousand:.0f} Message Batches requests per 1,000 "
          f"pairs; {(submit_requests + phase2_requests) * per_thousand:.1f} HTTP requests to "
          "the API per 1,000 pairs (creates, polls, result downloads)")
    for key, label in (("inputTokens", "input"), ("outputTokens", "output")):
        print(f"tokens per pair, {label}: {usage[key] / pairs:.0f} (the fake's count) against "
              f"{estimate[key] / pairs:.0f} estimated before sending "
              f"({estimate[key] / usage[key] - 1:+.0%})")
    print(f"cost: ${spent.dollars / pairs * 1000:.2f} per 1,000 pairs at the default prices "
          f"(estimated ${job.result['costEstimate']['dollars'] / pairs * 1000:.2f})")


if __name__ == "__main__":
    main()
