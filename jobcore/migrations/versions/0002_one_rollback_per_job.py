"""At most one live rollback per reclassify job, enforced by the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE UNIQUE INDEX uq_admin_jobs_one_rollback ON admin_jobs ((config ->> 'rollbackOf')) "
        "WHERE config ? 'rollbackOf' AND config ->> 'rollbackOf' IS NOT NULL "
        "AND status IN ('pending', 'processing', 'completed')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_admin_jobs_one_rollback")
