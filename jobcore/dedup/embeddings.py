"""Embeddings of topics: the text a topic is embedded from, and refresh.

A topic is embedded from its segment (its name's leaf), description and classification
(the encoders are in jobcore.dedup.encoders), and re-embedded only when that text (its hash)
or the encoder changes. Writes mark embeddings stale; ``refresh_pending`` brings them current
before a search.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo
from sqlalchemy.engine import Connection, Engine

from jobcore.catalog import segment_names
from jobcore.catalog.topic_store import LIVE
from jobcore.classify.taxonomy import Classification
from jobcore.config import get_settings
from jobcore.db import driver_cursor
from jobcore.dedup.encoders import EmbeddingProvider, get_provider
from jobcore.schema import topic_embeddings, topics

BATCH_SIZE = 256  # a sweep chunk's refresh: small steps, so that it keeps to its deadline
BULK_BATCH = 1_000  # refresh_all (``embed``): fewer, larger statements


def embedding_text(name: str, description: str | None, classification: Classification) -> str:
    """What a topic is embedded from: the segment its name names (the parsed leaf, with its
    parent in brackets and its market; a provider's path above the parent left out: it says
    where a segment is listed, not what it is), the description and the classification path.
    """
    parsed = segment_names.parse_cached(name)
    segment = parsed.leaf or name
    if len(parsed.parts) > 1:
        segment = f"{segment} ({parsed.parts[-2]})"
    if parsed.market:
        segment = f"{segment} - {parsed.market}"
    c = classification
    path = " > ".join(p for p in (c.taxonomy_type, c.parent_category, c.subcategory) if p)
    return ". ".join(p.strip() for p in (segment, description or "", path) if p and p.strip())


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RefreshReport:
    """One batch: how many topics were looked at and embedded, and where it ended."""

    checked: int
    embedded: int
    last_id: int | None  # None: nothing after ``after_id``


_CANDIDATES = (
    sa.select(topics.c.id, topics.c.name, topics.c.description, topics.c.segment_type,
              topics.c.taxonomy_type, topics.c.parent_category, topics.c.subcategory,
              topics.c.audience_type, topic_embeddings.c.model, topic_embeddings.c.text_hash,
              topics.c.embedding_stale, topic_embeddings.c.topic_id.is_(None).label("missing"),
              topics.c.updated_at)
    .select_from(topics.outerjoin(topic_embeddings,
                                  topic_embeddings.c.topic_id == topics.c.id))
    .where(LIVE, topics.c.id > sa.bindparam("last_id"), topics.c.id <= sa.bindparam("up_to"))
    .order_by(topics.c.id).limit(sa.bindparam("n", type_=sa.Integer))
)
MAX_ID = 2 ** 63 - 1
WRITERS = 2  # refresh_all's connections: the HNSW inserts of one run on one core
_PENDING = topics.c.embedding_stale  # stale or never embedded (new topics start marked)

# A batch's vectors go in by binary COPY into a scratch table (pgvector's own binary form of
# each float32 array, no text formatting), then one upsert into topic_embeddings.
_SCRATCH = ("CREATE TEMP TABLE embedding_load (topic_id bigint, embedding vector, "
            "text_hash text) ON COMMIT DROP")
_COPY = "COPY embedding_load (topic_id, embedding, text_hash) FROM STDIN (FORMAT BINARY)"
_UPSERT = """
    INSERT INTO topic_embeddings AS e (topic_id, embedding, model, text_hash)
    SELECT topic_id, embedding, %s, text_hash FROM embedding_load
    ON CONFLICT (topic_id) DO UPDATE SET embedding = excluded.embedding,
        model = excluded.model, text_hash = excluded.text_hash, embedded_at = now()
"""


def _encoded(provider: EmbeddingProvider, texts: list[str]) -> np.ndarray:
    """The texts' vectors as a float32 array (straight from an encoder that makes one)."""
    as_array = getattr(provider, "encode_array", None)
    if as_array is not None:
        return np.asarray(as_array(texts), dtype=np.float32)
    return np.asarray(provider.encode(texts), dtype=np.float32)


def _store(conn: Connection, model: str, rows: list[tuple[int, str]],
           vectors: np.ndarray) -> None:
    """Write a batch's vectors (``rows``: topic id and text hash, in the vectors' order) in
    the caller's transaction.
    """
    with driver_cursor(conn) as cursor:
        register_vector_info(cursor, TypeInfo.fetch(cursor.connection, "vector"))  # here only
        cursor.execute(_SCRATCH)
        with cursor.copy(_COPY) as copy:
            copy.set_types(["int8", "vector", "text"])
            for (topic_id, digest), vector in zip(rows, vectors, strict=True):
                copy.write_row((topic_id, vector, digest))
        cursor.execute(_UPSERT, (model,))
        cursor.execute("DROP TABLE embedding_load")


