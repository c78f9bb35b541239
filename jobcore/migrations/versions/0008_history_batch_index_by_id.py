"""topic_history's batch index also orders by id, so that a rollback reads its source job's
next history rows straight from the index (it sorted all of the job's rows every chunk).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX ix_topic_history_batch")
    op.execute("CREATE INDEX ix_topic_history_batch ON topic_history (batch_id, id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_topic_history_batch")
    op.execute("CREATE INDEX ix_topic_history_batch ON topic_history (batch_id)")
