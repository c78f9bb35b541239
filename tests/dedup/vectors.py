"""Hand-made embeddings for dedup tests: exact similarities instead of a model's."""

from __future__ import annotations

import math

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from jobcore.catalog.topic_store import select_topics, topic_row
from jobcore.dedup import embeddings
from jobcore.schema import EMBEDDING_DIMENSIONS, topic_embeddings, topics


def unit(angle: float, axis: int = 0) -> list[float]:
    """A unit vector at ``angle`` radians from basis vector ``axis`` towards ``axis + 1``
    (two such vectors have similarity cos(angle difference)).
    """
    vector = [0.0] * EMBEDDING_DIMENSIONS
    vector[axis] = math.cos(angle)
    vector[axis + 1] = math.sin(angle)
    return vector


def basis(axis: int) -> list[float]:
    vector = [0.0] * EMBEDDING_DIMENSIONS
    vector[axis] = 1.0
    return vector


def set_vector(engine: Engine, topic_id: int, vector: list[float]) -> None:
    """Store ``vector`` as the topic's current embedding (hash and model as the provider
    would stamp them, so that a refresh leaves it alone).
    """
    provider = embeddings.get_provider()
    with engine.begin() as conn:
        topic = topic_row(conn.execute(select_topics(topics.c.id == topic_id)).one())
        digest = embeddings.text_hash(embeddings.embedding_text(
            topic.name, topic.description, topic.classification))
        values = {"embedding": vector, "text_hash": digest, "model": provider.model_name}
        conn.execute(insert(topic_embeddings).values(topic_id=topic_id, **values)
                     .on_conflict_do_update(index_elements=["topic_id"], set_=values))
        conn.execute(sa.update(topics).where(topics.c.id == topic_id)
                     .values(embedding_stale=False))