# The topics embedded (or found current) are no longer to embed, unless a write changed
# one while it was being encoded (updated_at moved): the next refresh embeds the new text.
_CURRENT_AGAIN = sa.text(
    """
    UPDATE topics AS t SET embedding_stale = false
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id bigint, seen timestamptz)
    WHERE t.id = v.id AND t.embedding_stale AND t.updated_at = v.seen
    """
)


def refresh_batch(conn: Connection, provider: EmbeddingProvider, *, after_id: int = 0,
                  up_to_id: int = MAX_ID, topic_ids: list[int] | None = None,
                  pending_only: bool = False, batch_size: int = BATCH_SIZE) -> RefreshReport:
    """Embed the next ``batch_size`` live topics after ``after_id`` and up to ``up_to_id``
    (all, only ``topic_ids``, or only those marked to embed) whose embedding text or model
    changed; a mark on a topic whose text is back to what was embedded is cleared.
    """
    stmt = _CANDIDATES if topic_ids is None else _CANDIDATES.where(topics.c.id.in_(topic_ids))
    if pending_only:
        stmt = stmt.where(_PENDING)
    rows = conn.execute(stmt, {"last_id": after_id, "up_to": up_to_id, "n": batch_size}).all()
    if not rows:
        return RefreshReport(0, 0, None)
    stale, marked = [], []
    for row in rows:
        text = embedding_text(row.name, row.description, Classification(*row[3:8]))
        digest = text_hash(text)
        if row.missing or row.text_hash != digest or row.model != provider.model_name:
            stale.append((row.id, text, digest))
        if row.embedding_stale:
            marked.append({"id": row.id, "seen": row.updated_at.isoformat()})
    if stale:
        vectors = _encoded(provider, [text for _, text, _ in stale])
        _store(conn, provider.model_name, [(topic_id, digest) for topic_id, _, digest in stale],
               vectors)
    if marked:
        conn.execute(_CURRENT_AGAIN, {"rows": json.dumps(marked)})
    return RefreshReport(len(rows), len(stale), rows[-1].id)


BULK_FROM = 5_000  # topics to embed from which refresh_all builds the vector index once
_INDEX = "ix_topic_embeddings_hnsw"
_BUILD_INDEX = (f"CREATE INDEX IF NOT EXISTS {_INDEX} ON topic_embeddings "
                "USING hnsw (embedding vector_cosine_ops)")


INDEX_BUILD = "the vector index"  # a load of a chunk, as pages name it (jobcore.warmup)
REBUILD_SHARE = 4  # re-embedding a quarter of the stored vectors or more: rebuild the index


def rebuild_worthwhile(conn: Connection, to_embed: int) -> bool:
    """Whether embedding ``to_embed`` topics goes faster with the HNSW index dropped and built
    once afterwards than through the graph vector by vector: at least ``BULK_FROM`` of them,
    and at least a ``1/REBUILD_SHARE`` of the vectors stored (a new catalogue, or one whose
    classification was redone).
    """
    if to_embed < BULK_FROM:
        return False
    stored = conn.execute(sa.select(sa.func.count()).select_from(topic_embeddings)).scalar_one()
    return to_embed * REBUILD_SHARE >= stored


def drop_vector_index(conn: Connection) -> None:
    """Drop the HNSW index before a bulk load, in the caller's transaction (which holds the
    vectors' table locked until it ends: keep it short); searches scan exactly until
    ``ensure_vector_index`` builds it again.
    """
    conn.execute(sa.text(f"DROP INDEX IF EXISTS {_INDEX}"))


# The HNSW graph of one 384-dimension vector takes about 2.2 KB while it is built (the
# vector and its neighbour lists); a graph that outgrows maintenance_work_mem makes pgvector
# go on inserting on disk, many times slower (1,000,000 vectors at 1 GB: over 15 minutes).
INDEX_BYTES_PER_VECTOR = 3_000
INDEX_MEMORY_MB = (1_024, 8_192)  # at least, at most


