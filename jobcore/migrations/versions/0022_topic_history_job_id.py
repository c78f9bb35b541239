"""topic_history.batch_id holds the id of the job that wrote the row: it is renamed job_id
(``batch_id`` means an Anthropic message batch in llm_batches and batch_results_staging),
and its index with it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE topic_history RENAME COLUMN batch_id TO job_id")
    op.execute("ALTER INDEX ix_topic_history_batch RENAME TO ix_topic_history_job")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_topic_history_job RENAME TO ix_topic_history_batch")
    op.execute("ALTER TABLE topic_history RENAME COLUMN job_id TO batch_id")
