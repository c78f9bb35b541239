"""Neighbour search over topic embeddings (cosine similarity, 1 - pgvector's ``<=>``).

A topic's neighbours come from pgvector's HNSW index (iterative scan, so the live-topic
filter never starves it; ef_search 24), or from an exact scan when the catalogue holds at
most ``EXACT_SEARCH_MAX`` embedded topics: an exact scan costs about 0.9 us per stored
vector and an HNSW query about 0.5 ms, so exact is faster only below ~500 topics (and there
it is also exact). ``Searchers`` splits the searches of a sweep step over two backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from jobcore.db import driver_cursor
from jobcore.sql_rules import live_topic

# Exact search costs ~0.9 us per stored vector and query here, an HNSW query ~0.5 ms at
# any size (bench/dedup.py, scratch measurements on this 2-core machine): exact wins only
# below ~500 topics.
EXACT_SEARCH_MAX = 500
NEIGHBOURS_PER_QUERY = 8
HNSW_EF_SEARCH = 24  # as set for every session by db.SESSION_OPTIONS
SEARCH_CONNECTIONS = 2  # neighbour searches in flight at once (one core each, server side)


def search_method(conn: Connection) -> str:
    """'exact' for a catalogue of at most EXACT_SEARCH_MAX embedded live topics, else 'hnsw'."""
    count = conn.execute(sa.text(
        "SELECT count(*) FROM (SELECT 1 FROM topic_embeddings e JOIN topics t "
        f"ON t.id = e.topic_id WHERE {live_topic('t')} LIMIT :n) AS t"),
        {"n": EXACT_SEARCH_MAX + 1}).scalar_one()
    return "exact" if count <= EXACT_SEARCH_MAX else "hnsw"


_NEIGHBOURS = sa.text(
    f"""
    SELECT s.topic_id AS source_id, st.name AS source_name, n.id, n.name, n.similarity
    FROM topic_embeddings s
    JOIN topics st ON st.id = s.topic_id
    CROSS JOIN LATERAL (
        SELECT t.id, t.name, 1 - (e.embedding <=> s.embedding) AS similarity
        FROM topic_embeddings e
        JOIN topics t ON t.id = e.topic_id
        WHERE {live_topic('t')} AND e.topic_id <> s.topic_id
        ORDER BY e.embedding <=> s.embedding
        LIMIT :k
    ) AS n
    WHERE s.topic_id = ANY(:ids)
    """
)


_PLAN_FOR = sa.text(
    "SELECT set_config('enable_seqscan', :seqscan, true), "
    "set_config('enable_indexscan', :indexscan, true), set_config('hnsw.ef_search', :ef, true)"
)


class Searchers:
    """The caller's connection and ``SEARCH_CONNECTIONS - 1`` more of its engine, set up
    once for ``method`` for a sweep step: neighbour searches of many topics are split over
    them, one PostgreSQL backend (one core) each, without a settings round trip per query.
    The borrowed ones search in a transaction of their own, rolled back at the end (the
    search only reads); the caller's gets its settings back at the end.

        with Searchers(conn, "hnsw") as searchers:
            found = searchers.nearest(topic_ids)
    """

    def __init__(self, conn: Connection, method: str,
                 workers: int = SEARCH_CONNECTIONS) -> None:
        self.conn, self.method, self.workers = conn, method, workers
        self.connections: list[Connection] = []
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Searchers:
        self.connections = [self.conn]
        self.connections += [self.conn.engine.connect() for _ in range(self.workers - 1)]
        for each in self.connections:
            _plan_for(each, self.method, NEIGHBOURS_PER_QUERY)
        self._pool = ThreadPoolExecutor(self.workers - 1) if self.workers > 1 else None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for other in self.connections[1:]:
            other.rollback()
            other.close()
        if exc[0] is None:
            _restore_plan(self.conn)

    def nearest(self, topic_ids: list[int], *, k: int = NEIGHBOURS_PER_QUERY,
                names: dict[int, str] | None = None) -> dict[int, list[tuple[int, float]]]:
        """As ``nearest``, the topics split over the connections."""
        if k != NEIGHBOURS_PER_QUERY:  # a wider search (rare): ef_search follows k
            _plan_for(self.conn, self.method, k)
            found = nearest(self.conn, topic_ids, method=self.method, k=k, names=names,
                            configured=True)
            _plan_for(self.conn, self.method, NEIGHBOURS_PER_QUERY)
            return found
        if len(topic_ids) < 2 * self.workers or self._pool is None:
            return nearest(self.conn, topic_ids, method=self.method, names=names,
                           configured=True)
        slices = [topic_ids[i::self.workers] for i in range(self.workers)]

        def search(index: int) -> tuple[dict[int, list[tuple[int, float]]], dict[int, str]]:
            seen: dict[int, str] = {}
            return nearest(self.connections[index], slices[index], method=self.method, k=k,
                           names=seen, configured=True), seen

        futures = [self._pool.submit(search, i) for i in range(1, self.workers)]
        found, seen = search(0)
        for future in futures:
            part_found, part_names = future.result()
            found.update(part_found)
            seen.update(part_names)
        if names is not None:
            names.update(seen)
        return found


    def on_other(self, read: Callable[..., Any], *args: Any) -> Future:
        """``read(connection, *args)`` on a borrowed connection, in the background (for a
        read of committed rows that can overlap the caller's own statements).
        """
        if self._pool is None:
            done: Future = Future()
            done.set_result(read(self.conn, *args))
            return done
        return self._pool.submit(read, self.connections[1], *args)


def _plan_for(conn: Connection, method: str, k: int) -> None:
    # exact: no index; hnsw: the index even where the planner would scan a small table
    conn.execute(_PLAN_FOR, {"seqscan": "off" if method == "hnsw" else "on",
                             "indexscan": "on" if method == "hnsw" else "off",
                             "ef": str(max(k, HNSW_EF_SEARCH))})


def _restore_plan(conn: Connection) -> None:
    conn.execute(_PLAN_FOR, {"seqscan": "on", "indexscan": "on", "ef": str(HNSW_EF_SEARCH)})


def nearest(conn: Connection, topic_ids: list[int], *, method: str,
            k: int = NEIGHBOURS_PER_QUERY, names: dict[int, str] | None = None,
            configured: bool = False) -> dict[int, list[tuple[int, float]]]:
    """Each topic's ``k`` nearest live topics with their similarity, best first (topics
    without an embedding are absent); the names of all of them go into ``names``. Runs in
    the caller's transaction (``configured``: the connection is set up for ``method`` and
    ``k`` already, as a Searchers connection is).
    """
    if not configured:
        _plan_for(conn, method, k)
    found: dict[int, list[tuple[int, float]]] = {}
    seen = names if names is not None else {}
    for source_id, source_name, neighbour_id, name, similarity in conn.execute(
            _NEIGHBOURS, {"ids": topic_ids, "k": k}):
        found.setdefault(source_id, []).append((neighbour_id, float(similarity)))
        seen[source_id], seen[neighbour_id] = source_name, name
    for neighbours in found.values():
        neighbours.sort(key=lambda item: -item[1])
    if not configured:
        _restore_plan(conn)
    return found


def id_array(ids: Iterable[int]) -> str:
    """Ids as a PostgreSQL array literal, for ``CAST(:ids AS bigint[])``: a long list of
    ints binds many times faster this way than as a Python list.
    """
    return "{" + ",".join(map(str, ids)) + "}"


_NAMES = sa.text(
    f"""
    SELECT t.id, t.name FROM topics t JOIN topic_embeddings e ON e.topic_id = t.id
    WHERE t.id = ANY(CAST(:ids AS bigint[]))
      AND {live_topic('t')}
    """
)


def embedded_names(conn: Connection, topic_ids: list[int]) -> dict[int, str]:
    """The names of those of these topics that are live and embedded."""
    if not topic_ids:
        return {}
    return dict(conn.execute(_NAMES, {"ids": id_array(topic_ids)}).tuples().all())


_PAIR_VECTORS = (
    # vector_send: pgvector's binary form (dimensions, unused, then big-endian float4s)
    "SELECT e.topic_id, vector_send(e.embedding), t.name, " + live_topic("t") + " AS live "
    "FROM topic_embeddings e JOIN topics t ON t.id = e.topic_id "
    "WHERE e.topic_id = ANY(CAST(%s AS bigint[]))"
)


def pair_similarities(conn: Connection, pairs: list[tuple[int, int]]
                      ) -> dict[tuple[int, int], tuple[float, str]]:
    """For each (a, b) whose ``b`` is live and both embedded: the embeddings' cosine
    similarity and b's name. Each topic's vector is read once however many pairs it is in
    (a sweep step's pairs share their topics: about 50,000 pairs of 8,000 topics at a
    million), in binary, and the cosines are computed here.
    """
    if not pairs:
        return {}
    with driver_cursor(conn, binary=True) as cursor:
        cursor.execute(_PAIR_VECTORS, (id_array(sorted({i for p in pairs for i in p})),))
        rows = cursor.fetchall()
    row_of = {topic_id: row for row, (topic_id, *_rest) in enumerate(rows)}
    found = [(a, b) for a, b in pairs if a in row_of and b in row_of and rows[row_of[b]][3]]
    if not found:
        return {}
    cosines = _cosines([blob for _id, blob, _name, _live in rows],
                       [row_of[a] for a, _ in found], [row_of[b] for _, b in found])
    return {(a, b): (cosine, rows[row_of[b]][2])
            for (a, b), cosine in zip(found, cosines.tolist(), strict=True)}


def _cosines(blobs: list[bytes], left: list[int], right: list[int]) -> np.ndarray:
    """The cosine similarity of the vectors ``blobs[left[i]]`` and ``blobs[right[i]]``:
    pgvector's binary vectors (all of one dimension, as a typed column holds them), summed
    in float32 and divided in float64 as pgvector does, within [-1, 1]; two equal vectors
    exactly 1 (a name stored twice must reach a threshold of 1).
    """
    size = len(blobs[0])
    if any(len(blob) != size for blob in blobs):
        raise ValueError("stored embeddings differ in their dimensions")
    # each vector: int16 dimensions and int16 unused (one float's width), then the floats
    vectors = np.frombuffer(b"".join(blobs), dtype=">f4").reshape(len(blobs), size // 4)
    vectors = vectors[:, 1:].astype(np.float32)
    squares = np.einsum("ij,ij->i", vectors, vectors).astype(np.float64)
    left_rows, right_rows = np.asarray(left), np.asarray(right)
    dots = np.einsum("ij,ij->i", vectors[left_rows], vectors[right_rows]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosines = np.clip(dots / np.sqrt(squares[left_rows] * squares[right_rows]), -1.0, 1.0)
    same = {blob: row for row, blob in enumerate(blobs)}  # equal vectors share a row
    canonical = np.fromiter((same[blob] for blob in blobs), dtype=np.int64, count=len(blobs))
    cosines[(canonical[left_rows] == canonical[right_rows]) & (squares[left_rows] > 0)] = 1.0
    return np.nan_to_num(cosines, nan=0.0)  # a zero vector is like nothing
