"""Dedup figures on a 100,000-topic demo catalogue, with the default settings (static
encoder, hybrid matching at 0.60).

1. Embedding: topics/s through ``embeddings.refresh_all`` (what ``python -m jobcore
   embed`` does: two writers, HNSW index maintained) with the default encoder, and the raw
   encode rate of the old default (torch) and the new one on the first 2,000 of the same
   texts.
2. Sweep: topics/s of a whole-catalogue dedup_sweep through process_chunk (its lexical
   index built in the first chunk, counted).
3. Recall: the pairs scoring at least the threshold (after the guards and the subject rule)
   that the sweep's candidate stage finds (each topic's lexical candidates, in the sweep's
   chunks), against an exact search of the same scores: every pair's cosine (numpy,
   float32) and lexical similarity (sparse TF-IDF products).

    python bench/dedup.py                 # fresh database
    python bench/dedup.py --reuse         # keep the database, reuse its embeddings next time
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.classify.taxonomy import Classification  # noqa: E402
from jobcore.db import (  # noqa: E402
    create_database,
    create_engine_for,
    drop_database,
    resolve_url,
    url_for_database,
)
from jobcore.dedup import embeddings, guards, lexical, proposals, sweep_steps, thresholds  # noqa: E402
from jobcore.dedup.encoders import LocalMiniLM  # noqa: E402
from jobcore.dedup.neighbourhoods import Neighbourhoods  # noqa: E402
from jobcore.dedup.search import Searchers  # noqa: E402
from jobcore.errors import DatabaseUnavailable  # noqa: E402
from jobcore.jobs import drive, runner  # noqa: E402

TOPICS = int(os.environ.get("BENCH_TOPICS", "100000"))
RAW_SAMPLE = 2000
THRESHOLD = thresholds.DEFAULT_THRESHOLDS[thresholds.DEFAULT_MATCHING]
WEIGHT = thresholds.SEMANTIC_WEIGHT


def _database(name: str, reuse: bool) -> tuple[sa.Engine, bool]:
    """The engine, and whether the catalogue was already seeded and embedded."""
    server = resolve_url()
    if reuse:
        try:
            engine = create_engine_for(url_for_database(server, name))
        except DatabaseUnavailable:  # not made yet
            engine = None
        if engine is not None:
            with engine.connect() as conn:
                embedded = conn.execute(sa.text(
                    "SELECT (SELECT count(*) FROM topic_embeddings), count(*) FROM topics"
                )).one()
            if embedded[1] == TOPICS and embedded[0] == TOPICS:
                return engine, True
            engine.dispose()
    drop_database(server, name)
    return create_engine_for(create_database(server, name)), False


def _embed(engine: sa.Engine) -> None:
    provider = embeddings.get_provider()
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT name, description, segment_type, taxonomy_type, parent_category, "
            "subcategory, audience_type FROM topics ORDER BY id LIMIT :n"), {"n": RAW_SAMPLE})
        texts = [embeddings.embedding_text(r[0], r[1], Classification(*r[2:])) for r in rows]
    rates = {}
    for name, model in (("torch", LocalMiniLM()), (provider.model_name, provider)):
        model.encode(texts[:64])  # load (or build) the model outside the timings
        start = time.perf_counter()
        model.encode(texts)
        rates[name] = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    indexing = []
    embedded = embeddings.refresh_all(  # what `python -m jobcore embed` does
        engine, provider, on_index=lambda: indexing.append(time.perf_counter()))
    seconds = time.perf_counter() - start
    loaded = (indexing[0] if indexing else time.perf_counter()) - start
    encode = embedded / rates[provider.model_name] / embeddings.WRITERS
    print(f"embed: {embedded:,} topics in {seconds:,.1f} s = {embedded / seconds:,.0f} topics/s "
          f"with {provider.model_name} (target <= 45 s): load {loaded:,.1f} s (of it encode "
          f"~{encode:,.1f} s on {embeddings.WRITERS} writers; the rest reads, embedding texts, "
          f"binary COPY), HNSW index built once {seconds - loaded:,.1f} s")
    old, new = rates["torch"], rates[provider.model_name]
    print(f"raw encode on the first {len(texts):,} of the same texts: torch {old:,.0f} texts/s, "
          f"{provider.model_name} {new:,.0f} texts/s = {new / old:,.0f}x (target >= 10x)")


def _sweep(engine: sa.Engine) -> str:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE topics"))
    created = runner.create_job("dedup_sweep", {}, engine=engine)
    start = time.perf_counter()
    drive.run_to_completion(created.id, engine=engine)
    seconds = time.perf_counter() - start
    job = runner.get_job(created.id, engine=engine)
    print(f"sweep: {job.processed_items:,} topics in {seconds:,.1f} s = "
          f"{job.processed_items / seconds:,.0f} topics/s through process_chunk "
          f"(target >= 2,000/s); {job.result['matching']} matching at "
          f"{job.result['threshold']}, {job.result['search']} search, "
          f"{job.chunk_count:,} chunks; "
          f"{job.result['clusterCount']:,} clusters, {job.result['duplicateCount']:,} "
          "duplicates")
    return job.id


def _vectors(engine: sa.Engine) -> tuple[np.ndarray, np.ndarray, list[str]]:
    raw = engine.raw_connection()
    try:
        register_vector(raw.driver_connection)
        with raw.driver_connection.cursor() as cursor:
            cursor.execute("SELECT t.id, t.name, e.embedding FROM topics t "
                           "JOIN topic_embeddings e ON e.topic_id = t.id "
                           "WHERE t.deleted_at IS NULL AND t.merged_into IS NULL ORDER BY t.id")
            rows = cursor.fetchall()
    finally:
        raw.close()
    ids = np.array([r[0] for r in rows])
    matrix = np.vstack([np.asarray(r[2].to_numpy() if hasattr(r[2], "to_numpy") else r[2])
                        for r in rows]).astype(np.float32)
    return ids, matrix, [r[1] for r in rows]


def _exact_pairs(ids: np.ndarray, matrix: np.ndarray, names: list[str],
                 lexicon: lexical.LexicalIndex) -> set[tuple[int, int]]:
    """Every pair the guards and the subject rule allow scoring at least THRESHOLD: a
    pair's lexical similarity must reach (THRESHOLD - WEIGHT) / (1 - WEIGHT) for any
    cosine to lift it there.
    """
    marks = [guards.markers(n) for n in names]
    rows = lexicon.vectors(names)
    columns = rows.T.tocsr()
    floor = (THRESHOLD - WEIGHT) / (1 - WEIGHT)
    pairs: set[tuple[int, int]] = set()
    block = 500
    for start in range(0, len(ids), block):
        lexical_scores = (rows[start:start + block] @ columns).tocoo()
        keep = (lexical_scores.data >= floor - 1e-6) & (lexical_scores.col > lexical_scores.row
                                                        + start)
        a, b = lexical_scores.row[keep] + start, lexical_scores.col[keep]
        cosine = np.einsum("ij,ij->i", matrix[a], matrix[b])
        score = WEIGHT * cosine + (1 - WEIGHT) * np.minimum(lexical_scores.data[keep], 1.0)
        for x, y in zip(a[score >= THRESHOLD].tolist(), b[score >= THRESHOLD].tolist(),
                        strict=True):
            if guards.compatible(marks[x], marks[y]) and \
                    lexicon.same_subject(names[x], names[y]):
                pairs.add(proposals.pair_key(int(ids[x]), int(ids[y])))
    return pairs


def _candidate_pairs(engine: sa.Engine, ids: np.ndarray,
                     lexicon: lexical.LexicalIndex) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    ordered = ids.tolist()
    with engine.connect() as conn:
        for start in range(0, len(ordered), sweep_steps.CHUNK_SIZE):
            with conn.begin():
                pairs.update(_candidates_of(
                    conn, ordered[start:start + sweep_steps.CHUNK_SIZE], lexicon))
    return pairs


def _candidates_of(conn: sa.Connection, topic_ids: list[int],
                   lexicon: lexical.LexicalIndex) -> set[tuple[int, int]]:
    """The pairs of these topics' candidates that the guards allow and that score at least
    the threshold: what a sweep step can cluster.
    """
    with Searchers(conn, "hnsw") as searchers:
        hoods = Neighbourhoods(conn, searchers, lexicon, thresholds.DEFAULT_MATCHING, THRESHOLD,
                               set(), lambda ids: {})
        hoods.load(topic_ids)
        return {proposals.pair_key(t, i) for t in topic_ids if t in hoods.near
                for i, _ in hoods.close(t)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database and reuse its embedded catalogue")
    parser.add_argument("--database", default="bench_dedup")
    args = parser.parse_args()
    engine, ready = _database(args.database, args.reuse)
    try:
        if ready:
            print(f"embed: skipped (reusing {args.database}'s {TOPICS:,} embedded topics)")
        else:
            seed_demo(engine, topics_count=TOPICS, seed=9)
            _embed(engine)
        result = runner.get_job(_sweep(engine), engine=engine).result
        ids, matrix, names = _vectors(engine)
        with engine.connect() as conn:
            lexicon = lexical.index_for(conn, "bench", fixed=True,
                                        guard_key=guards.guard_key)
        start = time.perf_counter()
        exact = _exact_pairs(ids, matrix, names, lexicon)
        exact_seconds = time.perf_counter() - start
        start = time.perf_counter()
        found = _candidate_pairs(engine, ids, lexicon)
        hnsw_seconds = time.perf_counter() - start
        clustered, memberships = {}, 0
        for number, cluster in enumerate(result["clusters"]):
            for member in (cluster["winner"], *(m["id"] for m in cluster["losers"])):
                clustered[member] = number
                memberships += 1
        if memberships != len(clustered):
            print(f"ERROR: {memberships - len(clustered):,} topics are in more than one cluster")
        together = sum(1 for a, b in exact if a in clustered and clustered.get(b) ==
                       clustered[a])
        recall = len(found & exact) / len(exact) if exact else 1.0
        print(f"recall: the sweep's candidates hold {len(found & exact):,} of {len(exact):,} "
              f"exact pairs >= {THRESHOLD} = {recall:.4f} (target >= 0.99); "
              f"{len(found - exact):,} found pairs not exact (ties at the threshold); exact "
              f"search {exact_seconds:,.0f} s (numpy, scipy), candidate pass "
              f"{hnsw_seconds:,.0f} s")
        print(f"clusters: {together:,} of the {len(exact):,} exact pairs sit in one cluster "
              "(the rest are pairs whose members are not both close to a winner: no chaining)")
    finally:
        engine.dispose()
        if not args.reuse:
            drop_database(resolve_url(), args.database)


if __name__ == "__main__":
    main()