def index_memory_mb(vectors: int) -> int:
    """The maintenance_work_mem (MB) that holds the HNSW graph of ``vectors`` vectors."""
    low, high = INDEX_MEMORY_MB
    return max(low, min(high, vectors * INDEX_BYTES_PER_VECTOR // 2 ** 20 + 1))


def has_vector_index(conn: Connection) -> bool:
    """Whether the HNSW index of the vectors exists."""
    return bool(conn.execute(sa.text("SELECT to_regclass(:name)"), {"name": _INDEX}).scalar())


def ensure_vector_index(engine: Engine, on_build: Callable[[], None] = lambda: None) -> bool:
    """Build the HNSW index of the vectors when it is missing (after a bulk load, or a run
    interrupted in one), in one pass over the table with room to hold the graph in memory
    (``on_build`` hears when it starts); returns whether it was built.
    """
    with engine.begin() as conn:
        if has_vector_index(conn):
            return False
        on_build()
        rows = conn.execute(sa.select(sa.func.count()).select_from(topic_embeddings)
                            ).scalar_one()
        conn.execute(sa.text(f"SET LOCAL maintenance_work_mem = '{index_memory_mb(rows)}MB'"))
        conn.execute(sa.text("SET LOCAL max_parallel_maintenance_workers = 1"))
        conn.execute(sa.text(_BUILD_INDEX))
    return True


def refresh_all(engine: Engine, provider: EmbeddingProvider, *, batch_size: int = BULK_BATCH,
                writers: int = WRITERS,
                on_batch: Callable[[RefreshReport], None] = lambda report: None,
                on_index: Callable[[], None] = lambda: None) -> int:
    """``refresh_batch`` over the whole live catalogue, a transaction a batch, the id range
    split over ``writers`` connections that write in parallel; ``on_batch`` hears of every
    batch (from the writers' threads). When much of the catalogue is to embed (see
    ``rebuild_worthwhile``), the HNSW index is dropped first and built once at the end
    (``on_index`` hears when), instead of taking each vector into the graph one by one:
    searches meanwhile scan exactly. An interruption (Ctrl-C) or a writer's error stops every
    writer after its batch in flight, keeping what was embedded, and the index is built
    again in any case. Returns how many topics were embedded.
    """
    with engine.connect() as conn:
        low, high = conn.execute(sa.select(sa.func.min(topics.c.id), sa.func.max(topics.c.id))
                                 .where(LIVE)).one()
        rebuild = rebuild_worthwhile(conn, pending_count(conn))
    if low is None:
        return 0
    if rebuild:
        with engine.begin() as conn:
            drop_vector_index(conn)
    try:
        return _refresh_range(engine, provider, low, high, batch_size=batch_size,
                              writers=writers, on_batch=on_batch)
    finally:
        ensure_vector_index(engine, on_build=on_index)


def _refresh_range(engine: Engine, provider: EmbeddingProvider, low: int, high: int, *,
                   batch_size: int, writers: int,
                   on_batch: Callable[[RefreshReport], None]) -> int:
    step = (high - low) // writers + 1
    bounds = [(low - 1 + i * step, min(high, low - 1 + (i + 1) * step)) for i in range(writers)]

    stop = threading.Event()  # a failed writer, or Ctrl-C, stops the others between batches

    def write(after_id: int, up_to_id: int) -> int:
        embedded = 0
        try:
            while not stop.is_set():
                with engine.begin() as conn:
                    report = refresh_batch(conn, provider, after_id=after_id,
                                           up_to_id=up_to_id, batch_size=batch_size)
                if report.last_id is None:
                    break
                on_batch(report)
                embedded += report.embedded
                after_id = report.last_id
        except BaseException:
            stop.set()
            raise
        return embedded

    pool = ThreadPoolExecutor(writers)
    try:
        futures = [pool.submit(write, *bound) for bound in bounds]
        return sum(future.result() for future in futures)
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def mark_other_encoders_stale(conn: Connection, model_name: str) -> int:
    """Mark stale every live embedding made by another encoder than ``model_name`` (after a
    change of EMBEDDING_PROVIDER); returns how many.
    """
    return conn.execute(sa.update(topics).where(
        LIVE, ~topics.c.embedding_stale, topics.c.id == topic_embeddings.c.topic_id,
        topic_embeddings.c.model.is_distinct_from(model_name)).values(embedding_stale=True)
    ).rowcount


def pending_count(conn: Connection) -> int:
    """Live topics to embed: stale or never embedded (served by a partial index)."""
    return conn.execute(sa.select(sa.func.count()).select_from(topics)
                        .where(LIVE, _PENDING)).scalar_one()


def refresh_pending(conn: Connection, provider: EmbeddingProvider, *, deadline: float,
                    batch_size: int = BATCH_SIZE) -> int:
    """Refresh stale or missing embeddings, a batch at a time, until none is left or the
    deadline passes (one batch at least); returns how many were looked at.
    """
    checked, after_id = 0, 0
    while True:
        report = refresh_batch(conn, provider, after_id=after_id, pending_only=True,
                               batch_size=batch_size)
        if report.last_id is None:
            return checked
        checked += report.checked
        after_id = report.last_id
        if time.monotonic() > deadline:
            return checked


def keep_current(conn: Connection, topic_ids: list[int]) -> int:
    """With EMBED_ON_WRITE on, re-embed these topics where their text changed, in the
    caller's transaction (the chunk waits for the encoder); by default a no-op: the write
    has marked them stale, and they are refreshed before the next search. Returns how many
    were re-embedded.
    """
    if not topic_ids or not get_settings().embed_on_write:
        return 0
    return refresh_batch(conn, get_provider(), topic_ids=topic_ids,
                         batch_size=len(topic_ids)).embedded
