"""What the chunk log says about each chunk besides its counts: who drove it (the user of
the page, the CLI or the API token) and the seconds it spent on a one-time load (an
embedding model, a sweep's name index) with what was loaded, so that rates and ETAs leave
the load out and a paused job can say who last drove it. A job's events may now record a
stuck chunk stopped by a person (``chunk_stopped``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE admin_job_chunks
            ADD COLUMN driven_by text,
            ADD COLUMN load_seconds double precision NOT NULL DEFAULT 0,
            ADD COLUMN loaded text
    """)
    op.execute("ALTER TABLE admin_job_events DROP CONSTRAINT admin_job_events_kind_check")
    op.execute("ALTER TABLE admin_job_events ADD CONSTRAINT admin_job_events_kind_check "
               "CHECK (kind IN ('failed', 'resumed', 'chunk_stopped'))")


def downgrade() -> None:
    op.execute("DELETE FROM admin_job_events WHERE kind = 'chunk_stopped'")
    op.execute("ALTER TABLE admin_job_events DROP CONSTRAINT admin_job_events_kind_check")
    op.execute("ALTER TABLE admin_job_events ADD CONSTRAINT admin_job_events_kind_check "
               "CHECK (kind IN ('failed', 'resumed'))")
    op.execute("""
        ALTER TABLE admin_job_chunks
            DROP COLUMN driven_by, DROP COLUMN load_seconds, DROP COLUMN loaded
    """)
