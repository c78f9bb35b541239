"""Vectors off the write path: embeddings move from ``topics`` to ``topic_embeddings`` (one
row per embedded topic: vector, encoder, text hash), with the HNSW index there. A topic
write (a reclassification, a merge, a review edit) no longer adds an entry to the vector
graph: the HNSW index sat on ``topics``, and every non-HOT update of a topic inserted its
vector again. ``topics.embedding_stale`` now means "to embed": stale or never embedded (new
topics start marked), so the pending index reads one column.

The stored vectors are copied, not recomputed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE topic_embeddings (
        topic_id bigint PRIMARY KEY REFERENCES topics (id) ON DELETE CASCADE,
        embedding vector(384) NOT NULL,
        model text NOT NULL,
        text_hash text NOT NULL,
        embedded_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("""
    INSERT INTO topic_embeddings (topic_id, embedding, model, text_hash)
    SELECT id, embedding, coalesce(embedding_model, ''), coalesce(embedding_hash, '')
    FROM topics WHERE embedding IS NOT NULL""")
    op.execute("DROP INDEX ix_topics_embedding_pending")
    op.execute("DROP INDEX ix_topics_embedding_hnsw")
    op.execute("UPDATE topics SET embedding_stale = true "
               "WHERE embedding IS NULL AND NOT embedding_stale")
    op.execute("ALTER TABLE topics DROP COLUMN embedding, DROP COLUMN embedding_model, "
               "DROP COLUMN embedding_hash, ALTER COLUMN embedding_stale SET DEFAULT true")
    op.execute("CREATE INDEX ix_topics_embedding_pending ON topics (id) "
               "WHERE embedding_stale AND deleted_at IS NULL AND merged_into IS NULL")
    # built once over the copied vectors, not row by row
    op.execute("CREATE INDEX ix_topic_embeddings_hnsw ON topic_embeddings "
               "USING hnsw (embedding vector_cosine_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_topics_embedding_pending")
    op.execute("ALTER TABLE topics ADD COLUMN embedding vector(384), "
               "ADD COLUMN embedding_model text, ADD COLUMN embedding_hash text, "
               "ALTER COLUMN embedding_stale SET DEFAULT false")
    op.execute("UPDATE topics t SET embedding = e.embedding, embedding_model = e.model, "
               "embedding_hash = e.text_hash FROM topic_embeddings e WHERE e.topic_id = t.id")
    op.execute("UPDATE topics SET embedding_stale = false "
               "WHERE embedding IS NULL AND embedding_stale")
    op.execute("DROP TABLE topic_embeddings")
    op.execute("CREATE INDEX ix_topics_embedding_pending ON topics (id) "
               "WHERE (embedding_stale OR embedding IS NULL) "
               "AND deleted_at IS NULL AND merged_into IS NULL")
    op.execute("CREATE INDEX ix_topics_embedding_hnsw ON topics "
               "USING hnsw (embedding vector_cosine_ops)")
