"""Who drives a job now (admin_jobs.driver): set by each chunk's driver, cleared when that
driver stops (a page's Stop, a closed tab, the end of a command), so a page can tell a
job being driven between two chunks from a paused one at once.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("admin_jobs", sa.Column("driver", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("admin_jobs", "driver")
