"""An index on admin_jobs.config for the jobs that came of a job (its rollback, retries,
sweeps, merges, undo: config @> {"rollbackOf": id} and the like), read by every job detail.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_admin_jobs_config ON admin_jobs USING gin (config jsonb_path_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_admin_jobs_config")
