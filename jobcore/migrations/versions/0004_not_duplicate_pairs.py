"""Dedup and merge: pairs of topics an analyst marked "not duplicates" (so later sweeps do
not propose them), merges by loser, and at most one live undo per merge job.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE not_duplicate_pairs (
        low_topic_id bigint NOT NULL REFERENCES topics (id),
        high_topic_id bigint NOT NULL REFERENCES topics (id),
        job_id text REFERENCES admin_jobs (id) ON DELETE SET NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (low_topic_id, high_topic_id),
        CHECK (low_topic_id < high_topic_id)
    )""")
    op.execute("CREATE INDEX ix_not_duplicate_pairs_high ON not_duplicate_pairs "
               "(high_topic_id)")
    op.execute("CREATE INDEX ix_merges_loser ON merges (loser_topic_id)")
    op.execute("CREATE UNIQUE INDEX uq_admin_jobs_one_undo ON admin_jobs ((config ->> 'undoOf')) "
               "WHERE config ? 'undoOf' AND config ->> 'undoOf' IS NOT NULL "
               "AND status IN ('pending', 'processing', 'completed')")


def downgrade() -> None:
    op.execute("DROP INDEX uq_admin_jobs_one_undo")
    op.execute("DROP INDEX ix_merges_loser")
    op.execute("DROP TABLE not_duplicate_pairs")
