"""Analysts' decisions on a sweep's clusters (accept, another winner, a member removed,
reset), kept on the server as they are made, with who and when: a reload, a second tab or
a second analyst goes on where the review stands, and a decision can be undone.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_decisions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("job_id", sa.Text, sa.ForeignKey("admin_jobs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("cluster", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("topic_id", sa.BigInteger, nullable=True),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("action IN ('accept', 'unaccept', 'winner', 'remove', 'reset')",
                           name="cluster_decisions_action_check"),
        sa.CheckConstraint("(action IN ('winner', 'remove')) = (topic_id IS NOT NULL)",
                           name="cluster_decisions_topic_check"),
        sa.CheckConstraint("cluster >= 1", name="cluster_decisions_cluster_check"),
    )
    op.create_index("ix_cluster_decisions_job", "cluster_decisions", ["job_id", "id"])


def downgrade() -> None:
    op.drop_table("cluster_decisions")
