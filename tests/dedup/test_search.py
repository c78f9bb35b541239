"""Pair similarities: each topic's vector read once, the cosines computed in the process,
equal to pgvector's own cosine; a gone or unembedded topic's pairs left out.
"""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from jobcore.dedup.search import pair_similarities
from jobcore.schema import topics
from tests.dedup.vectors import set_vector, unit


def test_pair_cosines_are_pgvectors_and_leave_out_gone_and_unembedded_topics(
        engine, make_topic):
    yoga, pilates, golf, gone, bare = (make_topic(n) for n in (
        "Yoga Fans", "Pilates Fans", "Golf Fans", "Old Yoga Fans", "Chess Fans"))
    set_vector(engine, yoga, unit(0.0))
    set_vector(engine, pilates, [2.0 * x for x in unit(0.5)])  # not of unit length
    set_vector(engine, golf, unit(0.1, axis=3))  # another plane: orthogonal
    set_vector(engine, gone, unit(0.2))
    with engine.begin() as conn:
        conn.execute(sa.update(topics).where(topics.c.id == gone).values(
            deleted_at=sa.func.now()))
    pairs = [(yoga, pilates), (pilates, yoga), (yoga, golf), (yoga, gone), (gone, yoga),
             (yoga, bare), (bare, yoga), (yoga, 10**9)]
    with engine.connect() as conn:
        found = pair_similarities(conn, pairs)
        exact = dict(((a, b), s) for a, b, s in conn.execute(sa.text(
            "SELECT a.topic_id, b.topic_id, 1 - (a.embedding <=> b.embedding) "
            "FROM topic_embeddings a, topic_embeddings b WHERE a.topic_id <> b.topic_id")))
    # b gone, b or a unembedded or unknown: no pair; a gone topic may still be the a side
    assert set(found) == {(yoga, pilates), (pilates, yoga), (yoga, golf), (gone, yoga)}
    assert found[(yoga, pilates)] == (pytest.approx(math.cos(0.5), abs=1e-6), "Pilates Fans")
    assert found[(pilates, yoga)][1] == "Yoga Fans"
    assert found[(yoga, golf)][0] == pytest.approx(0.0, abs=1e-6)
    for pair, (similarity, _name) in found.items():
        assert similarity == pytest.approx(exact[pair], abs=1e-6)
    with engine.connect() as conn:
        assert pair_similarities(conn, []) == {}
        assert pair_similarities(conn, [(bare, 10**9)]) == {}
