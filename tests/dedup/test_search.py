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
    yoga, pilates, golf, gone, bare, twin = (make_topic(n) for n in (
        "Yoga Fans", "Pilates Fans", "Golf Fans", "Old Yoga Fans", "Chess Fans", "Yoga Fans"))
    set_vector(engine, yoga, unit(0.0))
    set_vector(engine, pilates, [2.0 * x for x in unit(0.5)])  # not of unit length
    set_vector(engine, golf, unit(0.1, axis=3))  # another plane: orthogonal
    set_vector(engine, gone, unit(0.2))
    # the same name stored twice: the same vector, exactly 1 (a threshold of 1 reaches it)
    skewed = [0.1 * (i % 7) + 0.013 * i for i in range(len(unit(0.0)))]
    set_vector(engine, yoga, skewed)
    set_vector(engine, twin, list(skewed))
    with engine.begin() as conn:
        conn.execute(sa.update(topics).where(topics.c.id == gone).values(
            deleted_at=sa.func.now()))
    pairs = [(pilates, golf), (golf, pilates), (pilates, gone), (gone, pilates),
             (pilates, bare), (bare, pilates), (pilates, 10**9), (yoga, twin), (twin, yoga)]
    with engine.connect() as conn:
        found = pair_similarities(conn, pairs)
        exact = dict(((a, b), s) for a, b, s in conn.execute(sa.text(
            "SELECT a.topic_id, b.topic_id, 1 - (a.embedding <=> b.embedding) "
            "FROM topic_embeddings a, topic_embeddings b WHERE a.topic_id <> b.topic_id")))
    # b gone, b or a unembedded or unknown: no pair; a gone topic may still be the a side
    assert set(found) == {(pilates, golf), (golf, pilates), (gone, pilates), (yoga, twin),
                          (twin, yoga)}
    assert found[(gone, pilates)] == (pytest.approx(math.cos(0.3), abs=1e-6), "Pilates Fans")
    assert found[(pilates, golf)] == (pytest.approx(0.0, abs=1e-6), "Golf Fans")
    assert found[(yoga, twin)] == (1.0, "Yoga Fans") and found[(twin, yoga)][0] == 1.0
    for pair, (similarity, _name) in found.items():
        assert similarity == pytest.approx(exact[pair], abs=1e-6)
    with engine.connect() as conn:
        assert pair_similarities(conn, []) == {}
        assert pair_similarities(conn, [(bare, 10**9)]) == {}
