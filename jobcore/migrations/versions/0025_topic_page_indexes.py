"""Indexes for a topic's page: the job errors that name a topic and the merges into it
(merges out of it, by loser, were indexed already).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_admin_job_errors_topic ON admin_job_errors (topic_id) "
               "WHERE topic_id IS NOT NULL")
    op.execute("CREATE INDEX ix_merges_winner ON merges (winner_topic_id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_merges_winner")
    op.execute("DROP INDEX ix_admin_job_errors_topic")
