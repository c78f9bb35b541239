"""Writes mark embeddings stale instead of waiting for the encoder: ``embedding_stale`` on
topics, and a partial index of the live topics whose embedding is stale or missing (what
a dedup sweep or ``embed`` refreshes before anything searches).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE topics ADD COLUMN embedding_stale boolean NOT NULL DEFAULT false")
    # embeddings made before may already trail their text (manual edits never re-embedded):
    # the first refresh checks each one's hash, and re-encodes only those that differ
    op.execute("UPDATE topics SET embedding_stale = true WHERE embedding IS NOT NULL")
    op.execute("CREATE INDEX ix_topics_embedding_pending ON topics (id) "
               "WHERE (embedding_stale OR embedding IS NULL) "
               "AND deleted_at IS NULL AND merged_into IS NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_topics_embedding_pending")
    op.execute("ALTER TABLE topics DROP COLUMN embedding_stale")
