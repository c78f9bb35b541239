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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from jobcore.catalog import segment_names
from jobcore.catalog.topic_store import LIVE
from jobcore.classify.taxonomy import Classification
from jobcore.config import get_settings
from jobcore.dedup.encoders import EmbeddingProvider, get_provider
from jobcore.schema import topic_embeddings, topics

BATCH_SIZE = 256


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

# One statement a batch; the vectors go as pgvector's text form in one JSON array.
_WRITE = sa.text(
    """
    INSERT INTO topic_embeddings AS e (topic_id, embedding, model, text_hash)
    SELECT v.id, CAST(v.embedding AS vector), :model, v.hash
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id bigint, embedding text, hash text)
    ON CONFLICT (topic_id) DO UPDATE SET embedding = excluded.embedding,
        model = excluded.model, text_hash = excluded.text_hash, embedded_at = now()
    """
)

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
        vectors = provider.encode([text for _, text, _ in stale])
        conn.execute(_WRITE, {"model": provider.model_name, "rows": json.dumps([
            {"id": topic_id, "embedding": _vector_text(vector), "hash": digest}
            for (topic_id, _, digest), vector in zip(stale, vectors, strict=True)])})
    if marked:
        conn.execute(_CURRENT_AGAIN, {"rows": json.dumps(marked)})
    return RefreshReport(len(rows), len(stale), rows[-1].id)


def _vector_text(vector: Sequence[float]) -> str:
    """pgvector's text form of a vector (``str`` of a numpy array is not one)."""
    return "[" + ",".join(f"{float(x):.9g}" for x in vector) + "]"


def refresh_all(engine: Engine, provider: EmbeddingProvider, *, batch_size: int = BATCH_SIZE,
                writers: int = WRITERS,
                on_batch: Callable[[RefreshReport], None] = lambda report: None) -> int:
    """``refresh_batch`` over the whole live catalogue, a transaction a batch, the id range
    split over ``writers`` connections that write in parallel; ``on_batch`` hears of every
    batch (from the writers' threads). An interruption (Ctrl-C) or a writer's error stops
    every writer after its batch in flight, keeping what was embedded. Returns how many
    topics were embedded.
    """
    with engine.connect() as conn:
        low, high = conn.execute(sa.select(sa.func.min(topics.c.id), sa.func.max(topics.c.id))
                                 .where(LIVE)).one()
    if low is None:
        return 0
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
